/** The route table: API routes, then the samplers' vLLM routes and the trainers' routes; auth has already passed. */
import { type Resp, detail } from './responses.js';
import { CHECKPOINT_ROUTES } from './routes-checkpoints.js';
import { RUN_ROUTES } from './routes-runs.js';
import { INFRA_ROUTES } from './routes-infra.js';
import { LOG_ROUTES } from './logs.js';
import { SAMPLER_ROUTES } from './sampler.js';
import { TRAINER_ROUTES } from './trainer.js';
import type { World } from './store.js';

/** One authenticated request, as a route sees it. */
export interface Ctx {
  method: string;
  url: URL;
  rawBody: string;
  contentType: string | undefined;
  /** The caller's user (from the API key). */
  email: string;
  /** Server clock, read once for the request. */
  now: number;
}

export type Handler = (world: World, ctx: Ctx, params: string[]) => Resp;

export interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
  /** Only present when capabilities are on (an older API lacks them). */
  capabilitiesOnly?: boolean;
}

const ROUTES: Route[] = [...RUN_ROUTES, ...INFRA_ROUTES, ...CHECKPOINT_ROUTES, ...LOG_ROUTES, ...SAMPLER_ROUTES, ...TRAINER_ROUTES];

/** The endpoint a request goes to (method and route, whatever the ids in the path), for the rate limits. */
export function endpointOf(method: string, pathname: string): string {
  const r = ROUTES.find((x) => x.pattern.test(pathname));
  return `${method} ${r ? r.pattern.source : pathname}`;
}

export function route(world: World, ctx: Ctx): Resp {
  for (const r of ROUTES) {
    const m = r.pattern.exec(ctx.url.pathname);
    if (!m) continue;
    if (r.capabilitiesOnly && !world.config.capabilities) return detail(404, 'Not Found');
    const handler = r.methods[ctx.method];
    if (!handler) return detail(405, 'Method Not Allowed', { Allow: Object.keys(r.methods).join(', ') });
    let params: string[];
    try {
      params = m.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      return detail(404, 'Not Found');
    }
    return handler(world, ctx, params);
  }
  return detail(404, 'Not Found');
}
