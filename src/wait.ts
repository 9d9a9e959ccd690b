// Waiting for readiness: poll the run (and its deployment for the trainer), log status
// changes only, stop on terminal statuses, the timeout or cancellation. A serverless run
// (modes.ts) has no trainer deployment to wait for, and its sampler may show no status.

import { anySignal, raceAbort } from './core/abort.js';
import { ApiError, CancelledError, errorMessage } from './core/errors.js';
import type { Log } from './core/log.js';
import type { Clock } from './core/retry.js';
import { formatSeconds } from './core/text.js';
import type { WaitFor } from './inputs.js';
import type { CallOptions, LoopsClient } from './loops/client.js';
import type { Run } from './loops/types.js';
import { detectMode } from './modes.js';
import { type Assessment, type Observation, SAMPLER_READY, assess, describe } from './readiness.js';
import type { Probe } from './sampler.js';

/**
 * A run the create just returned may not be readable yet (read-after-write lag): a 404 on the
 * run or its deployment within this long of the wait's start is "not visible yet", not a failure.
 */
export const NOT_FOUND_GRACE_MS = 30_000;

export type WaitOutcome = 'ready' | 'failed' | 'timed_out' | 'cancelled';

export interface WaitResult extends Observation {
  outcome: WaitOutcome;
  elapsedMs: number;
  polls: number;
  /** Why the wait did not end ready, in a sentence. */
  reason?: string;
  /** The model the sampler serves (its /v1/models entry without a parent), when it was asked. */
  model?: string;
  /** The wait ended because reading the run failed or hung: what it last saw may be stale, and looking again may hang too. */
  readFailed?: boolean;
}

export interface WaitOptions {
  client: LoopsClient;
  waitFor: Exclude<WaitFor, 'none'>;
  initial: Run;
  timeoutMs: number;
  intervalMs: number;
  clock: Clock;
  signal?: AbortSignal;
  log: Log;
  /** Called with every observation, so that outputs follow the latest state. */
  onObservation?: (obs: Observation) => void;
  /**
   * Asks the sampler itself (sampler.ts), within `timeoutMs`: once the statuses say ready, the
   * wait ends ready only when it answers; a sampler seen SCALED_TO_ZERO is asked once, to wake it.
   * Undefined: the statuses alone decide.
   */
  askSampler?: (run: Run, timeoutMs: number) => Promise<Probe>;
}

export async function waitForReady(opts: WaitOptions): Promise<WaitResult> {
  const { waitFor, clock, signal } = opts;
  const start = clock.now();
  const deadline = start + opts.timeoutMs;
  // A random phase keeps parallel jobs from polling in step; the cadence itself stays exact.
  const phase = clock.random() * 0.1 * opts.intervalMs;
  const poller = new Poller(opts, start);
  let obs: Observation = { run: opts.initial, samplerStatus: opts.initial.sampler?.status };
  let polls = 0;

  const result = (outcome: WaitOutcome, reason?: string, readFailed?: boolean): WaitResult => ({
    ...obs,
    outcome,
    reason,
    polls,
    elapsedMs: clock.now() - start,
    model: poller.model,
    ...(readFailed ? { readFailed } : {}),
  });
  const timedOut = (): string =>
    `run ${obs.run.id} was not ready after ${formatSeconds(opts.timeoutMs)} (wait_timeout_seconds); ` +
    `last statuses: ${describe(obs, waitFor)}${poller.unanswered ? `; the sampler did not answer GET /v1/models (${poller.unanswered})` : ''}`;

  poller.report(undefined, obs);
  for (let k = 1; ; k++) {
    // A cancellation wins over a verdict: one that came before the first look, or during a probe.
    if (signal?.aborted) return result('cancelled', 'the workflow was cancelled');
    const verdict = await poller.ask(assess(waitFor, obs), obs, Math.max(0, deadline - clock.now()) + GRACE_MS);
    if (signal?.aborted) return result('cancelled', 'the workflow was cancelled');
    if (verdict.state === 'ready') return result('ready');
    if (verdict.state === 'failed') return result('failed', verdict.reason);
    if (clock.now() >= deadline) return result('timed_out', timedOut());
    const next = Math.min(start + phase + k * opts.intervalMs, deadline);
    await clock.sleep(Math.max(0, next - clock.now()), signal);
    if (signal?.aborted) return result('cancelled', 'the workflow was cancelled');
    // A poll (with its retries) may not outlast the wait: it is cut off at the deadline.
    const stop = anySignal(signal, Math.max(0, deadline - clock.now()) + GRACE_MS);
    let latest: Observation | 'aborted' | 'not_visible';
    try {
      polls++;
      latest = await raceAbort(poller.poll({ signal: stop }), stop);
    } catch (error) {
      if (poller.notVisibleYet(error)) latest = 'not_visible';
      else if (error instanceof CancelledError) latest = 'aborted';
      else return result('failed', `polling failed: ${errorMessage(error)}`, true);
    }
    if (latest === 'aborted')
      return signal?.aborted ? result('cancelled', 'the workflow was cancelled', true) : result('timed_out', timedOut(), true);
    if (latest === 'not_visible') continue;
    const previous = obs;
    obs = latest;
    poller.report(previous, obs);
  }
}

/** One poll of the run (and its trainer), the sampler asked when its statuses allow, and the log lines changes deserve. */
class Poller {
  private deploymentId: string | undefined;
  private readonly said = new Set<string>();
  private woken = false;
  /** The model the sampler answered with. */
  model: string | undefined;
  /** Why the sampler has not answered yet (the latest reason), for the timeout message. */
  unanswered: string | undefined;

