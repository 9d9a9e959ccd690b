// Reading a failed run's logs: the trainer's (its Loops deployment's) and the sampler's (a Baseten
// model deployment), from the run's creation to now, newest first. Every request is one attempt
// within one deadline shared by both routes: logs explain a failure, they never delay or hide it.

import { RetriesExhaustedError, errorMessage } from '../core/errors.js';
import type { Clock } from '../core/retry.js';
import type { CallOptions, LoopsClient } from '../loops/client.js';
import type { LogLine } from '../loops/logs.js';
import type { Run } from '../loops/types.js';

export type LogSource = 'trainer' | 'sampler';

/** What one source gave: its lines (newest first), nothing to read (and why), or a failure (and why). */
export type Gathered =
  | { source: LogSource; state: 'lines'; lines: LogLine[]; streamed?: boolean }
  | { source: LogSource; state: 'none'; why: string }
  | { source: LogSource; state: 'failed'; why: string };

/** Lines read per source on a failure (the cause table looks at all of them); the step log shows fewer. */
export const FETCHED_LINES = 200;
/** The API refuses a window longer than 7 days; a minute less leaves room for our estimate of the server's clock. */
const MAX_WINDOW_MS = 7 * 24 * 3600_000 - 60_000;

/** One attempt, cut off at the deadline; none when no time is left. */
export function lastChance(deadline: number, clock: Clock): CallOptions {
  const timeoutMs = Math.floor(deadline - clock.now());
  if (timeoutMs < 1) throw new Error('no time was left to read them');
  return { hurry: { maxRetries: 0, timeoutMs, maxRetryAfterMs: 0 } };
}

/**
 * The Loops deployment whose logs are the trainer's. A run may leave `deployment_id` null (the API
 * allows it): then the deployment is looked up here, the one place that does it for logs.
 */
export async function trainerDeploymentOf(client: LoopsClient, run: Run, call: CallOptions): Promise<string | undefined> {
  if (run.deploymentId) return run.deploymentId;
  return (await client.findDeploymentOfRun(run, call))?.id;
}

/** Epoch ms from which a run's logs are read: its creation, within the API's 7-day window. */
export function windowStart(run: Run, serverNowMs: number): number | undefined {
  const created = Date.parse(run.createdAt);
  if (Number.isNaN(created)) return undefined;
  return Math.floor(Math.max(created, serverNowMs - MAX_WINDOW_MS));
}

/** Why a request failed, without the retry wrapper (there were no retries). */
export function whyFailed(error: unknown): string {
  return errorMessage(error instanceof RetriesExhaustedError ? error.last : error);
}

export interface FetchOptions {
  client: LoopsClient;
  run: Run;
  /** Our clock (ms) by which every request must have answered. */
  deadline: number;
  clock: Clock;
}

/** The trainer's newest lines since the run was created. */
export async function fetchTrainer(opts: FetchOptions): Promise<Gathered> {
  const { client, run, deadline, clock } = opts;
  try {
    const deploymentId = await trainerDeploymentOf(client, run, lastChance(deadline, clock));
    if (!deploymentId) {
      return { source: 'trainer', state: 'none', why: `run ${run.id} has no Loops deployment (a serverless run, or one not provisioned yet)` };
    }
    const query = { startMs: windowStart(run, client.serverNow().ms), direction: 'desc', limit: FETCHED_LINES } as const;
    return { source: 'trainer', state: 'lines', lines: await client.getTrainerLogs(deploymentId, query, lastChance(deadline, clock)) };
  } catch (error) {
    return { source: 'trainer', state: 'failed', why: whyFailed(error) };
  }
}

/** The sampler's newest lines since the run was created. */
export async function fetchSampler(opts: FetchOptions): Promise<Gathered> {
  const { client, run, deadline, clock } = opts;
  const sampler = run.sampler;
  if (!sampler?.modelId || !sampler.deploymentId) {
    const what = sampler ? 'the sampler has no model deployment' : 'the run has no sampler';
    return { source: 'sampler', state: 'none', why: `${what} (a serverless run, or one not provisioned yet)` };
  }
  try {
    // The two ids of a Baseten model deployment (a sampler is one), not a Loops deployment.
    const query = { startMs: windowStart(run, client.serverNow().ms), direction: 'desc', limit: FETCHED_LINES } as const;
    const lines = await client.getSamplerLogs(sampler.modelId, sampler.deploymentId, query, lastChance(deadline, clock));
    return { source: 'sampler', state: 'lines', lines };
  } catch (error) {
    return { source: 'sampler', state: 'failed', why: whyFailed(error) };
  }
}
