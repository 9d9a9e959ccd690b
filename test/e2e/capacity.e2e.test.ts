// End to end, capacity and rate limits (SPEC "Availability modes"): a capacity refusal of the
// create is retried within wait_timeout_seconds (not max_retries), cancellation cuts it short,
// and then the step fails with the message and the fix; a retry_after in a 429 body is honoured
// like Retry-After; parallel legs under Baseten's per-endpoint limits recover from 429s.

import { describe, expect } from 'vitest';
import type { Emulator } from '../emulator/server.js';
import { annotations, requestsTo, signalOn } from '../support/e2e.js';
import { lifeTest as test, launchInputs } from './life.js';

const creates = (emulator: Emulator) => requestsTo(emulator, 'POST', '/v1/loops/runs');

describe.concurrent('capacity refusals (429, details.reason loops_capacity)', () => {
  test('retried past max_retries until capacity comes: the run is created once', async ({ loops, step }) => {
    const emulator = await loops({ capacity: { refusals: 2, retryAfterSeconds: 0.2 } });
    const result = await step({ inputs: launchInputs(emulator, { max_retries: 0, wait_timeout_seconds: 30 }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.status).toBe('launched');
    expect(creates(emulator).map((r) => r.status)).toEqual([429, 429, 200]);
    expect(result.stdout).toContain('create run: Baseten has no capacity for this run now (HTTP 429, loops_capacity; refusal 2)');
    expect(emulator.runs()).toHaveLength(1);
  });

  test('until wait_timeout_seconds since the step began, then status failed with the message and the fix; nothing created', async ({
    loops,
    step,
  }) => {
    const emulator = await loops({ capacity: { refusals: Infinity, retryAfterSeconds: 0.3 } });
    // 4 s: throttled pauses rise (1–2 s, then 2–4 s, clipped to the window), so at least three tries fit.
    const result = await step({ inputs: launchInputs(emulator, { max_retries: 0, wait_timeout_seconds: 4 }) });
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('failed');
    const error = annotations(result.stdout);
    expect(error).toMatch(/^Baseten has no capacity for this run now: POST \/v1\/loops\/runs was refused \d+ times \(HTTP 429, loops_capacity\)/);
    expect(error).toContain('until wait_timeout_seconds (4s) had passed since the step began; nothing was created');
    expect(error).toContain('Try again later, choose another base_model, or set scope (serverless or deployment)');
    expect(creates(emulator).length).toBeGreaterThan(2);
    expect(emulator.runs()).toEqual([]);
    expect(result.summary).toContain('Baseten has no capacity for this run now');
  });

  test("the window counts from the step's start, not from the first create: a slow preflight uses it up", async ({ loops, step }) => {
    const emulator = await loops({ capacity: { refusals: Infinity, retryAfterSeconds: 0.3 } });
    emulator.fault({ path: '/v1/loops/capabilities', kind: 'delay', delayMs: 2500 });
    const result = await step({ inputs: launchInputs(emulator, { max_retries: 0, wait_timeout_seconds: 3 }) });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toContain('until wait_timeout_seconds (3s) had passed since the step began');
    const first = Math.min(...emulator.requests.map((r) => r.at));
    const last = Math.max(...creates(emulator).map((r) => r.at));
    // Counted from the first create (≈ 2.5 s in), the last would come ≈ 5.5 s after the first request.
    expect(last - first).toBeLessThan(4_000);
  });

  test('cancellation cuts the pause short: status cancelled, nothing created', async ({ loops, step }) => {
    // retry_after 60 s: without the cancellation, the step would outlive its 20 s run limit.
    const emulator = await loops({ capacity: { refusals: Infinity, retryAfterSeconds: 60 } });
    const result = await step({
      inputs: launchInputs(emulator, { wait_timeout_seconds: 600 }),
      ...signalOn('Baseten has no capacity for this run now', 'SIGINT'),
    });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('cancelled');
    expect(creates(emulator)).toHaveLength(1);
    expect(emulator.runs()).toEqual([]);
  });
});

describe.concurrent('a 429 of the create without loops_capacity (a rate limit)', () => {
  test('is retried up to max_retries, not for the whole wait window: then the step fails, nothing created', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({
      method: 'POST',
      path: '/v1/loops/runs',
      kind: 'status',
      status: 429,
      times: Infinity,
      body: { error: 'Rate limit exceeded', retry_after: 0.2 },
    });
    const result = await step({ inputs: launchInputs(emulator, { max_retries: 1, wait_timeout_seconds: 30 }) });
    expect(result.code).toBe(1);
    expect(creates(emulator)).toHaveLength(2);
    expect(annotations(result.stdout)).toMatch(/HTTP 429.*gave up after 2 attempts/);
    expect(annotations(result.stdout)).not.toContain('no capacity');
    expect(emulator.runs()).toEqual([]);
  });
});

describe.concurrent('retry_after in a 429 body', () => {
  test('is honoured like Retry-After (Baseten sends no header)', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({
      method: 'POST',
      path: '/v1/loops/sessions',
      kind: 'status',
      status: 429,
      body: { error: 'Rate limit exceeded', retry_after: 2 },
    });
    const result = await step({ inputs: launchInputs(emulator) });
    expect(result.code, result.stdout).toBe(0);
    const line = result.stdout.split('\n').find((l) => l.startsWith('create session: attempt 1 of 2 failed (HTTP 429'));
    const seconds = Number(/retrying in ([\d.]+)s/.exec(line ?? '')?.[1]);
    expect(seconds, line).toBeGreaterThanOrEqual(2);
    const [first, second] = requestsTo(emulator, 'POST', '/v1/loops/sessions');
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1900);
  });
});

describe("Baseten's rate limits: per key and per endpoint", () => {
  test('parallel legs polling hard: every 429 (retry_after in the body) is waited out, every leg ready', async ({ loops, step }) => {
    // The documented limits, scaled down so that 8 legs polling every 0.1 s cross them for sure.
    const emulator = await loops({
      endpointRateLimits: { perSecond: 8, deploymentActionsPerMinute: 20 },
      samplerTimeline: [{ status: 'DEPLOYING', ms: 1500 }, { status: 'ACTIVE' }],
    });
    const legs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        step({
          inputs: launchInputs(emulator, { wait_for: 'all', wait_timeout_seconds: 60, max_retries: 4, leg_key: `leg-${i}` }),
          timeoutMs: 90_000,
        }),
      ),
    );
    for (const leg of legs) expect(leg.outputs.status, leg.stdout).toBe('ready');
    expect(emulator.requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    // Each retry waits at least the body's retry_after (1 s in a 1 s window).
    const retries = legs.flatMap((l) => l.stdout.split('\n')).filter((l) => /failed \(HTTP 429 Too Many Requests\); retrying in/.test(l));
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.filter((l) => !/retrying in ([1-9]\d*(\.\d)?)s$/.test(l))).toEqual([]);
  }, 120_000);

  test('at the documented 100 requests/s, ten legs waiting at the default cadence stay under it: no 429', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 1000 }, { status: 'ACTIVE' }] });
    const legs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        step({ inputs: launchInputs(emulator, { wait_for: 'all', poll_interval_seconds: 0.5, leg_key: `leg-${i}` }) }),
      ),
    );
    for (const leg of legs) expect(leg.outputs.status, leg.stdout).toBe('ready');
    expect(emulator.requests.filter((r) => r.status === 429)).toEqual([]);
  }, 60_000);
});
