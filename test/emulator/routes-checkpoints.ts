/**
 * Checkpoints: the list (exactly one of run_id, base_model, checkpoint_path), and the newer
 * routes that delete one and set its TTL. DELETE really deletes: the checkpoint is gone from
 * every later answer (the action must never call it; the tests can see that it does not).
 */
import { type Resp, detail, json, validationError } from './responses.js';
import type { Ctx, Route } from './router.js';
import type { World } from './store.js';
import type { CheckpointSpec } from './types.js';
import { CHECKPOINT_PATH_PATTERN, readJsonBody } from './validation.js';
import { checkpointId, checkpointView } from './views.js';

const runOf = (path: string): string => /^bt:\/\/loops:([^/]+)\//.exec(path)?.[1] ?? '';

function listCheckpoints(world: World, ctx: Ctx): Resp {
  const q = ctx.url.searchParams;
  const path = q.get('checkpoint_path');
  if (path !== null && !new RegExp(CHECKPOINT_PATH_PATTERN).test(path)) {
    return validationError([
      {
        type: 'string_pattern_mismatch',
        loc: ['query', 'checkpoint_path'],
        msg: `String should match pattern '${CHECKPOINT_PATH_PATTERN}'`,
        input: path,
        ctx: { pattern: CHECKPOINT_PATH_PATTERN },
      },
    ]);
  }
  const given = ['run_id', 'base_model', 'checkpoint_path'].filter((k) => q.has(k)).length;
  if (given !== 1) return detail(400, 'Exactly one of run_id, base_model or checkpoint_path is required');
  const views = world.config.checkpoints.map((c) => checkpointView(world, c));
  const runId = q.get('run_id');
  const baseModel = q.get('base_model');
  const found = world.config.checkpoints.flatMap((c, i) => {
    const view = views[i];
    const match = path !== null ? c.path === path : runId !== null ? runOf(c.path) === runId : view?.base_model === baseModel;
    return match && view ? [view] : [];
  });
  return json(200, { checkpoints: found });
}

function find(world: World, id: string | undefined): CheckpointSpec | undefined {
  return world.config.checkpoints.find((c) => checkpointId(c.path) === id);
}

/** DELETE /v1/loops/checkpoints/{id} → {id, run_id, checkpoint_id, target, path}. */
function deleteCheckpoint(world: World, _ctx: Ctx, [id]: string[]): Resp {
  const spec = find(world, id);
  if (!spec) return detail(404, 'Checkpoint not found');
  const view = checkpointView(world, spec);
  world.config.checkpoints = world.config.checkpoints.filter((c) => c !== spec);
  return json(200, { id: view.id, run_id: view.run_id, checkpoint_id: view.checkpoint_id, target: view.target, path: spec.path });
}

/** PUT /v1/loops/checkpoints/{id}/ttl with {ttl_seconds: 3600..315360000 | null}. */
function setTtl(world: World, ctx: Ctx, [id]: string[]): Resp {
  const spec = find(world, id);
  if (!spec) return detail(404, 'Checkpoint not found');
  const body = readJsonBody(ctx.rawBody, ctx.contentType, true);
  if (!body.ok) return body.resp;
  const ttl = body.value?.['ttl_seconds'];
  if (ttl !== null && !(typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 3600 && ttl <= 315_360_000)) {
    return detail(422, 'ttl_seconds must be null or a whole number from 3600 to 315360000');
  }
  spec.expires_at = ttl === null ? null : ctx.now + ttl * 1000;
  return json(200, checkpointView(world, spec));
}

/** Runs' checkpoints go with DELETE /v1/loops/runs/{id}. */
export function deleteCheckpointsOf(world: World, runId: string): void {
  world.config.checkpoints = world.config.checkpoints.filter((c) => runOf(c.path) !== runId);
}

export const CHECKPOINT_ROUTES: Route[] = [
  { pattern: /^\/v1\/loops\/checkpoints$/, methods: { GET: listCheckpoints }, capabilitiesOnly: true },
  { pattern: /^\/v1\/loops\/checkpoints\/([^/]+)$/, methods: { DELETE: deleteCheckpoint } },
  { pattern: /^\/v1\/loops\/checkpoints\/([^/]+)\/ttl$/, methods: { PUT: setTtl } },
];
