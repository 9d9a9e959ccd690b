// One retry policy for every call: capped exponential backoff with full jitter, Retry-After
// honoured within a cap, and a log line per retry naming the operation, attempt and reason.
// Clock, sleep and randomness are injected so that tests run without waiting. It knows
// failures only by the small Retryable shape, so it depends on no API code.

import { CancelledError, RetriesExhaustedError, isRetryable } from './errors.js';
import { formatSeconds } from './text.js';

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
 * (full jitter). A throttled retry (Retry-After, clipped to its cap) waits at least that long
 * and at least the backoff's own ceiling, min(cap, base·2^(retry-1)), then a draw of up to as
 * much again, capped like any backoff ("equal jitter"): RA 1 s → [1, 2], [2, 4], [4, 8], [8, 16] s.
 * Clients all told "1 second" would otherwise come back together and be throttled again; a lower
 * bound that rises with each 429 guarantees a throttled request's patience (15 s over four
 * retries), and a window only as wide as its lower bound brings the crowd back while the server
 * still has capacity to use. bench/scale.ts (50 launches of five requests each at 10 requests/s):
 * this drains with none out of attempts at 1.3× the floor; a window [RA, RA·2^retry] above a
 * fixed RA let 1 to 3 launches run out of attempts, and widening it to avoid that took 1.7–3×.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  const growth = 2 ** (retry - 1);
  if (retryAfterMs === undefined) return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * growth);
  const wait = Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const floor = Math.max(wait, Math.min(policy.maxDelayMs, policy.baseDelayMs * growth));
  return floor + random() * Math.min(policy.maxDelayMs, floor);
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
}

/** The delay before retry `tries` and its log text ("1.5s"). */
export function nextDelay(tries: number, error: { retryAfterMs?: number }, options: RetryOptions): { ms: number; text: string } {
  const ms = backoffDelay(tries, options.policy, () => options.clock.random(), error.retryAfterMs);
  return { ms, text: formatSeconds(Math.round(ms / 100) * 100) };
}

/** Runs `attempt` until it succeeds, fails for good, or retries run out. */
export async function withRetry<T>(operation: string, attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, clock, log, signal } = options;
  for (let tries = 1; ; tries++) {
    if (signal?.aborted) throw new CancelledError(operation);
    try {
      return await attempt();
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (tries > policy.maxRetries) throw new RetriesExhaustedError(operation, tries, error);
      const delay = nextDelay(tries, error, options);
      log(`${operation}: attempt ${tries} of ${policy.maxRetries + 1} failed (${error.reason}); retrying in ${delay.text}`);
      await clock.sleep(delay.ms, signal);
    }
  }
}
