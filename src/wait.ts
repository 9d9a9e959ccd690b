// Waiting for readiness: poll the run (and its deployment for the trainer), log status
// changes only, stop on terminal statuses, the timeout or cancellation.

import type { WaitFor } from './inputs.js';
import type { CallContext, LoopsClient } from './loops/client.js';
import { formatSeconds } from './loops/http.js';
import type { Run } from './loops/types.js';
import { CancelledError, type Clock } from './retry.js';

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

  let deploymentId = opts.initial.deploymentId;
  const poll = async (ctx: CallContext): Promise<Observation> => {
    const run = await client.getRun(opts.initial.id, ctx);
    let trainerStatus: string | undefined;
    if (wantTrainer) {
      deploymentId = run.deploymentId ?? deploymentId;
      // Runs may leave deployment_id null (API since 2026-08-21): look the deployment up by run.
      if (!deploymentId) {
        const found = await client.findDeploymentOfRun(run.id, ctx);
        deploymentId = found?.id;
        trainerStatus = found?.status;
        if (!deploymentId && !warnedNoDeployment) {
          warnedNoDeployment = true;
          log(`run ${run.id} has no Loops deployment yet; waiting for the trainer deployment to be assigned`);
        }
      } else trainerStatus = (await client.getDeployment(deploymentId, ctx)).status;
    }
    return { run, samplerStatus: run.sampler?.status, trainerStatus };
  };

  const result = (outcome: WaitOutcome, reason?: string): WaitResult => ({ ...obs, outcome, reason, polls, elapsedMs: elapsed() });
  const timedOut = (): string =>
    `run ${obs.run.id} was not ready after ${formatSeconds(opts.timeoutMs)} (wait_timeout_seconds); ` +
    `last statuses: ${describe(obs, waitFor)}`;

  report(undefined);
  for (let k = 1; ; k++) {
    const verdict = assess(waitFor, obs);
    if (verdict.state === 'ready') return result('ready');
    if (verdict.state === 'failed') return result('failed', verdict.reason);
    if (clock.now() >= deadline) return result('timed_out', timedOut());
    const next = Math.min(start + phase + k * opts.intervalMs, deadline);
    await clock.sleep(Math.max(0, next - clock.now()), signal);
    if (signal?.aborted) return result('cancelled', 'the workflow was cancelled');
    // A poll (with its retries) may not outlast the wait: it is cut off at the deadline.
    const stop = anySignal(signal, Math.max(0, deadline - clock.now()) + GRACE_MS);
    let latest: Observation | 'aborted';
    try {
      polls++;
      latest = await raceAbort(poll({ signal: stop }), stop);
    } catch (error) {
      if (!(error instanceof CancelledError)) return result('failed', `polling failed: ${(error as Error).message}`);
      latest = 'aborted';
    }
    if (latest === 'aborted') {
      if (signal?.aborted) return result('cancelled', 'the workflow was cancelled');
      return result('timed_out', timedOut());
    }
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

/** Time a poll under way at the deadline is given to finish, so a last answer can still count. */
const GRACE_MS = 1000;

/** Aborts when `signal` does or after `ms`, whichever is first. */
function anySignal(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
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
