/** Deployments, samplers, capabilities and checkpoints. */
import { teardown } from './lifecycle.js';
import { type Resp, detail, json } from './responses.js';
import type { Ctx, Route } from './router.js';
import { visible } from './routes-runs.js';
import type { DeploymentState, World } from './store.js';
import { serverlessFor } from './serverless.js';
import { deploymentView, samplerView } from './views.js';

/** Visible deployments (with `serverless`, the serverless runs' samplers too), the caller's own or (scope=org) all, newest first. */
function listed(world: World, ctx: Ctx, serverless = false): DeploymentState[] {
  const org = ctx.url.searchParams.get('scope') === 'org';
  return [...world.store.deployments.values()]
    .filter((d) => visible(d, ctx.now) && (org || d.email === ctx.email) && (serverless || !d.serverless))
    .reverse()
    .sort((a, b) => b.createdAt - a.createdAt);
}

function findDeployment(world: World, ctx: Ctx, id: string | undefined): DeploymentState | undefined {
  const d = world.store.deployments.get(id ?? '');
  return d && !d.serverless && visible(d, ctx.now) ? d : undefined;
}

/** Every status (the API returns terminal ones too; clients filter). */
function listDeployments(world: World, ctx: Ctx): Resp {
  return json(200, { deployments: listed(world, ctx).map((d) => deploymentView(world, d, ctx.now)) });
}

function getDeployment(world: World, ctx: Ctx, [id]: string[]): Resp {
  const d = findDeployment(world, ctx, id);
  return d ? json(200, { deployment: deploymentView(world, d, ctx.now) }) : detail(404, 'Deployment not found');
}

/** Shuts the deployment down: trainer STOPPED, sampler INACTIVE, its runs INACTIVE. */
function deactivateDeployment(world: World, ctx: Ctx, [id]: string[]): Resp {
  const d = world.store.deployments.get(id ?? '');
  if (!d || d.serverless) return detail(404, 'Deployment not found');
  teardown(world, d, ctx.now);
  return json(200, { id: d.id, base_model: d.baseModel, user: { email: d.email } });
}

function listSamplers(world: World, ctx: Ctx): Resp {
  return json(200, { samplers: listed(world, ctx, true).map((d) => samplerView(world, d, ctx.now)) });
}

function getSampler(world: World, ctx: Ctx, [id]: string[]): Resp {
  const d = [...world.store.deployments.values()].find((x) => x.sampler.id === id && visible(x, ctx.now));
  return d ? json(200, { sampler: samplerView(world, d, ctx.now) }) : detail(404, 'Sampler not found');
}

function getCapabilities(world: World, ctx: Ctx): Resp {
  const model = ctx.url.searchParams.get('model');
  const list = world.config.models
    .filter((m) => model === null || model === '' || m.model_name === model)
    .map((m) => {
      const out: Record<string, unknown> = {
        model_name: m.model_name,
        max_context_length: m.max_context_length,
        supports_vision_language: m.supports_vision_language,
      };
      if (m.max_seq_len !== undefined) out['max_seq_len'] = m.max_seq_len;
      if (m.enabled !== undefined) out['enabled'] = m.enabled;
      // "Each model in the response has a serverless field"; the limits beside it are this emulator's guess.
      out['serverless'] = serverlessFor(world.config, m);
      if (out['serverless'] && m.serverless_max_lora_rank !== undefined) out['serverless_max_lora_rank'] = m.serverless_max_lora_rank;
      if (out['serverless'] && m.serverless_max_seq_len !== undefined) out['serverless_max_seq_len'] = m.serverless_max_seq_len;
      return out;
    });
  return json(200, { supported_models: list });
}

export const INFRA_ROUTES: Route[] = [
  { pattern: /^\/v1\/loops\/deployments$/, methods: { GET: listDeployments } },
  { pattern: /^\/v1\/loops\/deployments\/([^/]+)$/, methods: { GET: getDeployment } },
  { pattern: /^\/v1\/loops\/deployments\/([^/]+)\/deactivate$/, methods: { POST: deactivateDeployment } },
  { pattern: /^\/v1\/loops\/samplers$/, methods: { GET: listSamplers } },
  { pattern: /^\/v1\/loops\/samplers\/([^/]+)$/, methods: { GET: getSampler } },
  { pattern: /^\/v1\/loops\/capabilities$/, methods: { GET: getCapabilities }, capabilitiesOnly: true },
];
