// waitForReady and assess (src/wait.ts) against an in-process emulator, through a real
// LoopsClient built the way makeClient builds it. A fake clock (virtual time shared with the
// emulator) makes poll counts exact; a real short clock checks the cadence and cancellation.

import { afterEach, describe, expect, it } from 'vitest';
import type { WaitFor } from '../src/inputs.js';
import { LoopsClient } from '../src/loops/client.js';
import type { Run } from '../src/loops/types.js';
import type { Log } from '../src/core/log.js';
import { silentLog } from './support/log.js';
import { type Clock, DEFAULT_POLICY, realClock } from '../src/core/retry.js';
import { SAMPLER_TERMINAL, TRAINER_TERMINAL, assess, type Observation } from '../src/readiness.js';
import { NOT_FOUND_GRACE_MS, waitForReady } from '../src/wait.js';
import { type Emulator, type EmulatorOptions, type TimelineStep, startEmulator } from './emulator/server.js';

const KEY = 'wait-unit-key';

/** A Log whose info lines land in `lines`. */
const into = (lines: string[]): Log => ({ ...silentLog, info: (line) => lines.push(line) });

/** Virtual time: sleep advances it at once. The emulator reads the same time. */
class FakeClock implements Clock {
  t = 1_700_000_000_000;
  sleeps: number[] = [];
  now = (): number => this.t;
  random = (): number => 0;
  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    if (signal?.aborted) return;
    this.t += ms;
  };
}

const open: Array<{ emulator: Emulator; client: LoopsClient }> = [];
afterEach(async () => {
  for (const { emulator, client } of open.splice(0)) {
    client.dispose();
    await emulator.close();
  }
});

async function setup(
  opts: EmulatorOptions & { clock?: Clock; maxRetries?: number; timeoutMs?: number } = {},
): Promise<{ emulator: Emulator; client: LoopsClient; run: Run; log: string[] }> {
  const clock = opts.clock ?? realClock;
  const emulator = await startEmulator({ apiKeys: [KEY], now: () => clock.now(), ...opts });
  const log: string[] = [];
  // As makeClient (src/main.ts) builds it.
  const client = new LoopsClient({
    baseUrl: emulator.url,
    apiKey: KEY,
    timeoutMs: opts.timeoutMs ?? 5_000,
    policy: { ...DEFAULT_POLICY, maxRetries: opts.maxRetries ?? 0 },
    clock,
    log: into(log),
    userAgent: 'wait-test',
  });
  open.push({ emulator, client });
  const sessionId = await client.createSession();
  const run = await client.createRun({
    session_id: sessionId,
    base_model: 'Qwen/Qwen3-8B',
    name: 'wait-test',
    lora_rank: 8,
    scale_down_delay_seconds: 60,
    availability_model: 'dedicated',
    replicas: 1,
  });
  return { emulator, client, run, log };
}

const runPolls = (emulator: Emulator, run: Run): number =>
  emulator.requests.filter((r) => r.method === 'GET' && r.path === `/v1/loops/runs/${run.id}`).length;
const deploymentPolls = (emulator: Emulator): number =>
  emulator.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/loops/deployments/')).length;

function obs(samplerStatus?: string, trainerStatus?: string, runStatus = 'ACTIVE', samplerUrl = 'https://sampler'): Observation {
  const run: Run = {
    id: 'r1',
    sessionId: 's1',
    name: 'n',
    baseModel: 'm',
    baseUrl: 'https://x',
    createdAt: '2026-01-01T00:00:00Z',
    status: runStatus,
    // A dedicated run: its sampler is a Baseten model deployment.
    sampler: { id: 'sm1', baseUrl: samplerUrl, status: samplerStatus, modelId: 'mo1', deploymentId: 'md1' },
    raw: {},
  };
  return { run, samplerStatus, trainerStatus };
}

