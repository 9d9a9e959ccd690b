// Session create/reuse, and creating the run exactly once.

import type { Settings } from './inputs.js';
import type { CallContext, CreateRunBody, LoopsClient } from './loops/client.js';
import { ApiError, type LoopsError, MalformedResponseError } from './loops/errors.js';
import { type Run, salvageRun } from './loops/types.js';
import type { Clock } from './retry.js';

/** An error whose message is complete for the user (it names the input and the fix). */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export interface SessionChoice {
  id: string;
  created: boolean;
}

export async function ensureSession(client: LoopsClient, settings: Settings, ctx: CallContext = {}): Promise<SessionChoice> {
  if (!settings.sessionId) {
    return { id: await client.createSession(settings.trainingProjectId, ctx), created: true };
  }
  try {
    await client.getSession(settings.sessionId, ctx);
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

/** The create-run body: every input mapped, unset optional fields left out. */
export function buildRunBody(settings: Settings, sessionId: string, name: string): CreateRunBody {
  const body: CreateRunBody = {
    session_id: sessionId,
    base_model: settings.baseModel,
    name,
    lora_rank: settings.loraRank,
    scale_down_delay_seconds: settings.scaleDownDelaySeconds,
    availability_model: settings.availabilityModel,
    replicas: settings.replicas,
  };
  if (settings.maxSeqLen !== undefined) body.max_seq_len = settings.maxSeqLen;
  if (settings.seed !== undefined) body.seed = settings.seed;
  if (settings.checkpointPath) body.path = settings.checkpointPath;
  if (settings.reuseFromRunId) body.reuse_from_run_id = settings.reuseFromRunId;
  if (settings.reuseFromSessionId) body.reuse_from_session_id = settings.reuseFromSessionId;
  return body;
}

/** How far the server's clock may lag ours when matching "created since the step began". */
export const CLOCK_SKEW_MS = 120_000;

export interface CreateRunOptions extends CallContext {
  /** When the step began (ms since the epoch). */
  startedAt: number;
  clock: Clock;
  /** request_timeout_seconds, in ms: how long a server may have kept acting on an abandoned request. */
  timeoutMs: number;
  /** The session was created by this step, so every run in it is this step's. */
  sessionCreated: boolean;
  log: (line: string) => void;
  warn: (line: string) => void;
}

export interface CreatedRun {
  run: Run;
  adopted: boolean;
  /** Set when the create answer broke the description: the run exists but the step must fail. */
  problem?: string;
  /**
   * Set after a re-send: a last look for a duplicate, once the abandoned request has had one more
   * timeout period to be acted on. Call it at the end of the step; it never throws.
   */
  checkDuplicates?: () => Promise<void>;
}

/**
 * Creates the run. After a failure that may have reached the server (timeout, dropped
 * connection, 5xx, unreadable body) it waits out the backoff, lists the runs and adopts the one
 * in this step's session with this step's name created since the step began; it re-sends only
 * when there is none, and after such a re-send a later check deactivates any duplicate.
 */
export async function createRunOnce(client: LoopsClient, body: CreateRunBody, opts: CreateRunOptions): Promise<CreatedRun> {
  let adopted = false;
  let resent = false;
  let ambiguousAt = 0;

  const find = async (): Promise<Run[]> => {
    const { matches, unsure } = matchingRuns(await client.listRuns(body.base_model), body, opts.startedAt, opts.sessionCreated);
    if (matches.length === 0 && unsure) {
      throw new Error(
        `runs in session ${body.session_id} carry no name (an older API), so whether the run was created cannot ` +
          'be told; the request was not re-sent, to avoid a duplicate run',
      );
    }
    return matches;
  };

  const reconcile = async (error: LoopsError): Promise<Run | undefined> => {
    ambiguousAt = opts.clock.now();
    opts.log(`create run: ${error.reason}; the run may have been created, checking for run "${body.name}" before re-sending`);
    let found: Run[];
    try {
      found = await find();
    } catch (listError) {
      throw new Error(
        `${error.message}. The run may have been created, but the runs could not be listed to check ` +
          `(${(listError as Error).message}), so the request was not re-sent, to avoid a duplicate run. ` +
          `Look for a run named "${body.name}" in session ${body.session_id}.`,
      );
    }
    if (found.length === 0) {
      opts.log(`create run: no run named "${body.name}" exists in session ${body.session_id}; re-sending`);
      resent = true;
      return undefined;
    }
    const [run, ...extra] = found as [Run, ...Run[]];
    opts.log(`create run: the earlier request did create run ${run.id}; adopting it instead of creating another`);
    await deactivateDuplicates(client, extra, run, opts.warn);
    adopted = true;
    return run;
  };

  let run: Run;
  try {
    run = await client.createRun(body, reconcile, { signal: opts.signal });
  } catch (error) {
    // A 200 that breaks the description still made a run: keep its id so it can be reported and stopped.
    const salvaged = error instanceof MalformedResponseError && !error.retryable ? salvageRun(error.body) : undefined;
    if (!salvaged) throw error;
    return { run: salvaged, adopted, problem: (error as MalformedResponseError).message };
  }

  if (!resent) return { run, adopted };
  // A slow server may act on the abandoned request after the check above.
  const checkDuplicates = async (): Promise<void> => {
    await opts.clock.sleep(Math.max(0, ambiguousAt + opts.timeoutMs - opts.clock.now()), opts.signal);
    try {
      await deactivateDuplicates(client, (await find()).filter((r) => r.id !== run.id), run, opts.warn);
    } catch (error) {
      opts.warn(`create run: could not check for a duplicate of run ${run.id}: ${(error as Error).message}`);
    }
  };
  return { run, adopted, checkDuplicates };
}

async function deactivateDuplicates(client: LoopsClient, extra: Run[], kept: Run, warn: (line: string) => void): Promise<void> {
  for (const duplicate of extra) {
    warn(`create run: run ${duplicate.id} duplicates run ${kept.id} (an earlier request was acted on late); deactivating it`);
    try {
      await client.deactivateRun(duplicate.id);
    } catch (error) {
      warn(`Could not deactivate duplicate run ${duplicate.id}: ${(error as Error).message}. Deactivate it by hand.`);
    }
  }
}

/**
 * The runs this step made: in its session, created since it began, and named as it named the
 * run. In a session this step created every run is its own, whatever its name; in a reused
 * session a run without a name (older API) makes the answer unsure.
 */
export function matchingRuns(
  runs: Run[],
  body: CreateRunBody,
  startedAt: number,
  sessionCreated: boolean,
): { matches: Run[]; unsure: boolean } {
  const recent = runs.filter((run) => {
    if (run.sessionId !== body.session_id) return false;
    const created = Date.parse(run.createdAt);
    return Number.isNaN(created) || created >= startedAt - CLOCK_SKEW_MS;
  });
  const mine = sessionCreated ? recent : recent.filter((run) => run.name === body.name);
  return {
    matches: mine.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt)),
    unsure: !sessionCreated && recent.some((run) => run.name === undefined),
  };
}
