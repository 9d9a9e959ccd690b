// Session create/reuse, and creating the run exactly once.

import type { Settings } from './inputs.js';
import type { CreateRunBody, LoopsClient } from './loops/client.js';
import { ApiError, type LoopsError } from './loops/errors.js';
import type { Run } from './loops/types.js';

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

export async function ensureSession(client: LoopsClient, settings: Settings): Promise<SessionChoice> {
  if (!settings.sessionId) {
    return { id: await client.createSession(settings.trainingProjectId), created: true };
  }
  try {
    await client.getSession(settings.sessionId);
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

/**
 * Creates the run. After a failure that may have reached the server (timeout, dropped
 * connection, 5xx, unreadable body) it lists the runs and adopts the one with this step's
 * session and name, created since the step began; it re-sends only when there is none.
 */
export async function createRunOnce(
  client: LoopsClient,
  body: CreateRunBody,
  startedAt: number,
  log: (line: string) => void,
): Promise<{ run: Run; adopted: boolean }> {
  let adopted = false;
  const reconcile = async (error: LoopsError): Promise<Run | undefined> => {
    if (!error.ambiguous) return undefined;
    log(`create run: ${error.reason}; the run may have been created, checking for run "${body.name}" before re-sending`);
    let runs: Run[];
    try {
      runs = await client.listRuns(body.base_model);
    } catch (listError) {
      throw new Error(
        `${error.message}. The run may have been created, but the runs could not be listed to check ` +
          `(${(listError as Error).message}), so the request was not re-sent, to avoid a duplicate run. ` +
          `Look for a run named "${body.name}" in session ${body.session_id}.`,
      );
    }
    const found = matchingRuns(runs, body, startedAt);
    if (found.length === 0) {
      log(`create run: no run named "${body.name}" exists in session ${body.session_id}; re-sending`);
      return undefined;
    }
    if (found.length > 1) {
      log(`create run: ${found.length} runs named "${body.name}" found (${found.map((r) => r.id).join(', ')}); adopting the oldest`);
    }
    const run = found[0] as Run;
    log(`create run: the earlier request did create run ${run.id}; adopting it instead of creating another`);
    adopted = true;
    return run;
  };
  const run = await client.createRun(body, reconcile);
  return { run, adopted };
}

export function matchingRuns(runs: Run[], body: CreateRunBody, startedAt: number): Run[] {
  return runs
    .filter((run) => {
      if (run.sessionId !== body.session_id || run.name !== body.name) return false;
      const created = Date.parse(run.createdAt);
      return Number.isNaN(created) || created >= startedAt - CLOCK_SKEW_MS;
    })
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
}
