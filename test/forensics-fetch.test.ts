// Reading logs (the client's two logs routes, src/forensics/fetch.ts and investigate.ts) against
// an in-process emulator over 127.0.0.1, through a real LoopsClient built as makeClient builds it:
// what is asked, what is parsed, and that a route that fails, hangs or answers garbage costs one
// attempt within the deadline and never throws.

import { afterEach, describe, expect, it } from 'vitest';
import { type Clock, DEFAULT_POLICY, realClock } from '../src/core/retry.js';
import { fetchSampler, fetchTrainer, windowStart } from '../src/forensics/fetch.js';
import { investigate } from '../src/forensics/investigate.js';
import { LoopsClient } from '../src/loops/client.js';
import { type LogLine, parseLogs } from '../src/loops/logs.js';
import { type Run, parseRun } from '../src/loops/types.js';
import { type Emulator, type EmulatorOptions, startEmulator } from './emulator/server.js';
import { silentLog } from './support/log.js';

const KEY = 'fetch-unit-key-19be';
const open: Array<{ emulator: Emulator; client: LoopsClient }> = [];
afterEach(async () => {
  for (const { emulator, client } of open.splice(0)) {
    client.dispose();
    await emulator.close();
  }
});

async function setup(opts: EmulatorOptions = {}, clock: Clock = realClock): Promise<{ emulator: Emulator; client: LoopsClient; run: Run }> {
  const emulator = await startEmulator({ apiKeys: [KEY], story: 'oom', ...opts });
  const client = new LoopsClient({
    baseUrl: emulator.url,
    apiKey: KEY,
    timeoutMs: 5_000,
    policy: { ...DEFAULT_POLICY, maxRetries: 4 },
    clock,
    log: silentLog,
    userAgent: 'fetch-test',
  });
  open.push({ emulator, client });
  const session = emulator.createSession();
  const run = parseRun(emulator.createRun({ session_id: session, base_model: 'Qwen/Qwen3-8B', name: 'fetch' }, { createdAt: Date.now() - 1000 }));
  return { emulator, client, run };
}

const logRequests = (emulator: Emulator) => emulator.requests.filter((r) => r.path.endsWith('/logs'));
const soon = (ms = 2_000): number => realClock.now() + ms;

