// The readiness rules, pure: which statuses are terminal, and whether one observation of a run
// (its sampler, and its trainer deployment when it has one) is ready, still coming, or failed.
// A serverless run (modes.ts) has no trainer deployment, and its sampler may show no status.

import type { WaitFor } from './inputs.js';
import type { Run } from './loops/types.js';
import { detectMode } from './modes.js';

export const SAMPLER_READY = 'ACTIVE';
export const TRAINER_READY = 'RUNNING';
export const SAMPLER_TERMINAL: ReadonlySet<string> = new Set([
  'DEPLOY_FAILED',
  'BUILD_FAILED',
  'BUILD_STOPPED',
  'FAILED',
  'DEACTIVATING',
  'INACTIVE',
]);
export const TRAINER_TERMINAL: ReadonlySet<string> = new Set(['FAILED', 'STOPPED', 'PREEMPTED']);

export interface Observation {
  run: Run;
  samplerStatus?: string;
  trainerStatus?: string;
}

export type Assessment = { state: 'ready' } | { state: 'waiting' } | { state: 'failed'; reason: string };

/**
 * Pure readiness rule for one observation. The sampler is ready when ACTIVE and its base URL is
 * known; a serverless sampler without a status (or ACTIVE without a URL) of an ACTIVE run is left
 * to its /v1/models (Poller.ask). A serverless run has no trainer: `trainer` and `all` do not
 * wait for one.
 */
export function assess(waitFor: WaitFor, obs: Observation): Assessment {
  const serverless = detectMode(obs.run) === 'serverless';
  const wantSampler = waitFor === 'sampler' || waitFor === 'all';
  const wantTrainer = (waitFor === 'trainer' || waitFor === 'all') && !serverless;
  if (obs.run.status === 'INACTIVE') return { state: 'failed', reason: 'the run became INACTIVE (it was shut down or replaced)' };
  if (wantSampler && obs.samplerStatus && SAMPLER_TERMINAL.has(obs.samplerStatus)) {
    return { state: 'failed', reason: `the sampler is ${obs.samplerStatus}` };
  }
  if (wantTrainer && obs.trainerStatus && TRAINER_TERMINAL.has(obs.trainerStatus)) {
    return { state: 'failed', reason: `the trainer is ${obs.trainerStatus}` };
  }
  const active = obs.samplerStatus === SAMPLER_READY && Boolean(obs.run.sampler?.baseUrl);
  // A serverless sampler that shows no status, or ACTIVE with no URL, has nothing more to come:
  // it is ready once the run is ACTIVE (Poller.ask asks it where it can, else warns).
  const unseen = obs.samplerStatus === undefined || (obs.samplerStatus === SAMPLER_READY && !obs.run.sampler?.baseUrl);
  const samplerOk = !wantSampler || active || (serverless && obs.run.status === 'ACTIVE' && unseen);
  const trainerOk = !wantTrainer || obs.trainerStatus === TRAINER_READY;
  return samplerOk && trainerOk ? { state: 'ready' } : { state: 'waiting' };
}

/** The last statuses, for a timeout message. */
export function describe(obs: Observation, waitFor: WaitFor): string {
  const parts = [`sampler ${obs.samplerStatus ?? 'unknown'}`];
  const trainer = detectMode(obs.run) === 'serverless' ? 'none (serverless)' : (obs.trainerStatus ?? 'unknown');
  if (waitFor === 'trainer' || waitFor === 'all') parts.push(`trainer ${trainer}`);
  return parts.join(', ');
}
