// Session create/reuse, and creating the run exactly once. The API has no idempotency keys:
// a create that may have reached the server (timeout, dropped connection, 5xx, unreadable
// body) is never blindly repeated. This file owns the whole story: try → ambiguous → back off
// → list → adopt or re-send, and the duplicate sweep that follows a re-send.

import { type CapacityWindow, pauseForCapacity } from './capacity.js';
import {
  ApiError,
  CancelledError,
  MalformedResponseError,
  RetriesExhaustedError,
  type Retryable,
  UserError,
  errorMessage,
  isCapacityRefusal,
  isRetryable,
} from './core/errors.js';
import type { Log } from './core/log.js';
import { type Clock, type RetryPolicy, nextDelay } from './core/retry.js';
import type { Settings } from './inputs.js';
import { CLOCK_SKEW_MS, type CallOptions, type CreateRunBody, type LoopsClient } from './loops/client.js';
import { isHealthy } from './holders.js';
import { type Run, salvageRun } from './loops/types.js';
import { type CreateIntent, HURRY, ownRuns, stopRun } from './shared.js';

export interface SessionChoice {
  id: string;
  created: boolean;
}

export async function ensureSession(client: LoopsClient, settings: Settings, opts: CallOptions = {}): Promise<SessionChoice> {
  if (!settings.sessionId) {
    return { id: await client.createSession(settings.trainingProjectId, opts), created: true };
  }
  try {
    await client.getSession(settings.sessionId, opts);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new UserError(
        `session_id: session "${settings.sessionId}" does not exist (GET /v1/loops/sessions/${settings.sessionId} ` +
          'answered 404). Check the ID, or leave session_id empty to create a new session. No run was created.',
      );
    }
    throw error;
  }
  return { id: settings.sessionId, created: false };
}

/** The API's own defaults: a field equal to its default is left out of the create body, as Baseten's CLI does. */
export const API_DEFAULTS = { lora_rank: 64, scale_down_delay_seconds: 3600, availability_model: 'dedicated', replicas: 1 } as const;

/**
 * The create-run body: every input mapped; unset fields and fields equal to the API's defaults
 * left out, so that an older server that does not know a field still accepts the body. `name`
 * always goes: it is how this step finds its run again.
 */
export function buildRunBody(settings: Settings, sessionId: string, name: string): CreateRunBody {
  const body: CreateRunBody = { session_id: sessionId, base_model: settings.baseModel, name };
  if (settings.loraRank !== API_DEFAULTS.lora_rank) body.lora_rank = settings.loraRank;
  if (settings.maxSeqLen !== undefined) body.max_seq_len = settings.maxSeqLen;
  if (settings.seed !== undefined) body.seed = settings.seed;
  if (settings.scaleDownDelaySeconds !== API_DEFAULTS.scale_down_delay_seconds) {
    body.scale_down_delay_seconds = settings.scaleDownDelaySeconds;
  }
  if (settings.availabilityModel !== API_DEFAULTS.availability_model) body.availability_model = settings.availabilityModel;
  if (settings.replicas !== API_DEFAULTS.replicas) body.replicas = settings.replicas;
  if (settings.checkpointPath) body.path = settings.checkpointPath;
  if (settings.reuseFromRunId) body.reuse_from_run_id = settings.reuseFromRunId;
  if (settings.reuseFromSessionId) body.reuse_from_session_id = settings.reuseFromSessionId;
  if (settings.scope !== 'auto') body.scope = settings.scope;
  return body;
}

/**
 * Margin below the server-clock estimate before a run of ours is looked for. The estimate is a
 * lower bound already (see Transport: Date − arrival), so this only absorbs the server's own
 * clocks disagreeing a little (the one that stamps Date, the one that stamps created_at).
 */
export const SINCE_SLACK_MS = 500;

/** The earliest creation time (server clock, ms) a run made from now on can carry. */
export function createdAfterNow(client: LoopsClient): number {
  const now = client.serverNow();
  return now.ms - (now.known ? SINCE_SLACK_MS : CLOCK_SKEW_MS);
}

export interface CreateRunOptions {
  intent: CreateIntent;
  policy: RetryPolicy;
  clock: Clock;
  log: Log;
  signal?: AbortSignal;
  /** Called just before each create request is sent. */
  onSend?: () => void;
  /** Capacity refusals are retried within this window (capacity.ts); without it they count as any 429. */
  capacity?: CapacityWindow;
}

export interface CreatedRun {
  run: Run;
  adopted: boolean;
  /** Set when the create answer broke the description: the run exists but the step must fail. */
  problem?: string;
  /** Set after a re-send (our clock): sweepDuplicates must look again once the abandoned request could have landed. */
  resentAt?: number;
}

/**
 * Creates the run. After a failure that may have reached the server it waits out the backoff,
 * lists the runs and adopts this step's own (see ownRuns); it re-sends only when there is none.
 */
