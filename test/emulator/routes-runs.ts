/** Sessions and runs: /v1/loops/sessions*, /v1/loops/runs*. */
import { createRunFromBody } from './create-run.js';
import { teardown } from './lifecycle.js';
import { type Resp, detail, json, validationError } from './responses.js';
import { deleteCheckpointsOf } from './routes-checkpoints.js';
import type { Ctx, Route } from './router.js';
import { type RunState, type World, newestFirst } from './store.js';
import type { DeactivatedResource } from './types.js';
import { CREATE_SESSION_FIELDS, readJsonBody, validateObject } from './validation.js';
import { runView } from './views.js';

function createSession(world: World, ctx: Ctx): Resp {
  const body = readJsonBody(ctx.rawBody, ctx.contentType, false);
  if (!body.ok) return body.resp;
  const errors = body.value ? validateObject(CREATE_SESSION_FIELDS, body.value) : [];
  if (errors.length > 0) return validationError(errors);
  const tp = body.value?.['training_project_id'];
  const s = world.store.addSession(typeof tp === 'string' ? tp : null, ctx.now);
  return json(200, { session: { id: s.id } });
}

function getSession(world: World, _ctx: Ctx, [id]: string[]): Resp {
  const s = world.store.sessions.get(id ?? '');
  return s ? json(200, { session: { id: s.id } }) : detail(404, 'Session not found');
}

function createRun(world: World, ctx: Ctx): Resp {
  const parsed = readJsonBody(ctx.rawBody, ctx.contentType, true);
  if (!parsed.ok) return parsed.resp;
  const created = createRunFromBody(world, parsed.value ?? {}, { email: ctx.email, at: ctx.now, now: ctx.now, viaApi: true });
  return created.ok ? json(200, { run: runView(world, created.run, ctx.now) }) : created.resp;
}

/** Reads lag behind writes for readAfterWriteMs after a run is created (none: always seen). */
export function visible(x: { createdAt: number; visibleAt: number }, now: number): boolean {
  return x.visibleAt <= x.createdAt || now >= x.visibleAt;
}

/** The caller's runs, or the organization's with scope=org; filters combine; newest first. */
function listRuns(world: World, ctx: Ctx): Resp {
  const q = ctx.url.searchParams;
  const runId = q.get('run_id');
  const baseModel = q.get('base_model');
  const org = q.get('scope') === 'org';
  const list = [...world.store.runs.values()]
    .filter((r) => visible(r, ctx.now) && (org || r.email === ctx.email))
    .filter((r) => (runId === null || r.id === runId) && (baseModel === null || r.baseModel === baseModel))
    .sort(newestFirst)
    .map((r) => runView(world, r, ctx.now));
  return json(200, { runs: list });
}

function getRun(world: World, ctx: Ctx, [id]: string[]): Resp {
  const r = world.store.runs.get(id ?? '');
  return r && visible(r, ctx.now) ? json(200, { run: runView(world, r, ctx.now) }) : detail(404, 'Run not found');
}

/**
 * Tears down the run's deployment (every run on it goes INACTIVE). A run already INACTIVE
 * answers as deactivateInactive says; with 'ok' its deployment is torn down too if anything
 * still runs on it — the harsh reading of the facts.
 */
export function deactivateRun(world: World, r: RunState | undefined, now: number): Resp {
  if (!r) return detail(404, 'Run not found');
  if (!r.active && world.config.deactivateInactive === 'conflict') return detail(409, 'Run is already inactive');
  if (!r.active && world.config.deactivateInactive === 'not_found') return detail(404, 'Run not found');
  teardown(world, r.deployment, now);
  const out: DeactivatedResource = { id: r.id, base_model: r.baseModel, user: { email: r.email } };
  return json(200, out);
}

/**
 * DELETE /v1/loops/runs/{id}: deactivates the run and deletes its checkpoints → {id,
 * kept_checkpoints}. Never a cleanup tool for the action: it exists here so that a test can
 * show it is never called.
 */
function deleteRun(world: World, ctx: Ctx, [id]: string[]): Resp {
  const r = world.store.runs.get(id ?? '');
  if (!r) return detail(404, 'Run not found');
  teardown(world, r.deployment, ctx.now);
  deleteCheckpointsOf(world, r.id);
  return json(200, { id: r.id, kept_checkpoints: [] });
}

export const RUN_ROUTES: Route[] = [
  { pattern: /^\/v1\/loops\/sessions$/, methods: { POST: createSession } },
  { pattern: /^\/v1\/loops\/sessions\/([^/]+)$/, methods: { GET: getSession } },
  { pattern: /^\/v1\/loops\/runs$/, methods: { GET: listRuns, POST: createRun } },
  { pattern: /^\/v1\/loops\/runs\/([^/]+)$/, methods: { GET: getRun, DELETE: deleteRun } },
  {
    pattern: /^\/v1\/loops\/runs\/([^/]+)\/deactivate$/,
    methods: { POST: (world, ctx, [id]) => deactivateRun(world, world.store.runs.get(id ?? ''), ctx.now) },
  },
];
