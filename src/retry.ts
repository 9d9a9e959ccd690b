// One retry policy for every call: capped exponential backoff with full jitter, Retry-After
// honoured within a cap, and a log line per retry naming the operation, attempt and reason.
// Clock, sleep and randomness are injected so that tests run without waiting.

import { LoopsError } from './loops/errors.js';
import { formatSeconds } from './loops/http.js';

export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured; a longer one is clipped to this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_POLICY: Omit<RetryPolicy, 'maxRetries'> = {
  baseDelayMs: 1000,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  random: () => Math.random(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/**
 * Delay before retry number `retry` (1-based): a uniform draw from [0, min(cap, base·2^(retry-1))]
 * (full jitter). With Retry-After (clipped to its cap) the wait is at least that long, and the
 * draw on top spans a window that doubles with each throttled retry, [RA, RA·2^retry]: clients
 * all told "1 second" would otherwise come back together and be throttled again, and a crowd
 * spread this way drains without anyone running out of attempts (bench/scale.ts: a window that
 * grows only linearly is a little faster but lets 1 or 2 of 50 launches fail), while the lower
 * bound staying at RA keeps the server's capacity in use as the crowd thins.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  const growth = 2 ** (retry - 1);
  if (retryAfterMs === undefined) return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * growth);
  const wait = Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const spread = Math.min(policy.maxDelayMs, Math.max(wait, policy.baseDelayMs) * (2 * growth - 1));
  return wait + random() * spread;
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export interface RetryOptions {
  policy: RetryPolicy;
  clock: Clock;
  log: (line: string) => void;
  /** Aborting ends the loop between attempts (CancelledError); an attempt under way runs to its end. */
  signal?: AbortSignal;
  /**
   * Called after a failure that may have taken effect (error.ambiguous), once the backoff has
   * passed so that a slow server has had time to finish, and after the last attempt too.
   * Returning a value ends the loop with it (used to adopt a run that an ambiguous create made).
   */
  recover?: (error: LoopsError) => Promise<unknown>;
}

/** Runs `attempt` until it succeeds, fails for good, or retries run out. */
export async function withRetry<T>(operation: string, attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, clock, log, signal } = options;
  for (let tries = 1; ; tries++) {
    if (signal?.aborted) throw new CancelledError(operation);
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof LoopsError) || !error.retryable) throw error;
      const last = tries > policy.maxRetries;
      const check = options.recover !== undefined && error.ambiguous;
      const delay = backoffDelay(tries, policy, clock.random, error.retryAfterMs);
      const wait = formatSeconds(Math.round(delay / 100) * 100);
      const failed = `${operation}: attempt ${tries} of ${policy.maxRetries + 1} failed (${error.reason})`;
      if (check) log(`${failed}; ${last ? 'no retries left, ' : ''}checking in ${wait} whether it took effect${last ? '' : ' before retrying'}`);
      else if (!last) log(`${failed}; retrying in ${wait}`);
      if (!last || check) await clock.sleep(delay, signal);
      if (check) {
        const recovered = await options.recover?.(error);
        if (recovered !== undefined) return recovered as T;
      }
      if (last) throw new RetriesExhaustedError(operation, tries, error);
    }
  }
}

/** The workflow was cancelled while an operation was waiting to retry. */
export class CancelledError extends Error {
  constructor(readonly operation: string) {
    super(`${operation}: stopped because the workflow was cancelled`);
    this.name = 'CancelledError';
  }
}

export class RetriesExhaustedError extends Error {
  constructor(
    readonly operation: string,
    readonly attempts: number,
    readonly last: LoopsError,
  ) {
    super(`${last.message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
    this.name = 'RetriesExhaustedError';
  }
}