describe('assess', () => {
  it('is ready when what is waited for is ready, and only then', () => {
    expect(assess('sampler', obs('ACTIVE'))).toEqual({ state: 'ready' });
    expect(assess('sampler', obs('DEPLOYING', 'RUNNING'))).toEqual({ state: 'waiting' });
    expect(assess('trainer', obs('DEPLOYING', 'RUNNING'))).toEqual({ state: 'ready' });
    expect(assess('trainer', obs('ACTIVE', 'DEPLOYING'))).toEqual({ state: 'waiting' });
    expect(assess('trainer', obs('ACTIVE', undefined))).toEqual({ state: 'waiting' });
    expect(assess('all', obs('ACTIVE', 'RUNNING'))).toEqual({ state: 'ready' });
    expect(assess('all', obs('ACTIVE', 'DEPLOYING'))).toEqual({ state: 'waiting' });
    expect(assess('all', obs('LOADING_MODEL', 'RUNNING'))).toEqual({ state: 'waiting' });
    expect(assess('sampler', obs(undefined))).toEqual({ state: 'waiting' });
  });

  it('an ACTIVE sampler whose base URL the API has not given yet is not ready (an empty URL is valid in the API)', () => {
    expect(assess('sampler', obs('ACTIVE', undefined, 'ACTIVE', ''))).toEqual({ state: 'waiting' });
    expect(assess('all', obs('ACTIVE', 'RUNNING', 'ACTIVE', ''))).toEqual({ state: 'waiting' });
    expect(assess('trainer', obs('ACTIVE', 'RUNNING', 'ACTIVE', ''))).toEqual({ state: 'ready' });
  });

  it('fails on every terminal sampler status when the sampler is waited for', () => {
    expect([...SAMPLER_TERMINAL].sort()).toEqual(['BUILD_FAILED', 'BUILD_STOPPED', 'DEACTIVATING', 'DEPLOY_FAILED', 'FAILED', 'INACTIVE'].sort());
    for (const status of SAMPLER_TERMINAL) {
      for (const waitFor of ['sampler', 'all'] as WaitFor[]) {
        expect(assess(waitFor, obs(status, 'RUNNING'))).toEqual({ state: 'failed', reason: `the sampler is ${status}` });
      }
      // Not waited for: a dead sampler does not fail a trainer wait.
      expect(assess('trainer', obs(status, 'RUNNING'))).toEqual({ state: 'ready' });
    }
  });

  it('fails on every terminal trainer status when the trainer is waited for', () => {
    expect([...TRAINER_TERMINAL].sort()).toEqual(['FAILED', 'PREEMPTED', 'STOPPED']);
    for (const status of TRAINER_TERMINAL) {
      for (const waitFor of ['trainer', 'all'] as WaitFor[]) {
        expect(assess(waitFor, obs('ACTIVE', status))).toEqual({ state: 'failed', reason: `the trainer is ${status}` });
      }
      expect(assess('sampler', obs('ACTIVE', status))).toEqual({ state: 'ready' });
    }
  });

  it('keeps waiting through UNHEALTHY, SCALED_TO_ZERO and WAKING_UP', () => {
    for (const status of ['UNHEALTHY', 'SCALED_TO_ZERO', 'WAKING_UP', 'BUILDING', 'DEPLOYING', 'LOADING_MODEL']) {
      expect(assess('sampler', obs(status))).toEqual({ state: 'waiting' });
      expect(assess('all', obs(status, 'RUNNING'))).toEqual({ state: 'waiting' });
    }
  });

  it('fails when the run itself is INACTIVE, whatever is waited for', () => {
    for (const waitFor of ['sampler', 'trainer', 'all'] as WaitFor[]) {
      const verdict = assess(waitFor, obs('ACTIVE', 'RUNNING', 'INACTIVE'));
      expect(verdict.state).toBe('failed');
    }
  });
});

