/**
 * POST /v1/loops/runs, shared by the route and emulator.createRun(): validate the body, choose
 * the availability mode (serverless.ts), then hand the run a reused deployment (best effort, as
 * the API describes reuse), a fresh one, or — serverless — only a sampler.
 */
import { DEAD_SAMPLER, TERMINAL_TRAINER } from './defaults.js';
import { samplerStatus, touch, trainerStatus } from './lifecycle.js';
import { type Resp, detail, validationError } from './responses.js';
import { type DeploymentState, type RunState, type SamplerState, type World, newestFirst } from './store.js';
import { capacityRefusal, chooseMode } from './serverless.js';
import { type Story, logEntries, storyFor } from './stories.js';
import { Track } from './timeline.js';
import { validateObject } from './validation.js';

export type CreateRunResult = { ok: true; run: RunState } | { ok: false; resp: Resp };

/** Who creates the run, when it is created (server clock), and the time now. */
export interface Creation {
  email: string;
  at: number;
  now: number;
  /** A create through the API, which capacity refusals apply to (not a run a test plants). */
  viaApi?: boolean;
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
  if (!candidate || candidate.baseModel !== baseModel || candidate.deployment.serverless) return undefined;
  const d = candidate.deployment;
  if (TERMINAL_TRAINER.has(trainerStatus(d, now)) || DEAD_SAMPLER.has(samplerStatus(d, now))) return undefined;
  return d;
}

/** A serverless sampler follows the serverless look, and has no model deployment and so no deployment logs. */
function newSampler(world: World, baseModel: string, c: Creation, story: Story, serverless: boolean): SamplerState {
  const { store, config } = world;
  const look = config.serverlessSampler;
  const modelDeploymentId = store.newId();
  return {
    id: store.newId(),
    modelId: store.newId(),
    modelDeploymentId,
    baseModel,
    createdAt: c.at,
    urlAt: c.at + config.samplerUrlDelayMs,
    track: new Track(c.at, serverless ? look.timeline : story.sampler),
    email: c.email,
    adapters: [],
    ...(serverless ? { serverless: { status: look.status, url: look.baseUrl } } : {}),
    logs: serverless ? [] : logEntries(c.at, story.samplerLogs, `sampler-${modelDeploymentId}-0`),
  };
}

/** A serverless run's trainer side: no deployment, no GPUs (a status no rule counts as holding any). */
const NO_TRAINER = [{ status: 'SERVERLESS' }];

function newDeployment(world: World, body: Record<string, unknown>, c: Creation, serverless: boolean): DeploymentState {
  const { store, config } = world;
  const baseModel = body['base_model'] as string;
  const id = store.newId();
  const path = typeof body['path'] === 'string' ? body['path'] : undefined;
  const story = storyFor(config.story, { baseModel, checkpointPath: path, trainer: config.trainerTimeline, sampler: config.samplerTimeline });
  const d: DeploymentState = {
    id,
    serverless,
    baseModel,
    trainerModelId: store.newId(),
    createdAt: c.at,
    visibleAt: c.at + config.readAfterWriteMs,
    track: new Track(c.at, serverless ? NO_TRAINER : story.trainer),
    availability: story.availability ?? (body['availability_model'] === 'spot' ? 'spot' : 'dedicated'),
    nodeCount: num(body['replicas'], 1),
    sampler: newSampler(world, baseModel, c, story, serverless),
    runIds: [],
    email: c.email,
    lastUsed: c.at,
    scaleDownDelaySeconds: num(body['scale_down_delay_seconds'], 3600),
    idleHandled: undefined,
    logs: serverless ? [] : logEntries(c.at, story.trainerLogs, `trainer-${id}-0`),
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
  const mode = chooseMode(config, body);
  if (!mode.ok) return mode;
  const refused = c.viaApi ? capacityRefusal(config) : undefined;
  if (refused) return { ok: false, resp: refused };
  const reused = mode.serverless ? undefined : findReusable(world, body, c.now);
  if (reused) handOver(world, reused, body, c);
  const deployment = reused ?? newDeployment(world, body, c, mode.serverless);
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
