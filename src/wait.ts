// Waiting for readiness: poll the run (and its deployment for the trainer), log status
// changes only, stop on terminal statuses, the timeout or cancellation.

import type { WaitFor } from './inputs.js';
import type { LoopsClient } from './loops/client.js';
import { formatSeconds } from './loops/http.js';
import type { Run } from './loops/types.js';
import type { Clock } from './retry.js';

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

/** Pure readiness rule for one observation. */
export function assess(waitFor: WaitFor, obs: Observation): Assessment {
  const wantSampler = waitFor === 'sampler' || waitFor === 'all';
  const wantTrainer = waitFor === 'trainer' || waitFor === 'all';
  if (obs.run.status === 'INACTIVE') return { state: 'failed', reason: 'the run became INACTIVE (it was shut down or replaced)' };
  if (wantSampler && obs.samplerStatus && SAMPLER_TERMINAL.has(obs.samplerStatus)) {
    return { state: 'failed', reason: `the sampler is ${obs.samplerStatus}` };
  }
  if (wantTrainer && obs.trainerStatus && TRAINER_TERMINAL.has(obs.trainerStatus)) {
    return { state: 'failed', reason: `the trainer is ${obs.trainerStatus}` };
  }
  const samplerOk = !wantSampler || obs.samplerStatus === SAMPLER_READY;
  const trainerOk = !wantTrainer || obs.trainerStatus === TRAINER_READY;
  return samplerOk && trainerOk ? { state: 'ready' } : { state: 'waiting' };
}

export type WaitOutcome = 'ready' | 'failed' | 'timed_out' | 'cancelled';

export interface WaitResult extends Observation {
  outcome: WaitOutcome;
  elapsedMs: number;
  polls: number;
  /** Why the wait did not end ready, in a sentence. */
  reason?: string;
}

export interface WaitOptions {
  client: LoopsClient;
  waitFor: Exclude<WaitFor, 'none'>;
  initial: Run;
  timeoutMs: number;
  intervalMs: number;
  clock: Clock;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Called with every observation, so that outputs follow the latest state. */
  onObservation?: (obs: Observation) => void;
}

export async function waitForReady(opts: WaitOptions): Promise<WaitResult> {
  const { client, waitFor, clock, signal, log } = opts;
  const start = clock.now();
  const deadline = start + opts.timeoutMs;
  // A random phase keeps parallel jobs from polling in step; the cadence itself stays exact.
  const phase = clock.random() * 0.1 * opts.intervalMs;
  const wantTrainer = waitFor === 'trainer' || waitFor === 'all';
  let obs: Observation = { run: opts.initial, samplerStatus: opts.initial.sampler?.status };
  let polls = 0;
  let warnedNoDeployment = false;
  const elapsed = (): number => clock.now() - start;

  const report = (previous: Observation | undefined): void => {
    const t = formatSeconds(Math.round(elapsed() / 1000) * 1000);
    const changes: Array<[string, string | undefined, string | undefined]> = [
      ['run', previous?.run.status, obs.run.status],
      ['sampler', previous?.samplerStatus, obs.samplerStatus],
      ['trainer', previous?.trainerStatus, obs.trainerStatus],
    ];
    for (const [what, before, now] of changes) {
      if (now !== undefined && now !== before) log(`Run ${opts.initial.id}: ${what} ${before ? `${before} → ` : ''}${now} (${t})`);
    }
    opts.onObservation?.(obs);
  };

  const poll = async (): Promise<Observation> => {
    const run = await client.getRun(opts.initial.id);
    let trainerStatus: string | undefined;
    if (wantTrainer) {
      if (run.deploymentId) trainerStatus = (await client.getDeployment(run.deploymentId)).status;
      else if (!warnedNoDeployment) {
        warnedNoDeployment = true;
        log(`run ${run.id} has no deployment_id yet; waiting for the trainer deployment to be assigned`);
      }
    }
    return { run, samplerStatus: run.sampler?.status, trainerStatus };
  };

  const result = (outcome: WaitOutcome, reason?: string): WaitResult => ({ ...obs, outcome, reason, polls, elapsedMs: elapsed() });

  report(undefined);
  for (let k = 1; ; k++) {
    const verdict = assess(waitFor, obs);
    if (verdict.state === 'ready') return result('ready');
    if (verdict.state === 'failed') return result('failed', verdict.reason);
    if (clock.now() >= deadline) {
      return result(
        'timed_out',
        `run ${obs.run.id} was not ready after ${formatSeconds(opts.timeoutMs)} (wait_timeout_seconds); ` +
          `last statuses: ${describe(obs, waitFor)}`,
      );
    }
    const next = Math.min(start + phase + k * opts.intervalMs, deadline);
    await clock.sleep(Math.max(0, next - clock.now()), signal);
    if (signal?.aborted) return result('cancelled', 'the workflow was cancelled');
    let latest: Observation | 'aborted';
    try {
      polls++;
      latest = await raceAbort(poll(), signal);
    } catch (error) {
      return result('failed', `polling failed: ${(error as Error).message}`);
    }
    if (latest === 'aborted') return result('cancelled', 'the workflow was cancelled');
    const previous = obs;
    obs = latest;
    report(previous);
  }
}

function describe(obs: Observation, waitFor: WaitFor): string {
  const parts = [`sampler ${obs.samplerStatus ?? 'unknown'}`];
  if (waitFor === 'trainer' || waitFor === 'all') parts.push(`trainer ${obs.trainerStatus ?? 'unknown'}`);
  return parts.join(', ');
}

function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T | 'aborted'> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