describe('waitForReady with virtual time', () => {
  const timeline = (...steps: TimelineStep[]): TimelineStep[] => steps;

  it('polls once per interval until ready: polls = time to ready / interval', async () => {
    const clock = new FakeClock();
    const { emulator, client, run, log } = await setup({
      clock,
      samplerTimeline: timeline({ status: 'DEPLOYING', ms: 1000 }, { status: 'ACTIVE' }),
    });
    const seen: Array<string | undefined> = [];
    const result = await waitForReady({
      client,
      waitFor: 'sampler',
      initial: run,
      timeoutMs: 60_000,
      intervalMs: 100,
      clock,
      log: into(log),
      onObservation: (o) => seen.push(o.samplerStatus),
    });
    expect(result.outcome).toBe('ready');
    expect(result.elapsedMs).toBe(1000);
    expect(result.polls).toBe(10);
    expect(runPolls(emulator, run)).toBe(10);
    expect(deploymentPolls(emulator)).toBe(0);
    expect(result.samplerStatus).toBe('ACTIVE');
    expect(result.run.sampler?.status).toBe('ACTIVE');
    // Every observation reaches the outputs; only the changes reach the log.
    expect(seen).toHaveLength(11);
    expect(seen.at(-1)).toBe('ACTIVE');
    const samplerLines = log.filter((l) => l.startsWith(`Run ${run.id}: sampler`));
    expect(samplerLines).toEqual([`Run ${run.id}: sampler DEPLOYING (0s)`, `Run ${run.id}: sampler DEPLOYING → ACTIVE (1s)`]);
  });

  it('keeps an exact cadence from the start, with a random phase under 10% of the interval', async () => {
    const clock = new FakeClock();
    clock.random = () => 0.5;
    const { client, run } = await setup({
      clock,
      samplerTimeline: timeline({ status: 'DEPLOYING', ms: 1000 }, { status: 'ACTIVE' }),
    });
    const start = clock.now();
    const result = await waitForReady({
      client,
      waitFor: 'sampler',
      initial: run,
      timeoutMs: 60_000,
      intervalMs: 200,
      clock,
      log: silentLog,
    });
    expect(result.outcome).toBe('ready');
    // Phase 0.5 × 0.1 × 200 = 10 ms: polls at 210, 410, … 1010.
    expect(result.polls).toBe(5);
    expect(clock.now() - start).toBe(1010);
    expect(clock.sleeps).toEqual([210, 200, 200, 200, 200]);
  });

  it('returns ready at once, without polling, when the run is already ready', async () => {
    const clock = new FakeClock();
    const { emulator, client, run } = await setup({ clock, samplerTimeline: [{ status: 'ACTIVE' }] });
    const result = await waitForReady({
      client,
      waitFor: 'sampler',
      initial: run,
      timeoutMs: 1000,
      intervalMs: 100,
      clock,
      log: silentLog,
    });
    expect(result).toMatchObject({ outcome: 'ready', polls: 0, elapsedMs: 0 });
    expect(runPolls(emulator, run)).toBe(0);
  });

  it('times out at the deadline, naming the run, its last statuses and the wait', async () => {
    const clock = new FakeClock();
    const { emulator, client, run } = await setup({
      clock,
      samplerTimeline: [{ status: 'LOADING_MODEL' }],
      trainerTimeline: [{ status: 'DEPLOYING' }],
    });
    const result = await waitForReady({
      client,
      waitFor: 'all',
      initial: run,
      timeoutMs: 1000,
      intervalMs: 300,
      clock,
      log: silentLog,
    });
    expect(result.outcome).toBe('timed_out');
    // Polls at 300, 600, 900 and one last at the deadline.
    expect(result.polls).toBe(4);
    expect(result.elapsedMs).toBe(1000);
    expect(runPolls(emulator, run)).toBe(4);
    expect(deploymentPolls(emulator)).toBe(4);
    expect(result.reason).toBe(
      `run ${run.id} was not ready after 1s (wait_timeout_seconds); last statuses: sampler LOADING_MODEL, trainer DEPLOYING`,
    );
  });

  it('fails fast on a terminal status, without waiting for the timeout', async () => {
    const clock = new FakeClock();
    const { client, run } = await setup({
      clock,
      trainerTimeline: timeline({ status: 'CREATED', ms: 250 }, { status: 'PREEMPTED' }),
    });
    const result = await waitForReady({
      client,
      waitFor: 'trainer',
      initial: run,
      timeoutMs: 3_600_000,
      intervalMs: 100,
      clock,
      log: silentLog,
    });
    expect(result).toMatchObject({ outcome: 'failed', reason: 'the trainer is PREEMPTED', trainerStatus: 'PREEMPTED' });
    expect(result.polls).toBe(3);
    expect(result.elapsedMs).toBe(300);
  });

  it('polls the deployment named by the run for the trainer', async () => {
    const clock = new FakeClock();
    const { emulator, client, run } = await setup({
      clock,
      trainerTimeline: timeline({ status: 'CREATED', ms: 100 }, { status: 'DEPLOYING', ms: 100 }, { status: 'RUNNING' }),
    });
    const log: string[] = [];
    const result = await waitForReady({
      client,
      waitFor: 'trainer',
      initial: run,
      timeoutMs: 10_000,
      intervalMs: 50,
      clock,
      log: into(log),
    });
    expect(result).toMatchObject({ outcome: 'ready', trainerStatus: 'RUNNING', polls: 4 });
    const paths = emulator.requests.filter((r) => r.method === 'GET').map((r) => r.path);
    expect(paths.filter((p) => p === `/v1/loops/deployments/${run.deploymentId}`)).toHaveLength(4);
    expect(log.filter((l) => l.includes(': trainer '))).toEqual([
      `Run ${run.id}: trainer CREATED (0s)`,
      `Run ${run.id}: trainer CREATED → DEPLOYING (0s)`,
      `Run ${run.id}: trainer DEPLOYING → RUNNING (0s)`,
    ]);
  });

  it('finds the trainer of a run without deployment_id through the deployments list', async () => {
    const clock = new FakeClock();
    const { emulator, client, run } = await setup({ clock, deploymentIdOnRuns: false });
    expect(run.deploymentId).toBeUndefined();
    const result = await waitForReady({
      client,
      waitFor: 'trainer',
      initial: run,
      timeoutMs: 5000,
      intervalMs: 100,
      clock,
      log: silentLog,
    });
    expect(result.outcome).toBe('ready');
    expect(result.trainerStatus).toBe('RUNNING');
    expect(emulator.requests.some((r) => r.method === 'GET' && r.path === '/v1/loops/deployments')).toBe(true);
  });

  it('says once that the run has no deployment yet, and keeps waiting', async () => {
    const clock = new FakeClock();
    const { emulator, client, run } = await setup({ clock, deploymentIdOnRuns: false });
    emulator.fault({ method: 'GET', path: '/v1/loops/deployments', kind: 'status', status: 200, body: { deployments: [] }, times: Infinity });
    const log: string[] = [];
    const result = await waitForReady({
      client,
      waitFor: 'trainer',
      initial: run,
      timeoutMs: 500,
      intervalMs: 100,
      clock,
      log: into(log),
    });
    expect(result.outcome).toBe('timed_out');
    expect(result.reason).toContain('trainer unknown');
    expect(deploymentPolls(emulator)).toBe(0);
    expect(log.filter((l) => l.includes('has no Loops deployment yet'))).toHaveLength(1);
  });

  it('a polling error ends the wait as failed, naming the request', async () => {
    const clock = new FakeClock();
    const { emulator, client, run } = await setup({ clock, samplerTimeline: [{ status: 'DEPLOYING' }] });
    emulator.fault({ method: 'GET', path: `/v1/loops/runs/${run.id}`, kind: 'status', status: 400, body: { detail: 'Bad run id' } });
    const result = await waitForReady({
      client,
      waitFor: 'sampler',
      initial: run,
      timeoutMs: 10_000,
      intervalMs: 100,
      clock,
      log: silentLog,
    });
    expect(result.outcome).toBe('failed');
    expect(result.reason).toBe(`polling failed: GET /v1/loops/runs/${run.id} failed: HTTP 400 Bad Request: Bad run id`);
    expect(result.polls).toBe(1);
  });

  it(`a 404 on a run the create just returned is read-after-write lag for ${NOT_FOUND_GRACE_MS / 1000}s, then it is a failure`, async () => {
    const clock = new FakeClock();
    const { emulator, client, run } = await setup({ clock, samplerTimeline: [{ status: 'DEPLOYING', ms: 20_000 }, { status: 'ACTIVE' }] });
    const notFound = { method: 'GET', path: `/v1/loops/runs/${run.id}`, kind: 'status', status: 404, body: { detail: 'Run not found' } } as const;
    emulator.fault({ ...notFound, times: 5 });
    const log: string[] = [];
    const opts = { client, waitFor: 'sampler', initial: run, timeoutMs: 120_000, intervalMs: 1000, clock, log: into(log) } as const;
    const lagged = await waitForReady(opts);
    expect(lagged.outcome).toBe('ready');
    expect(log.filter((l) => l.includes('is not visible yet'))).toHaveLength(1);

    emulator.fault({ ...notFound, times: Infinity });
    const start = clock.now();
    const gone = await waitForReady(opts);
    expect(gone.outcome).toBe('failed');
    expect(gone.reason).toContain('HTTP 404 Not Found: Run not found');
    expect(clock.now() - start).toBeGreaterThanOrEqual(NOT_FOUND_GRACE_MS);
    expect(clock.now() - start).toBeLessThan(NOT_FOUND_GRACE_MS + 2000);
  });
});

