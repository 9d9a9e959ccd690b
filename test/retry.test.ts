import { describe, expect, it } from 'vitest';
import { ApiError, NetworkError, RetriesExhaustedError } from '../src/core/errors.js';
import { type Clock, type RetryPolicy, backoffDelay, parseRetryAfter, withRetry } from '../src/core/retry.js';

const policy: RetryPolicy = { maxRetries: 3, baseDelayMs: 1000, maxDelayMs: 5000, maxRetryAfterMs: 60_000 };

function fakeClock(random = 0.5): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    random: () => random,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('backoffDelay', () => {
  it('draws from a ceiling that doubles and is capped (full jitter)', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, () => 1))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(2, policy, () => 0.25)).toBe(500);
  });

  it('honours Retry-After within the cap, above a lower bound that rises with each retry (equal jitter)', () => {
    expect(backoffDelay(1, policy, () => 0, 7000)).toBe(7000);
    expect(backoffDelay(1, policy, () => 0.5, 7000)).toBe(9500);
    // RA 1 s → [1, 2], [2, 4], [4, 8] s, then the backoff's cap (maxDelayMs 5 s here): [5, 10] s.
    expect(backoffDelay(1, policy, () => 0, 1000)).toBe(1000);
    expect(backoffDelay(1, policy, () => 1, 1000)).toBe(2000);
    expect(backoffDelay(2, policy, () => 0, 1000)).toBe(2000);
    expect(backoffDelay(2, policy, () => 1, 1000)).toBe(4000);
    expect(backoffDelay(3, policy, () => 0, 1000)).toBe(4000);
    expect(backoffDelay(3, policy, () => 1, 1000)).toBe(8000);
    expect(backoffDelay(4, policy, () => 0, 1000)).toBe(5000);
    expect(backoffDelay(6, policy, () => 1, 1000)).toBe(10_000);
    // A long Retry-After is the lower bound; the draw on top stays within the backoff's cap.
    expect(backoffDelay(3, policy, () => 0.5, 30_000)).toBe(32_500);
    expect(backoffDelay(1, policy, () => 0, 3_600_000)).toBe(60_000);
    expect(backoffDelay(9, policy, () => 1, 3_600_000)).toBe(65_000);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('0.5', 0)).toBe(500);
    const now = Date.parse('2026-11-21T10:00:00Z');
    expect(parseRetryAfter('Sat, 21 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sat, 21 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('withRetry', () => {
  it('retries transient failures and logs the operation, attempt and reason', async () => {
    const clock = fakeClock();
    const lines: string[] = [];
    let calls = 0;
    const value = await withRetry(
      'get run',
      async () => {
        calls++;
        if (calls === 1) throw new ApiError('GET', '/v1/loops/runs/r', 503, 'busy');
        if (calls === 2) throw new NetworkError('GET', '/v1/loops/runs/r', 'timeout after 30s', { ambiguous: true });
        return 'ok';
      },
      { policy, clock, log: (l) => lines.push(l) },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(lines).toEqual([
      'get run: attempt 1 of 4 failed (HTTP 503 Service Unavailable); retrying in 0.5s',
      'get run: attempt 2 of 4 failed (timeout after 30s); retrying in 1s',
    ]);
    expect(clock.slept).toEqual([500, 1000]);
  });

  it('fails at once on a 4xx other than 408 and 429', async () => {
    for (const status of [400, 401, 403, 404, 409, 422]) {
      let calls = 0;
      const attempt = async () => {
        calls++;
        throw new ApiError('POST', '/v1/loops/runs', status, 'no');
      };
      await expect(withRetry('create run', attempt, { policy, clock: fakeClock(), log: () => {} })).rejects.toBeInstanceOf(ApiError);
      expect(calls, `HTTP ${status}`).toBe(1);
    }
  });

  it('retries 408 and 429, waiting for Retry-After', async () => {
    const clock = fakeClock(0);
    let calls = 0;
    await withRetry(
      'create session',
      async () => {
        calls++;
        if (calls === 1) throw new ApiError('POST', '/v1/loops/sessions', 429, 'slow down', 4000);
        if (calls === 2) throw new ApiError('POST', '/v1/loops/sessions', 408, '');
        return 1;
      },
      { policy, clock, log: () => {} },
    );
    expect(calls).toBe(3);
    expect(clock.slept[0]).toBe(4000);
  });

  it('gives up after max_retries and says how many attempts were made', async () => {
    let calls = 0;
    const error = await withRetry(
      'get run',
      async () => {
        calls++;
        throw new ApiError('GET', '/v1/loops/runs/r', 500, 'boom');
      },
      { policy, clock: fakeClock(), log: () => {} },
    ).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect((error as Error).message).toBe('GET /v1/loops/runs/r failed: HTTP 500 Internal Server Error: boom (gave up after 4 attempts)');
  });
});
