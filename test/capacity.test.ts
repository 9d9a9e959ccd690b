// Capacity refusals of the create (429, details.reason loops_capacity) and retry_after in a 429
// body: createRunOnce against the emulator over 127.0.0.1, on a fake clock whose sleeps pass at
// once, so that the retry window is counted, not waited.

import { afterEach, describe, expect, it } from 'vitest';
import { bodyRetryAfter } from '../src/loops/answers.js';
import { ApiError, CancelledError, CapacityError } from '../src/core/errors.js';
import type { Clock } from '../src/core/retry.js';
import { createRunOnce } from '../src/launch.js';
import { makeClient } from '../src/shared.js';
import { type Emulator, startEmulator } from './emulator/server.js';

const KEY = 'capacity-unit-key';
let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function fakeClock(onSleep?: (ms: number) => void): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    random: () => 0.5,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
      onSleep?.(ms);
    },
  };
}

const lines: string[] = [];
const log = { info: (l: string) => lines.push(l), warning: (l: string) => lines.push(l), error: () => undefined, debug: () => undefined };

async function setUp(capacity: { refusals: number; retryAfterSeconds?: number }, clock: Clock) {
  emulator = await startEmulator({ apiKeys: [KEY], capacity });
  const client = makeClient({ apiKey: KEY, apiBaseUrl: emulator.url, maxRetries: 1, requestTimeoutSeconds: 5 }, clock, log);
  const sessionId = await client.createSession();
  const body = { session_id: sessionId, base_model: 'Qwen/Qwen3-8B', name: 'cap' };
  const intent = { sessionId, sessionCreated: true, name: 'cap', createdAfter: 0 };
  const policy = { maxRetries: 1, baseDelayMs: 1000, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 };
  return { client, body, opts: { intent, policy, clock, log } };
}

const creates = (): number => emulator?.requests.filter((r) => r.method === 'POST' && r.path === '/v1/loops/runs').length ?? 0;

describe('capacity refusals of the create', () => {
  it('are retried past max_retries within the window, honouring retry_after, and the run is created once capacity comes', async () => {
    const clock = fakeClock();
    const { client, body, opts } = await setUp({ refusals: 4, retryAfterSeconds: 7 }, clock);
    const created = await createRunOnce(client, body, { ...opts, capacity: { startedAt: clock.now(), windowMs: 600_000 } });
    expect(created.adopted).toBe(false);
    expect(creates()).toBe(5); // four refusals (max_retries is 1), then the run
    expect(emulator?.runs()).toHaveLength(1);
    // retry_after 7 s is the floor of every pause; the jitter window above it grows.
    expect(clock.slept.every((ms) => ms >= 7000)).toBe(true);
    client.dispose();
  });

  it('end in CapacityError once wait_timeout_seconds have passed since the step began; the last pause is cut to the window', async () => {
    const clock = fakeClock();
    const { client, body, opts } = await setUp({ refusals: Infinity }, clock);
    const startedAt = clock.now() - 5_000; // the step began 5 s before the create
    const error = await createRunOnce(client, body, { ...opts, capacity: { startedAt, windowMs: 30_000 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityError);
    const capacity = error as CapacityError;
    expect(capacity.message).toMatch(/^Baseten has no capacity for this run now: POST \/v1\/loops\/runs was refused \d+ times/);
    expect(capacity.message).toContain('until wait_timeout_seconds (30s) had passed since the step began; nothing was created');
    expect(capacity.message).toContain('Try again later, choose another base_model, or set scope');
    expect(capacity.last).toBeInstanceOf(ApiError);
    expect(capacity.last.code).toBe('loops_capacity');
    expect(clock.now() - startedAt).toBe(30_000);
    expect(capacity.waitedMs).toBe(30_000);
    expect(emulator?.runs()).toEqual([]);
    client.dispose();
  });

  it('stop at once when the workflow is cancelled during a pause', async () => {
    const controller = new AbortController();
    const clock = fakeClock(() => controller.abort());
    const { client, body, opts } = await setUp({ refusals: Infinity }, clock);
    const error = await createRunOnce(client, body, {
      ...opts,
      signal: controller.signal,
      capacity: { startedAt: clock.now(), windowMs: 3_600_000 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect(creates()).toBe(1);
    client.dispose();
  });

  it('without a window (no capacity option) count as any 429: max_retries', async () => {
    const clock = fakeClock();
    const { client, body, opts } = await setUp({ refusals: Infinity }, clock);
    await expect(createRunOnce(client, body, opts)).rejects.toThrow(/gave up after 2 attempts/);
    client.dispose();
  });
});

describe('retry_after in a 429 body', () => {
  it('is read as seconds from any 429 JSON body, and only from a 429', () => {
    expect(bodyRetryAfter(429, '{"error": "slow down", "retry_after": 37}')).toBe(37_000);
    expect(bodyRetryAfter(429, '{"retry_after": 0.25}')).toBe(250);
    expect(bodyRetryAfter(503, '{"retry_after": 37}')).toBeUndefined();
    expect(bodyRetryAfter(429, '{"retry_after": "37"}')).toBeUndefined();
    expect(bodyRetryAfter(429, '{"retry_after": -1}')).toBeUndefined();
    expect(bodyRetryAfter(429, 'Too Many Requests')).toBeUndefined();
  });

  it('sets the ApiError delay like Retry-After (the header wins when both are sent)', async () => {
    const clock = fakeClock();
    emulator = await startEmulator({ apiKeys: [KEY] });
    emulator.fault({ path: '/v1/loops/capabilities', kind: 'status', status: 429, body: { error: 'slow', retry_after: 12 } });
    emulator.fault({ path: '/v1/loops/capabilities', kind: 'status', status: 429, body: { retry_after: 12 }, headers: { 'Retry-After': '3' } });
    const client = makeClient({ apiKey: KEY, apiBaseUrl: emulator.url, maxRetries: 2, requestTimeoutSeconds: 5 }, clock, log);
    await client.getCapabilities();
    // The pause is at least the asked delay: 12 s from the body, then 3 s from the header.
    expect(clock.slept[0]).toBeGreaterThanOrEqual(12_000);
    expect(clock.slept[1]).toBeGreaterThanOrEqual(3_000);
    expect(clock.slept[1]).toBeLessThan(12_000);
    client.dispose();
  });
});
