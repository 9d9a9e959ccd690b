/** State → the JSON records the API answers with, as seen at the server clock's `now`. */
import { createHash } from 'node:crypto';
import { SAMPLER_INSTANCE, TRAINER_INSTANCE } from './defaults.js';
import { samplerStatus, trainerStatus } from './lifecycle.js';
import { type DeploymentState, type RunState, type World, newestFirst } from './store.js';
import { trainerUrl } from './trainer.js';
import type { CheckpointSpec, LoopsCheckpoint, LoopsDeployment, LoopsRun, LoopsSampler } from './types.js';

const iso = (ms: number): string => new Date(ms).toISOString();

function samplerUrl(world: World, modelId: string): string {
  const how = world.config.samplerBaseUrl;
  if (typeof how === 'function') return how(modelId);
  if (how === 'baseten') return `https://model-${modelId}.api.baseten.co/environments/loops/sync`;
  return `${world.url}/sampler/${modelId}`;
}

export function samplerView(world: World, d: DeploymentState, now: number): LoopsSampler {
  const s = d.sampler;
  const url = s.urlAt > s.createdAt && now < s.urlAt ? '' : samplerUrl(world, s.modelId);
  if (s.serverless) {
    // ASSUMED shape (not published): no model deployment behind it, so no model_id,
    // deployment_id or instance type; a status only when options.serverlessSampler shows one.
    return {
      id: s.id,
      base_url: s.serverless.url ? url : '',
      base_model: s.baseModel,
      created_at: iso(s.createdAt),
      ...(s.serverless.status === 'shown' ? { status: { name: samplerStatus(d, now) } } : {}),
      // A shape off the schema a client must still read as no status: the status as an empty string.
      ...(s.serverless.status === 'empty' ? { status: '' as unknown as { name: string } } : {}),
      user: { email: s.email },
      instance_type: null,
      node_count: 1,
    };
  }
  return {
    id: s.id,
    base_url: url,
    base_model: s.baseModel,
    created_at: iso(s.createdAt),
    model_id: s.modelId,
    deployment_id: s.modelDeploymentId,
    status: { name: samplerStatus(d, now) },
    user: { email: s.email },
    instance_type: { ...SAMPLER_INSTANCE },
    node_count: 1,
  };
}

export function runView(world: World, r: RunState, now: number): LoopsRun {
  return {
    id: r.id,
    session_id: r.sessionId,
    deployment_id: r.exposeDeploymentId && !r.deployment.serverless ? r.deployment.id : null,
    name: r.name,
    base_model: r.baseModel,
    base_url: trainerUrl(world, r.deployment),
    created_at: iso(r.createdAt),
    status: { name: r.active ? 'ACTIVE' : 'INACTIVE' },
    user: { email: r.email },
    sampler: samplerView(world, r.deployment, now),
  };
}

export function deploymentView(world: World, d: DeploymentState, now: number): LoopsDeployment {
  const runs = world.store.runsOn(d).sort(newestFirst);
  return {
    id: d.id,
    active_run_id: runs.find((r) => r.active)?.id ?? null,
    latest_run_id: runs[0]?.id ?? null,
    base_model: d.baseModel,
    base_url: trainerUrl(world, d),
    status: { name: trainerStatus(d, now) },
    user: { email: d.email },
    created_at: iso(d.createdAt),
    availability_model: d.availability,
    instance_type: { ...TRAINER_INSTANCE },
    node_count: d.nodeCount,
    sampler: samplerView(world, d, now),
  };
}

/** The checkpoint's globally unique id: mixed case, from its path. */
export function checkpointId(path: string): string {
  const digest = createHash('sha256').update(path).digest();
  const mixed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < 7; i++) id += mixed[(digest[i] ?? 0) % mixed.length];
  return id;
}

/** A planted checkpoint (options.checkpoints) as GET /v1/loops/checkpoints lists it. */
export function checkpointView(world: World, spec: CheckpointSpec): LoopsCheckpoint {
  const path = spec.path;
  const m = /^bt:\/\/loops:([^/]+)\/(weights|sampler_weights)\/(.+)$/.exec(path);
  const runId = m?.[1] ?? '';
  const run = world.store.runs.get(runId);
  const digest = createHash('sha256').update(path).digest();
  const rank = run?.loraRank ?? 64;
  // Its LoRA config: the run's rank; a checkpoint of a run this emulator never saw says nothing.
  const lora = spec.lora_config !== undefined ? spec.lora_config : run ? { r: run.loraRank } : 'absent';
  return {
    checkpoint_id: m?.[3] ?? path,
    id: checkpointId(path),
    run_id: runId,
    target: m?.[2] === 'weights' ? 'trainer' : 'sampler',
    checkpoint_type: 'lora',
    base_model: spec.base_model !== undefined ? spec.base_model : (run?.baseModel ?? null),
    lora_adapter_config: { r: rank },
    size_bytes: 100_000_000 + (digest.readUInt32BE(8) % 100_000_000),
    sync_status: 'COMPLETE',
    created_at: iso(run?.createdAt ?? world.config.now()),
    ...(lora === 'absent' ? {} : { lora_config: lora }),
    expires_at: spec.expires_at === undefined || spec.expires_at === null ? null : iso(spec.expires_at),
  };
}