  constructor(
    private readonly opts: WaitOptions,
    private readonly start: number,
  ) {
    this.deploymentId = opts.initial.deploymentId;
  }

  async poll(call: CallOptions): Promise<Observation> {
    const { client, waitFor } = this.opts;
    const run = await client.getRun(this.opts.initial.id, call);
    let trainerStatus: string | undefined;
    if ((waitFor === 'trainer' || waitFor === 'all') && detectMode(run) !== 'serverless') {
      this.deploymentId = run.deploymentId ?? this.deploymentId;
      // Runs may leave deployment_id null (API since 2026-08-21): look the deployment up by run.
      if (!this.deploymentId) {
        const found = await client.findDeploymentOfRun(run, call);
        this.deploymentId = found?.id;
        trainerStatus = found?.status;
        if (!this.deploymentId)
          this.once('no-deployment', `run ${run.id} has no Loops deployment yet; waiting for the trainer deployment to be assigned`);
      } else trainerStatus = (await client.getDeployment(this.deploymentId, call)).status;
    }
    return { run, samplerStatus: run.sampler?.status, trainerStatus };
  }

  /** The verdict once the sampler itself has had its say: asked when the statuses are ready, or once to wake it. */
  async ask(verdict: Assessment, obs: Observation, timeoutMs: number): Promise<Assessment> {
    const { askSampler, waitFor, log } = this.opts;
    if (waitFor === 'trainer' || verdict.state === 'failed') return verdict;
    // Only a serverless sampler is ready without a status: its /v1/models decides where it can be asked.
    const unverified = verdict.state === 'ready' && (obs.samplerStatus === undefined || !obs.run.sampler?.baseUrl);
    if (!askSampler || (unverified && !obs.run.sampler?.baseUrl)) return unverified ? this.unverified(obs, verdict) : verdict;
    if (verdict.state === 'waiting') {
      if (obs.samplerStatus !== 'SCALED_TO_ZERO' || !obs.run.sampler?.baseUrl || this.woken) return verdict;
      this.woken = true;
      log.info(`Run ${obs.run.id}: the sampler scaled to zero; waking it with a request to its /v1/models`);
      const wake = await askSampler(obs.run, timeoutMs);
      return wake.state === 'failed' ? wake : verdict;
    }
    const probe = await askSampler(obs.run, timeoutMs);
    if (probe.state === 'skipped') return unverified ? this.unverified(obs, verdict) : verdict;
    if (probe.state === 'ready') {
      this.model = probe.model;
      log.info(`Run ${obs.run.id}: the sampler answers GET /v1/models; it serves ${probe.model}`);
      return verdict;
    }
    if (probe.state === 'failed') return probe;
    if (this.unanswered !== probe.reason)
      log.info(`Run ${obs.run.id}: the sampler is ACTIVE but does not answer GET /v1/models yet (${probe.reason}); waiting`);
    this.unanswered = probe.reason;
    return { state: 'waiting' };
  }

  /** A serverless sampler with no status (or no URL), which could not be asked: ready on the run's own state, said once. */
  private unverified(obs: Observation, verdict: Assessment): Assessment {
    const why = !obs.run.sampler?.baseUrl ? 'no base URL' : this.opts.askSampler ? 'a URL the key may not be sent to' : 'verify_sampler off';
    this.once(
      'unverified',
      `Run ${obs.run.id} is serverless and ACTIVE; its sampler shows ${obs.samplerStatus ?? 'no status'} and ${why}: readiness was not verified`,
      'warning',
    );
    return verdict;
  }

  /** A 404 soon after the create: the API has not caught up with its own answer yet. */
  notVisibleYet(error: unknown): boolean {
    const elapsed = this.opts.clock.now() - this.start;
    if (!(error instanceof ApiError) || error.status !== 404 || elapsed >= NOT_FOUND_GRACE_MS) return false;
    this.once(
      'not-visible',
      `Run ${this.opts.initial.id} is not visible yet (${error.method} ${error.route} answered 404); ` +
        `waiting up to ${formatSeconds(NOT_FOUND_GRACE_MS)} after the create for the API to catch up`,
    );
    return true;
  }

  report(previous: Observation | undefined, obs: Observation): void {
    const t = formatSeconds(Math.round((this.opts.clock.now() - this.start) / 1000) * 1000);
    const changes: Array<[string, string | undefined, string | undefined]> = [
      ['run', previous?.run.status, obs.run.status],
      ['sampler', previous?.samplerStatus, obs.samplerStatus],
      ['trainer', previous?.trainerStatus, obs.trainerStatus],
    ];
    for (const [what, before, now] of changes) {
      if (now !== undefined && now !== before)
        this.opts.log.info(`Run ${this.opts.initial.id}: ${what} ${before ? `${before} → ` : ''}${now} (${t})`);
    }
    if (obs.samplerStatus === SAMPLER_READY && !obs.run.sampler?.baseUrl && this.opts.waitFor !== 'trainer') {
      this.once('no-url', `Run ${this.opts.initial.id}: the sampler is ACTIVE but the API has not given its base URL yet; waiting for it`);
    }
    this.opts.onObservation?.(obs);
  }

  private once(key: string, line: string, level: 'info' | 'warning' = 'info'): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.opts.log[level](line);
  }
}

/** Time a poll under way at the deadline is given to finish, so a last answer can still count. */
const GRACE_MS = 1000;
