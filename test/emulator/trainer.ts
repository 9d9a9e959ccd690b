/**
 * The trainers' own server, when options.trainerBaseUrl is 'emulator': a run's base_url is then
 * `${url}/trainer/{deployment id}`, and this answers there the two routes the SDK calls on a
 * trainer (reference §7: `/health` and `GET /policy_version` appear in the SDK docs). Nothing in
 * the actions calls a trainer; this exists so that a trainer URL the emulator hands out (the
 * demo prints it) answers.
 * Facts: the two paths. ASSUMED (not published): the bodies (`{}` for health, read by its status
 * code; `{"policy_version": 0}`, the version of a trainer that has published no weights, since
 * the emulator does not train), that they answer with the API key like the sampler does, that a
 * trainer not up yet answers 503 and a stopped or failed one 404 (as the samplers here do), and
 * that a serverless run's trainer answers (its run has a base_url; no deployment shows a status).
 * A request neither wakes a scaled-to-zero trainer nor counts as use (not modelled).
 */
import { TERMINAL_TRAINER } from './defaults.js';
import { trainerStatus } from './lifecycle.js';
import { type Resp, detail, json } from './responses.js';
import type { Ctx, Route } from './router.js';
import type { DeploymentState, World } from './store.js';

/** Where a trainer says it lives (a run's and its deployment's base_url). */
export function trainerUrl(world: World, d: DeploymentState): string {
  const how = world.config.trainerBaseUrl;
  if (typeof how === 'function') return how(d.id);
  if (how === 'emulator') return `${world.url}/trainer/${d.id}`;
  return `https://model-${d.trainerModelId}.api.baseten.co/environments/loops-trainer/sync`;
}

/** A serverless run's trainer side has this status (create-run.ts): no deployment, nothing to wait for. */
const UP = new Set(['RUNNING', 'SERVERLESS']);

function answer(body: unknown): (world: World, ctx: Ctx, params: string[]) => Resp {
  return (world, ctx, [id]) => {
    const d = world.store.deployments.get(id ?? '');
    if (!d || world.config.trainerBaseUrl !== 'emulator') return detail(404, 'Not Found');
    const status = trainerStatus(d, ctx.now);
    if (UP.has(status)) return json(200, body);
    if (TERMINAL_TRAINER.has(status)) return detail(404, 'Not Found');
    return detail(503, 'Trainer is not ready');
  };
}

/** True for the trainers' paths (they are not the management API: no API rate limit). */
export function isTrainerPath(pathname: string): boolean {
  return pathname.startsWith('/trainer/');
}

export const TRAINER_ROUTES: Route[] = [
  { pattern: /^\/trainer\/([^/]+)\/health$/, methods: { GET: answer({}) } },
  { pattern: /^\/trainer\/([^/]+)\/policy_version$/, methods: { GET: answer({ policy_version: 0 }) } },
];
