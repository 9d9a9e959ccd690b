// What every entry that talks to Loops needs (main, post, stop): the client factory, secret
// masking and redaction, stopping a run (idempotent), the state the main step leaves for the post
// step, and which runs a step could have made. Entries import this module, never each other.

import * as core from '@actions/core';
import { ApiError, RetriesExhaustedError } from './core/errors.js';
import type { Log } from './core/log.js';
import { type Clock, DEFAULT_POLICY, type RetryPolicy } from './core/retry.js';
import type { Connection } from './inputs.js';
import { type CallOptions, LoopsClient } from './loops/client.js';
import type { Run } from './loops/types.js';
import pkg from '../package.json' with { type: 'json' };

// Entries that talk to Loops import these from here, with the rest.
export { redact, runToEnd, writeSummary } from './core/step-io.js';

/** The version comes from package.json (the release script bumps it there), never a copy. */
export const USER_AGENT = `baseten-loops-launch/${pkg.version}`;

/** The retry policy the inputs ask for. */
export function policyOf(settings: Pick<Connection, 'maxRetries'>): RetryPolicy {
  return { ...DEFAULT_POLICY, maxRetries: settings.maxRetries };
}

export function makeClient(settings: Connection, clock: Clock, log: Log): LoopsClient {
  return new LoopsClient({
    baseUrl: settings.apiBaseUrl,
    apiKey: settings.apiKey,
    timeoutMs: settings.requestTimeoutSeconds * 1000,
    policy: policyOf(settings),
    clock,
    log,
    userAgent: USER_AGENT,
  });
}

/** Masks the secrets before anything else can print them. */
export function maskSecrets(env: Record<string, string | undefined>): string[] {
  const secrets = [core.getInput('api_key'), env.BASETEN_API_KEY ?? '', core.getInput('github_token')]
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const secret of secrets) core.setSecret(secret);
  return secrets;
}

/** The runner kills a cancelled step about 10 s after SIGINT: calls made then get seconds, not minutes. */
export const HURRY = { maxRetries: 1, timeoutMs: 4000, maxRetryAfterMs: 1000 } as const;

export type StopOutcome = 'stopped' | 'already_stopped';

/**
 * Deactivates a run. Whether deactivation is idempotent is undocumented: an answer of 404 or 409
 * means "already stopped", as does a run already INACTIVE when `check` looks first. A look that
 * fails is an error, not a licence to deactivate blind — deactivating a run that a newer run
 * replaced would tear down that newer run's deployment — unless `blindIfLookFails` says the caller
 * (the failure path) would rather risk that than leave GPUs running.
 */
export async function stopRun(
  client: LoopsClient,
  runId: string,
  opts: CallOptions & { check?: boolean; blindIfLookFails?: boolean } = {},
): Promise<StopOutcome> {
  if (opts.check) {
    try {
      if ((await client.getRun(runId, opts)).status === 'INACTIVE') return 'already_stopped';
    } catch (error) {
      if (isGone(error)) return 'already_stopped';
      if (!opts.blindIfLookFails) throw error;
    }
  }
  try {
    await client.deactivateRun(runId, opts);
    return 'stopped';
  } catch (error) {
    if (isGone(error)) return 'already_stopped';
    throw error;
  }
}

function isGone(error: unknown): boolean {
  const last = error instanceof RetriesExhaustedError ? error.last : error;
  return last instanceof ApiError && (last.status === 404 || last.status === 409);
}

/** The sentence a log line gives for a stop outcome. */
export function describeStop(runId: string, outcome: StopOutcome): string {
  return outcome === 'stopped' ? `Deactivated run ${runId}` : `Run ${runId} was already stopped`;
}

/** What the post step may have to stop, saved by the main step before it creates anything. */
export interface LaunchState {
  /** When to stop the run: at job end, only if the main step did not finish, or never. */
  stop?: 'job_end' | 'failure' | 'never';
  sessionId?: string;
  sessionCreated?: boolean;
  runName?: string;
  baseModel?: string;
  /** Server time (ISO) before the first create request: no run this step made is older. */
  createdAfter?: string;
  /** Our clock (ms) when the latest create request was sent. */
  sentAt?: number;
  /** The create was sent more than once (after an ambiguous failure): a late duplicate may land. */
  resent?: boolean;
  runId?: string;
  status?: string;
  /** The main step stopped the run itself. */
  stopped?: boolean;
}

const STATE_KEYS = {
  stop: 'stop',
  sessionId: 'session_id',
  sessionCreated: 'session_created',
  runName: 'run_name',
  baseModel: 'base_model',
  createdAfter: 'created_after',
  sentAt: 'sent_at',
  resent: 'resent',
  runId: 'run_id',
  status: 'status',
  stopped: 'stopped',
} as const satisfies Record<keyof LaunchState, string>;

export function saveLaunchState(state: LaunchState): void {
  for (const [key, name] of Object.entries(STATE_KEYS) as Array<[keyof LaunchState, string]>) {
    const value = state[key];
    if (value !== undefined) core.saveState(name, String(value));
  }
}

export function readLaunchState(): LaunchState {
  const get = (key: keyof LaunchState): string | undefined => core.getState(STATE_KEYS[key]) || undefined;
  const stop = get('stop');
  return {
    stop: stop === 'job_end' || stop === 'failure' || stop === 'never' ? stop : undefined,
    sessionId: get('sessionId'),
    sessionCreated: get('sessionCreated') === 'true',
    runName: get('runName'),
    baseModel: get('baseModel'),
    createdAfter: get('createdAfter'),
    sentAt: Number(get('sentAt')) || undefined,
    resent: get('resent') === 'true',
    runId: get('runId'),
    status: get('status'),
    stopped: get('stopped') === 'true',
  };
}

/** What identifies the runs one create request (and its re-sends) could have made. */
export interface CreateIntent {
  sessionId: string;
  sessionCreated: boolean;
  name: string;
  /** Server-clock ms. */
  createdAfter: number;
}

/**
 * The runs this step could have made: in its session, created (on the server's clock) after its
 * first create request, and named as it named the run — in a session the step created, every
 * run, whatever its name or time. `unsure` when, in a reused session, a candidate has no name (an older API). Live runs
 * first, then oldest first.
 */
export function ownRuns(runs: Run[], intent: CreateIntent): { runs: Run[]; unsure: boolean } {
  // In a session this step created, every run is its own: no clock needs to be trusted.
  const candidates = runs.filter((run) => {
    if (run.sessionId !== intent.sessionId) return false;
    const created = Date.parse(run.createdAt);
    return intent.sessionCreated || Number.isNaN(created) || created >= intent.createdAfter;
  });
  const mine = intent.sessionCreated ? candidates : candidates.filter((run) => run.name === intent.name);
  const rank = (run: Run): number => (run.status === 'INACTIVE' ? 1 : 0);
  mine.sort((a, b) => rank(a) - rank(b) || Date.parse(a.createdAt) - Date.parse(b.createdAt));
  return { runs: mine, unsure: !intent.sessionCreated && candidates.some((run) => run.name === undefined) };
}