describe('waitForReady in real time', () => {
  // A real clock with short sleeps: the cadence holds against a real server.
  it('polls about once per interval', async () => {
    const { emulator, client, run } = await setup({
      samplerTimeline: [{ status: 'DEPLOYING', ms: 600 }, { status: 'ACTIVE' }],
    });
    const interval = 50;
    const result = await waitForReady({
      client,
      waitFor: 'sampler',
      initial: run,
      timeoutMs: 20_000,
      intervalMs: interval,
      clock: realClock,
      log: silentLog,
    });
    expect(result.outcome).toBe('ready');
    expect(result.elapsedMs).toBeGreaterThanOrEqual(500);
    expect(result.polls).toBe(runPolls(emulator, run));
    // Exact cadence: never more polls than intervals elapsed (+1 for the phase), and
    // not far fewer unless the machine stalled (generous for a loaded CI runner).
    expect(result.polls).toBeLessThanOrEqual(Math.ceil(result.elapsedMs / interval) + 1);
    expect(result.polls).toBeGreaterThanOrEqual(Math.min(8, Math.floor(result.elapsedMs / interval / 3)));
  });

  it('times out after about timeoutMs', async () => {
    const { client, run } = await setup({ samplerTimeline: [{ status: 'DEPLOYING' }] });
    const started = Date.now();
    const result = await waitForReady({
      client,
      waitFor: 'sampler',
      initial: run,
      timeoutMs: 400,
      intervalMs: 100,
      clock: realClock,
      log: silentLog,
    });
    expect(result.outcome).toBe('timed_out');
    expect(result.elapsedMs).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.reason).toContain('was not ready after 0.4s');
  });

  it('stops promptly when the signal aborts during a sleep', async () => {
    const { emulator, client, run } = await setup({ samplerTimeline: [{ status: 'DEPLOYING' }] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const started = Date.now();
    // A 10-minute interval: only an abortable sleep returns in time.
    const result = await waitForReady({
      client,
      waitFor: 'sampler',
      initial: run,
      timeoutMs: 3_600_000,
      intervalMs: 600_000,
      clock: realClock,
      signal: controller.signal,
      log: silentLog,
    });
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'the workflow was cancelled', polls: 0 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(runPolls(emulator, run)).toBe(0);
  });

  it('stops promptly when the signal aborts during a slow poll', async () => {
    const { emulator, client, run } = await setup({ samplerTimeline: [{ status: 'DEPLOYING' }] });
    emulator.fault({ method: 'GET', path: `/v1/loops/runs/${run.id}`, kind: 'delay', delayMs: 30_000 });
    const controller = new AbortController();
    const started = Date.now();
    const waiting = waitForReady({
      client,
      waitFor: 'sampler',
      initial: run,
      timeoutMs: 3_600_000,
      intervalMs: 100,
      clock: realClock,
      signal: controller.signal,
      log: silentLog,
    });
    // Abort once the poll is in flight.
    for (let i = 0; i < 200 && runPolls(emulator, run) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(runPolls(emulator, run)).toBe(1);
    controller.abort();
    const result = await waiting;
    expect(result.outcome).toBe('cancelled');
    expect(result.polls).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('returns cancelled at once when the signal is already aborted', async () => {
    const { emulator, client, run } = await setup({ samplerTimeline: [{ status: 'DEPLOYING' }] });
    const controller = new AbortController();
    controller.abort();
    const result = await waitForReady({
      client,
      waitFor: 'sampler',
      initial: run,
      timeoutMs: 60_000,
      intervalMs: 1000,
      clock: realClock,
      signal: controller.signal,
      log: silentLog,
    });
    expect(result.outcome).toBe('cancelled');
    expect(runPolls(emulator, run)).toBe(0);
  });

  it('a cancellation wins even when the run is ready at the first look (a warm start, an adoption)', async () => {
    const { emulator, client, run } = await setup({ samplerTimeline: [{ status: 'ACTIVE' }] });
    expect(run.sampler?.status).toBe('ACTIVE');
    const controller = new AbortController();
    controller.abort();
    const opts = { client, waitFor: 'sampler', initial: run, timeoutMs: 60_000, intervalMs: 1000, clock: realClock, log: silentLog } as const;
    expect((await waitForReady(opts)).outcome).toBe('ready');
    expect((await waitForReady({ ...opts, signal: controller.signal })).outcome).toBe('cancelled');
    expect(runPolls(emulator, run)).toBe(0);
  });

  it('a cancellation during the sampler probe ends the wait cancelled, not ready', async () => {
    const { client, run } = await setup({ samplerTimeline: [{ status: 'ACTIVE' }] });
    const controller = new AbortController();
    const askSampler = async () => {
      controller.abort();
      return { state: 'ready', model: 'm' } as const;
    };
    const opts = { client, waitFor: 'sampler', initial: run, timeoutMs: 60_000, intervalMs: 1000, clock: realClock, log: silentLog } as const;
    expect((await waitForReady({ ...opts, signal: controller.signal, askSampler })).outcome).toBe('cancelled');
  });
});