export async function createRunOnce(client: LoopsClient, body: CreateRunBody, opts: CreateRunOptions): Promise<CreatedRun> {
  const { policy, clock, log, signal } = opts;
  let resentAt: number | undefined;
  let refusals = 0;
  for (let tries = 1; ; tries++) {
    if (signal?.aborted) throw new CancelledError('create run');
    let failure: Error & Retryable;
    try {
      opts.onSend?.();
      return { run: await client.createRun(body, { signal }), adopted: false, resentAt };
    } catch (error) {
      // A 200 that breaks the description still made a run: keep its id so it can be reported and stopped.
      const salvaged = error instanceof MalformedResponseError && !error.retryable ? salvageRun(error.body) : undefined;
      if (salvaged) return { run: salvaged, adopted: false, problem: errorMessage(error), resentAt };
      if (opts.capacity && isCapacityRefusal(error)) {
        await pauseForCapacity(error, ++refusals, { ...opts, window: opts.capacity });
        tries--; // bounded by the capacity window, not by max_retries
        continue;
      }
      if (!isRetryable(error)) throw error;
      failure = error;
    }
    const last = tries > policy.maxRetries;
    const delay = nextDelay(tries, failure, { policy, clock, log: (line) => log.info(line), signal });
    const failed = `create run: attempt ${tries} of ${policy.maxRetries + 1} failed (${failure.reason})`;
    if (!failure.ambiguous) {
      if (last) throw new RetriesExhaustedError('create run', tries, failure);
      log.info(`${failed}; retrying in ${delay.text}`);
      await clock.sleep(delay.ms, signal);
      continue;
    }
    log.info(`${failed}; ${last ? 'no retries left, ' : ''}checking in ${delay.text} whether it took effect${last ? '' : ' before retrying'}`);
    // A slow server gets the backoff to finish; the look happens even when cancelled, since a run may exist.
    await clock.sleep(delay.ms, signal);
    const found = await lookForOwnRun(client, body, failure, opts);
    if (found) return { run: found, adopted: true, resentAt };
    if (last) throw new RetriesExhaustedError('create run', tries, failure);
    if (signal?.aborted) throw new CancelledError('create run');
    log.info(`create run: no run named "${body.name}" exists in session ${body.session_id}; re-sending`);
    resentAt = clock.now();
  }
}

/** After an ambiguous failure: this step's run if the request did create it; throws when that cannot be told. */
async function lookForOwnRun(
  client: LoopsClient,
  body: CreateRunBody,
  failure: Error & Retryable,
  opts: CreateRunOptions,
): Promise<Run | undefined> {
  opts.log.info(`create run: ${failure.reason}; the run may have been created, checking for run "${body.name}" before re-sending`);
  let mine: Run[];
  try {
    mine = await findOwnRuns(client, body, opts);
  } catch (listError) {
    throw new Error(
      `${failure.message}. The run may have been created, but the runs could not be listed to check ` +
        `(${errorMessage(listError)}), so the request was not re-sent, to avoid a duplicate run. ` +
        `Look for a run named "${body.name}" in session ${body.session_id}.`,
    );
  }
  // A run of this name that is INACTIVE, or whose sampler failed, is not this request acted on late
  // (an earlier attempt's run, cancelled moments before): re-send rather than adopt a dead run.
  const [kept, ...others] = mine.filter(isHealthy);
  const dead = mine.filter((run) => !isHealthy(run));
  if (dead.length > 0) {
    const which = dead.map((run) => `${run.id} (${run.status === 'INACTIVE' ? 'INACTIVE' : `sampler ${run.sampler?.status ?? '?'}`})`);
    opts.log.info(`create run: not adopting ${which.join(', ')}: a dead run is not this step's request acted on late`);
  }
  if (!kept) return undefined;
  opts.log.info(`create run: the earlier request did create run ${kept.id}; adopting it instead of creating another`);
  await stopDuplicates(client, kept, others, opts.log);
  return kept;
}

async function findOwnRuns(client: LoopsClient, body: CreateRunBody, opts: CreateRunOptions): Promise<Run[]> {
  // Cancelled: the look still happens, within the few seconds the runner allows.
  const call = opts.signal?.aborted ? { hurry: HURRY } : { signal: opts.signal };
  const listed = ownRuns(await client.listRuns({ baseModel: body.base_model }, call), opts.intent);
  if (listed.runs.length === 0 && listed.unsure) {
    throw new Error(
      `runs in session ${body.session_id} carry no name (an older API), so whether the run was created cannot ` +
        'be told; the request was not re-sent, to avoid a duplicate run',
    );
  }
  return listed.runs;
}

/**
 * Stops every other live run this step made. Never a run already INACTIVE, and never one on
 * the kept run's deployment: deactivating it would tear down the kept run's trainer and sampler.
 */
async function stopDuplicates(client: LoopsClient, kept: Run, others: Run[], log: Log): Promise<void> {
  for (const duplicate of others) {
    if (duplicate.status === 'INACTIVE') continue;
    if (duplicate.deploymentId && duplicate.deploymentId === kept.deploymentId) {
      log.info(`create run: run ${duplicate.id} shares run ${kept.id}'s deployment; left alone`);
      continue;
    }
    log.warning(`create run: run ${duplicate.id} duplicates run ${kept.id} (an earlier request was acted on late); deactivating it`);
    try {
      await stopRun(client, duplicate.id);
    } catch (error) {
      log.warning(`Could not deactivate duplicate run ${duplicate.id}: ${errorMessage(error)}. Deactivate it by hand.`);
    }
  }
}

/**
 * After a re-send, a slow server may still act on the abandoned request: once it has had one
 * more request timeout to land, look again and stop any duplicate of `kept`. Never throws.
 */
export async function sweepDuplicates(
  client: LoopsClient,
  kept: Run,
  body: CreateRunBody,
  opts: CreateRunOptions & { resentAt: number; timeoutMs: number },
): Promise<void> {
  await opts.clock.sleep(Math.max(0, opts.resentAt + opts.timeoutMs - opts.clock.now()), opts.signal);
  try {
    const others = (await findOwnRuns(client, body, opts)).filter((run) => run.id !== kept.id);
    await stopDuplicates(client, kept, others, opts.log);
  } catch (error) {
    opts.log.warning(`create run: could not check for a duplicate of run ${kept.id}: ${errorMessage(error)}`);
  }
}
