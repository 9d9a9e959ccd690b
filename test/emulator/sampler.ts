/**
 * The samplers' own server: vLLM's OpenAI-compatible GET {base_url}/v1/models, served at
 * /sampler/{model_id}/v1/models. A SCALED_TO_ZERO sampler wakes on a request.
 */
import { DEFAULT_MAX_MODEL_LEN, NOT_READY_SAMPLER } from './defaults.js';
import { samplerStatus, touch, wake } from './lifecycle.js';
import { type Resp, detail, json } from './responses.js';
import type { Ctx, Route } from './router.js';
import type { DeploymentState, World } from './store.js';
import type { VllmModel, VllmModelList } from './types.js';

function maxModelLen(world: World, baseModel: string): number {
  const m = world.config.models.find((x) => x.model_name === baseModel);
  return m ? (m.max_seq_len ?? m.max_context_length) : DEFAULT_MAX_MODEL_LEN;
}

/** Adapters first, then the base model: clients must pick the entry without a parent. */
export function modelList(world: World, d: DeploymentState, now: number): VllmModelList {
  const base = d.sampler.baseModel;
  const card = (id: string, root: string, parent: string | null): VllmModel => ({
    id,
    object: 'model',
    created: Math.floor(now / 1000),
    owned_by: 'vllm',
    root,
    parent,
    max_model_len: maxModelLen(world, base),
    permission: [],
  });
  const adapters = d.sampler.adapters.map((a) => card(a.name, a.path, base));
  return { object: 'list', data: [...adapters, card(base, base, null)] };
}

/** Where published LoRA weights live (the root vLLM reports for an adapter). */
export function adapterPath(runId: string, name: string): string {
  return `bt://loops:${runId}/sampler_weights/${name}`;
}

function models(world: World, ctx: Ctx, [modelId]: string[]): Resp {
  const d = world.store.samplerByModelId(modelId ?? '');
  if (!d) return detail(404, 'Not Found');
  const status = samplerStatus(d, ctx.now);
  if (status === 'ACTIVE') {
    touch(d, ctx.now);
    return json(200, modelList(world, d, ctx.now));
  }
  if (status === 'SCALED_TO_ZERO') {
    wake(world, d, ctx.now);
    return detail(503, 'Sampler is not ready');
  }
  if (NOT_READY_SAMPLER.has(status)) {
    touch(d, ctx.now);
    return detail(503, 'Sampler is not ready');
  }
  return detail(404, 'Not Found'); // INACTIVE, DEACTIVATING or failed
}

/** True for the samplers' paths (they are not the management API: no API rate limit). */
export function isSamplerPath(pathname: string): boolean {
  return pathname.startsWith('/sampler/');
}

export const SAMPLER_ROUTES: Route[] = [{ pattern: /^\/sampler\/([^/]+)\/v1\/models$/, methods: { GET: models } }];