describe('the logs routes, through the client', () => {
  it("trainer: the run's deployment, newest first, from the run's creation; timestamps kept to the nanosecond", async () => {
    const { emulator, client, run } = await setup();
    emulator.addLogs(run.id, 'trainer', [{ message: 'precise', atMs: Date.now() - 10, ns: 123_457 }]);
    const got = await fetchTrainer({ client, run, deadline: soon(), clock: realClock });
    expect(got.state).toBe('lines');
    const lines = got.state === 'lines' ? got.lines : [];
    const [request] = logRequests(emulator);
    expect(request?.path).toBe(`/v1/loops/deployments/${run.deploymentId}/logs`);
    expect(request?.query).toEqual({ start_epoch_millis: String(Date.parse(run.createdAt)), direction: 'desc', limit: '200' });
    expect(lines.map((l) => l.message)).toContain(
      'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has a total capacity of 79.10 GiB of which 1.25 GiB is free.',
    );
    const precise = lines.find((l) => l.message === 'precise');
    expect(precise?.timestamp).toMatch(/^\d{19}$/);
    expect(precise?.timestamp.endsWith('123457')).toBe(true); // beyond 2^53: a number would have lost it
    const times = lines.map((l) => BigInt(l.timestamp));
    expect(times).toEqual([...times].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
  });

  it('sampler: the Baseten model deployment behind it (model_id, deployment_id), same window', async () => {
    const { emulator, client, run } = await setup();
    const got = await fetchSampler({ client, run, deadline: soon(), clock: realClock });
    expect(got.state).toBe('lines');
    expect(logRequests(emulator)[0]?.path).toBe(`/v1/models/${run.sampler?.modelId}/deployments/${run.sampler?.deploymentId}/logs`);
  });

  it('a window never longer than the API allows (7 days), for a run older than that', async () => {
    const { emulator, client } = await setup();
    const old = parseRun(
      emulator.createRun({ session_id: emulator.createSession(), base_model: 'Qwen/Qwen3-8B' }, { createdAt: Date.now() - 9 * 86_400_000 }),
    );
    const got = await fetchTrainer({ client, run: old, deadline: soon(), clock: realClock });
    expect(got.state).toBe('lines');
    const start = Number(logRequests(emulator)[0]?.query.start_epoch_millis);
    expect(Date.now() - start).toBeLessThan(7 * 86_400_000);
    expect(windowStart({ ...old, createdAt: 'not a date' }, Date.now())).toBeUndefined();
  });

  it('the key in a log line is scrubbed before anything reads it', async () => {
    const { emulator, client, run } = await setup();
    emulator.addLogs(run.id, 'sampler', [{ message: `Authorization: Bearer ${KEY}`, atMs: Date.now() - 5 }]);
    const got = await fetchSampler({ client, run, deadline: soon(), clock: realClock });
    const messages = got.state === 'lines' ? got.lines.map((l) => l.message) : [];
    expect(messages).toContain('Authorization: Bearer ***');
    expect(JSON.stringify(messages)).not.toContain(KEY);
  });
});

describe('parseLogs', () => {
  const ok = (lines: unknown[]): LogLine[] => parseLogs({ logs: lines });
  it('reads every line; a level it does not know (or none) is absent; case does not matter', () => {
    expect(
      ok([
        { timestamp: '1', message: 'a', replica: null, level: 'warning' },
        { timestamp: '2', message: 'b', replica: 'r', level: 'TRACE', request_id: 'x', extra: 1 },
        { timestamp: '3', message: '', replica: null },
      ]),
    ).toEqual([
      { timestamp: '1', message: 'a', replica: undefined, level: 'WARNING' },
      { timestamp: '2', message: 'b', replica: 'r', level: undefined },
      { timestamp: '3', message: '', replica: undefined, level: undefined },
    ]);
  });
  it('names the field that breaks the description', () => {
    expect(() => parseLogs({ lines: [] })).toThrow('body.logs is missing');
    expect(() => ok([{ timestamp: 1_700_000_000_000_000_000, message: 'a' }])).toThrow('logs[0].timestamp is not epoch nanoseconds');
    expect(() => ok([{ timestamp: '17e17', message: 'a' }])).toThrow('logs[0].timestamp is not epoch nanoseconds');
    expect(() => ok([{ timestamp: '1', message: 'a' }, { timestamp: '2' }])).toThrow('logs[1].message is missing');
    expect(() => ok(['line'])).toThrow('logs[0] is not an object');
  });
});

describe('a logs route that fails, hangs or answers garbage', () => {
  it('500: one attempt (no retries), reported as unreadable, nothing thrown', async () => {
    const { emulator, client, run } = await setup();
    emulator.fault({ path: /\/logs$/, kind: 'status', status: 500, times: Infinity });
    const got = await fetchTrainer({ client, run, deadline: soon(), clock: realClock });
    expect(got).toMatchObject({ state: 'failed', why: expect.stringContaining('HTTP 500') as unknown });
    expect(logRequests(emulator)).toHaveLength(1);
  });

  it('hangs: both routes end at the one deadline, each with one attempt', async () => {
    const { emulator, client, run } = await setup();
    emulator.fault({ path: /\/logs$/, kind: 'delay', delayMs: 30_000, times: Infinity });
    const deadline = soon(300);
    const [trainer, sampler] = await Promise.all([
      fetchTrainer({ client, run, deadline, clock: realClock }),
      fetchSampler({ client, run, deadline, clock: realClock }),
    ]);
    for (const got of [trainer, sampler])
      expect(got).toMatchObject({ state: 'failed', why: expect.stringMatching(/timeout after 0\.[1-3]s/) as unknown });
    expect(logRequests(emulator)).toHaveLength(2);
  });

  it('garbage: unreadable, named', async () => {
    const { emulator, client, run } = await setup();
    emulator.fault({ path: /\/logs$/, kind: 'transform', transform: () => ({ logs: [{ timestamp: 12, message: 'x' }] }) });
    const got = await fetchTrainer({ client, run, deadline: soon(), clock: realClock });
    expect(got).toMatchObject({ state: 'failed', why: expect.stringContaining('logs[0].timestamp is not epoch nanoseconds') as unknown });
  });

  it('no time left: nothing is sent', async () => {
    const { emulator, client, run } = await setup();
    const got = await fetchSampler({ client, run, deadline: realClock.now() - 1, clock: realClock });
    expect(got).toEqual({ source: 'sampler', state: 'failed', why: 'no time was left to read them' });
    expect(logRequests(emulator)).toHaveLength(0);
  });
});

describe('a run without deployments', () => {
  it('deployment_id null: the deployment is found through the list; none there: said, not failed', async () => {
    const { emulator, client, run } = await setup({ deploymentIdOnRuns: false });
    const bare = parseRun(emulator.runs()[0]);
    expect(bare.deploymentId).toBeUndefined();
    expect(await fetchTrainer({ client, run: bare, deadline: soon(), clock: realClock })).toMatchObject({ state: 'lines' });
    emulator.fault({ path: '/v1/loops/deployments', kind: 'transform', transform: () => ({ deployments: [] }) });
    expect(await fetchTrainer({ client, run: bare, deadline: soon(), clock: realClock })).toEqual({
      source: 'trainer',
      state: 'none',
      why: `run ${run.id} has no Loops deployment (a serverless run, or one not provisioned yet)`,
    });
  });

  it('a sampler without model_id/deployment_id (serverless), or no sampler: said, nothing sent', async () => {
    const { emulator, client, run } = await setup();
    const serverless = { ...run, sampler: run.sampler && { id: run.sampler.id, baseUrl: '' } };
    expect(await fetchSampler({ client, run: serverless, deadline: soon(), clock: realClock })).toMatchObject({
      state: 'none',
      why: 'the sampler has no model deployment (a serverless run, or one not provisioned yet)',
    });
    expect(await fetchSampler({ client, run: { ...run, sampler: undefined }, deadline: soon(), clock: realClock })).toMatchObject({
      state: 'none',
    });
    expect(logRequests(emulator)).toHaveLength(0);
  });
});

describe('investigate', () => {
  const base = { error: new Error('x'), deadline: 0, clock: realClock, redact: (t: string) => t, printer: { group: () => {}, info: () => {} } };

  it('reads logs only for a failed, timed-out or cancelled run, and never with show_logs: never', async () => {
    const { emulator, client, run } = await setup();
    for (const status of ['ready', 'launched', 'error', 'dry_run']) {
      expect((await investigate({ ...base, status, run, client, showLogs: 'on_failure', deadline: soon() })).gathered).toEqual([]);
    }
    const never = await investigate({ ...base, status: 'failed', run, client, showLogs: 'never', deadline: soon(), trainerStatus: 'FAILED' });
    expect(never).toEqual({ gathered: [], cause: expect.objectContaining({ reason: 'unknown' }) as unknown });
    expect(logRequests(emulator)).toHaveLength(0);
    const found = await investigate({ ...base, status: 'failed', run, client, showLogs: 'on_failure', deadline: soon() });
    expect(found.cause.reason).toBe('oom');
    expect(found.gathered.map((g) => [g.source, g.state])).toEqual([
      ['trainer', 'lines'],
      ['sampler', 'lines'],
    ]);
    expect(logRequests(emulator)).toHaveLength(2);
  });
});
