/**
 * POST /v1/loops/runs, shared by the route and emulator.createRun(): validate the body, then
 * hand the run a reused deployment (best effort, as the API describes reuse) or a fresh one.
 */
import { DEAD_SAMPLER, TERMINAL_TRAINER } from './defaults.js';
import { samplerStatus, touch, trainerStatus } from './lifecycle.js';
import { type Resp, detail, validationError } from './responses.js';
import { type DeploymentState, type RunState, type SamplerState, type World, newestFirst } from './store.js';
import { type Story, logEntries, storyFor } from './stories.js';
import { Track } from './timeline.js';
import { validateObject } from './validation.js';

export type CreateRunResult = { ok: true; run: RunState } | { ok: false; resp: Resp };

/** Who creates the run, when it is created (server clock), and the time now. */
export interface Creation {
  email: string;
  at: number;
  now: number;
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);

/**
 * The deployment named by reuse_from_run_id (or, deprecated, the newest run of that session and
 * base model), when it can be reused: same base model, replicas 1, trainer not STOPPED, FAILED or
 * PREEMPTED, sampler not failed or unhealthy. Otherwise undefined: a fresh deployment.
 */
function findReusable(world: World, body: Record<string, unknown>, now: number): DeploymentState | undefined {
  if (num(body['replicas'], 1) !== 1) return undefined;
  const baseModel = body['base_model'];
  const byRun = body['reuse_from_run_id'];
  const bySession = body['reuse_from_session_id'];
  let candidate: RunState | undefined;
  if (typeof byRun === 'string') {
    candidate = world.store.runs.get(byRun);
  } else if (typeof bySession === 'string') {
    const runs = [...world.store.runs.values()].filter((r) => r.sessionId === bySession && r.baseModel === baseModel);
    candidate = runs.sort(newestFirst)[0];
  }
  if (!candidate || candidate.baseModel !== baseModel) return undefined;
  const d = candidate.deployment;
  if (TERMINAL_TRAINER.has(trainerStatus(d, now)) || DEAD_SAMPLER.has(samplerStatus(d, now))) return undefined;
  return d;
}

function newSampler(world: World, baseModel: string, c: Creation, story: Story): SamplerState {
  const { store, config } = world;
  const modelDeploymentId = store.newId();
  return {
    id: store.newId(),
    modelId: store.newId(),
    modelDeploymentId,
    baseModel,
    createdAt: c.at,
    urlAt: c.at + config.samplerUrlDelayMs,
    track: new Track(c.at, story.sampler),
    email: c.email,
    adapters: [],
    logs: logEntries(c.at, story.samplerLogs, `sampler-${modelDeploymentId}-0`),
  };
}

function newDeployment(world: World, body: Record<string, unknown>, c: Creation): DeploymentState {
  const { store, config } = world;
  const baseModel = body['base_model'] as string;
  const id = store.newId();
  const path = typeof body['path'] === 'string' ? body['path'] : undefined;
  const story = storyFor(config.story, { baseModel, checkpointPath: path, trainer: config.trainerTimeline, sampler: config.samplerTimeline });
  const d: DeploymentState = {
    id,
    baseModel,
    baseUrl: `https://model-${store.newId()}.api.baseten.co/environments/loops-trainer/sync`,
    createdAt: c.at,
    visibleAt: c.at + config.readAfterWriteMs,
    track: new Track(c.at, story.trainer),
    availability: story.availability ?? (body['availability_model'] === 'spot' ? 'spot' : 'dedicated'),
    nodeCount: num(body['replicas'], 1),
    sampler: newSampler(world, baseModel, c, story),
    runIds: [],
    email: c.email,
    lastUsed: c.at,
    scaleDownDelaySeconds: num(body['scale_down_delay_seconds'], 3600),
    idleHandled: undefined,
    logs: logEntries(c.at, story.trainerLogs, `trainer-${id}-0`),
  };
  store.deployments.set(id, d);
  return d;
}

/** The older runs on a reused deployment become INACTIVE; it stays as it is (even SCALED_TO_ZERO). */
function handOver(world: World, d: DeploymentState, body: Record<string, unknown>, c: Creation): void {
  for (const r of world.store.runsOn(d)) r.active = false;
  d.scaleDownDelaySeconds = num(body['scale_down_delay_seconds'], 3600);
  touch(d, c.now);
}

export function createRunFromBody(world: World, body: Record<string, unknown>, c: Creation): CreateRunResult {
  const { store, config } = world;
  const errors = validateObject(config.createRunFields, body);
  if (errors.length > 0) return { ok: false, resp: validationError(errors) };
  const sessionId = body['session_id'] as string;
  if (!store.sessions.has(sessionId)) return { ok: false, resp: detail(404, 'Session not found') };
  const baseModel = body['base_model'] as string;
  const reused = findReusable(world, body, c.now);
  if (reused) handOver(world, reused, body, c);
  const deployment = reused ?? newDeployment(world, body, c);
  const run: RunState = {
    id: store.newId(),
    seq: store.nextSeq(),
    sessionId,
    name: typeof body['name'] === 'string' ? body['name'] : baseModel,
    baseModel,
    createdAt: c.at,
    visibleAt: c.at + config.readAfterWriteMs,
    active: true,
    deployment,
    exposeDeploymentId: config.deploymentIdOnRuns,
    loraRank: num(body['lora_rank'], 64),
    email: c.email,
  };
  store.runs.set(run.id, run);
  deployment.runIds.push(run.id);
  return { ok: true, run };
}
