// show_logs: always (src/forensics/stream.ts) against an in-process emulator over 127.0.0.1:
// every line printed exactly once and in order across pages, however lines share a millisecond
// or a nanosecond, whether they arrive late within one, or come two alike; at most one request
// per observation and none while one is under way; failures given up on; a run without a
// deployment said so. Small pages make the page boundaries fall where the tests want them.

import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, realClock } from '../src/core/retry.js';
import { LogStream } from '../src/forensics/stream.js';
import { LoopsClient } from '../src/loops/client.js';
import type { LogLine } from '../src/loops/logs.js';
import { type Run, parseRun } from '../src/loops/types.js';
import { type AddedLogLine, type Emulator, type EmulatorOptions, startEmulator } from './emulator/server.js';
import { silentLog } from './support/log.js';

const KEY = 'stream-unit-key-4c1d';
const open: Array<{ emulator: Emulator; client: LoopsClient }> = [];
afterEach(async () => {
  for (const { emulator, client } of open.splice(0)) {
    client.dispose();
    await emulator.close();
  }
});

interface Setup {
  emulator: Emulator;
  run: Run;
  stream: LogStream;
  printed: string[];
  notes: string[];
  /** Add lines at `ms` after the run's creation. */
  add(lines: Array<Omit<AddedLogLine, 'atMs'> & { at: number }>): void;
  /** One poll: observe, and wait for its request. */
  poll(): Promise<void>;
  logRequests(): number;
}

async function setup(opts: EmulatorOptions & { pageSize?: number; keep?: number } = {}): Promise<Setup> {
  const emulator = await startEmulator({ apiKeys: [KEY], ...opts });
  const client = new LoopsClient({
    baseUrl: emulator.url,
    apiKey: KEY,
    timeoutMs: 2_000,
    policy: { ...DEFAULT_POLICY, maxRetries: 4 },
    clock: realClock,
    log: silentLog,
    userAgent: 'stream-test',
  });
  open.push({ emulator, client });
  // Created a minute ago: every line added below is in the past, so the server serves it.
  const created = Date.now() - 60_000;
  const run = parseRun(emulator.createRun({ session_id: emulator.createSession(), base_model: 'Qwen/Qwen3-8B' }, { createdAt: created }));
  const printed: string[] = [];
  const notes: string[] = [];
  const stream = new LogStream({
    client,
    run,
    clock: realClock,
    timeoutMs: 2_000,
    pageSize: opts.pageSize,
    keep: opts.keep,
    print: (line: LogLine) => printed.push(line.message),
    note: (text) => notes.push(text),
  });
  stream.observe(run); // the create's answer: not a poll
  return {
    emulator,
    run,
    stream,
    printed,
    notes,
    add: (lines) =>
      emulator.addLogs(
        run.id,
        'trainer',
        lines.map(({ at, ...line }) => ({ ...line, atMs: created + at })),
      ),
    poll: async () => {
      stream.observe(run);
      await stream.idle();
    },
    logRequests: () => emulator.requests.filter((r) => r.path.endsWith('/logs')).length,
  };
}

/** The lines the emulator's default story logs for the trainer: one per status of its timeline. */
const NARRATED = [
  'Scheduling the trainer on H100:8x80GB',
  'Pulling the trainer image and loading Qwen/Qwen3-8B',
  'Trainer ready: LoRA training of Qwen/Qwen3-8B can start',
];

describe('streaming trainer lines', () => {
  it('the first observation (the create answer) sends nothing; each poll at most one request', async () => {
    const s = await setup();
    await s.stream.idle();
    expect(s.logRequests()).toBe(0);
    await s.poll();
    expect(s.logRequests()).toBe(1);
    expect(s.printed).toEqual(NARRATED);
    // Three observations while one request is under way: still one request.
    s.emulator.fault({ path: /\/logs$/, kind: 'delay', delayMs: 200 });
    s.stream.observe(s.run);
    s.stream.observe(s.run);
    s.stream.observe(s.run);
    await s.stream.idle();
    expect(s.logRequests()).toBe(2);
  });

  it('across page boundaries, lines sharing a millisecond or a nanosecond, and two identical lines, are each printed once, in order', async () => {
    const s = await setup({ pageSize: 4 });
    s.add([
      { at: 1000, message: 'a' },
      { at: 1000, ns: 5, message: 'b' },
      { at: 1001, ns: 7, message: 'c' },
      { at: 1001, ns: 7, message: 'c' }, // the same line twice, at the same nanosecond
      { at: 1001, ns: 7, message: 'd' },
      { at: 1002, message: 'e' },
      { at: 1003, message: 'f' },
      { at: 1003, message: 'g' },
      { at: 1003, ns: 1, message: 'h' },
    ]);
    for (let i = 0; i < 8; i++) await s.poll();
    expect(s.printed).toEqual([...NARRATED, 'a', 'b', 'c', 'c', 'd', 'e', 'f', 'g', 'h']);
  });

  it('a line that arrives later within the millisecond already printed from is printed, once', async () => {
    const s = await setup();
    s.add([{ at: 2000, ns: 10, message: 'first' }]);
    await s.poll();
    s.add([
      { at: 2000, ns: 10, message: 'late, same nanosecond' },
      { at: 2000, ns: 900, message: 'late, same millisecond' },
      { at: 2001, message: 'next' },
    ]);
    await s.poll();
    await s.poll();
    expect(s.printed).toEqual([...NARRATED, 'first', 'late, same nanosecond', 'late, same millisecond', 'next']);
  });

  it('a full page continues where it stopped: 25 lines through pages of 4, none skipped, none twice', async () => {
    const s = await setup({ pageSize: 4 });
    const many = Array.from({ length: 25 }, (_, i) => ({ at: 3000 + Math.floor(i / 3), message: `m${i}` }));
    s.add(many);
    for (let i = 0; i < 30 && s.printed.length < NARRATED.length + many.length; i++) await s.poll();
    expect(s.printed).toEqual([...NARRATED, ...many.map((m) => m.message)]);
  });

  it('more lines in one millisecond than a page holds: the rest of that millisecond is given up, said, and the stream goes on', async () => {
    const s = await setup({ pageSize: 4 });
    s.add([...Array.from({ length: 6 }, (_, i) => ({ at: 4000, message: `same ms ${i}` })), { at: 4001, message: 'after' }]);
    for (let i = 0; i < 6; i++) await s.poll();
    expect(s.printed).toEqual([...NARRATED, 'same ms 0', 'same ms 1', 'same ms 2', 'same ms 3', 'after']);
    expect(s.notes).toEqual(['show_logs: more than 4 trainer log lines within one millisecond; the rest of that millisecond is not shown']);
  });

  it('keeps the newest lines for the failure report, newest first', async () => {
    const s = await setup({ keep: 2 });
    await s.poll();
    expect(s.stream.recent().map((l) => l.message)).toEqual([NARRATED[2], NARRATED[1]]);
  });

  it('finish: one last request catches up; nothing is printed after it', async () => {
    const s = await setup();
    await s.poll();
    s.add([{ at: 5000, message: 'just before the end' }]);
    await s.stream.finish(Date.now() + 2_000);
    expect(s.printed.at(-1)).toBe('just before the end');
    s.add([{ at: 5001, message: 'after the end' }]);
    await s.poll();
    expect(s.printed).not.toContain('after the end');
  });

  it('finish drains a backlog of a few pages, and says whether it caught up', async () => {
    const s = await setup({ pageSize: 4 });
    s.add(Array.from({ length: 10 }, (_, i) => ({ at: 6000 + i, message: `backlog ${i}` })));
    expect(await s.stream.finish(Date.now() + 2_000)).toBe(true);
    expect(s.printed).toEqual([...NARRATED, ...Array.from({ length: 10 }, (_, i) => `backlog ${i}`)]);
    const behind = await setup({ pageSize: 4 });
    behind.add(Array.from({ length: 40 }, (_, i) => ({ at: 6000 + i, message: `far behind ${i}` })));
    expect(await behind.stream.finish(Date.now() + 2_000)).toBe(false);
    expect(behind.logRequests()).toBe(5);
    expect(behind.printed).toHaveLength(5 * 4 - 4); // each page but the first repeats its first line, printed before
  });

  it('lines read apart from the stream (the newest, afresh, newest first): only those not printed yet are printed, oldest first', async () => {
    const s = await setup();
    s.add([
      { at: 5000, message: 'same ms, first' },
      { at: 5000, message: 'same ms, second' },
    ]);
    await s.poll();
    const printed = [...s.printed];
    expect(printed.slice(-2)).toEqual(['same ms, first', 'same ms, second']);
    // A failed catch-up, then the newest lines read afresh: what was streamed, and two lines more.
    s.add([
      { at: 5000, message: 'same ms, late' },
      { at: 7000, message: 'the last words' },
    ]);
    const client = open.at(-1)?.client;
    const fresh = await client?.getTrainerLogs(s.run.deploymentId ?? '', { direction: 'desc', limit: 200 });
    expect(fresh?.[0]?.message).toBe('the last words');
    s.stream.absorb(fresh ?? []);
    expect(s.printed).toEqual([...printed, 'same ms, late', 'the last words']);
    expect(s.stream.recent()[0]?.message).toBe('the last words');
  });

  it('finish does not wait past its deadline for a request that hangs', async () => {
    const s = await setup();
    s.emulator.fault({ path: /\/logs$/, kind: 'delay', delayMs: 30_000, times: Infinity });
    s.stream.observe(s.run);
    await s.stream.finish(Date.now() + 200);
    expect(s.logRequests()).toBe(1); // the hanging one; no catch-up while it is under way
  });
});

describe('when the logs cannot be read', () => {
  it('a failure is said once, the next poll tries again; three in a row stop the stream', async () => {
    const s = await setup();
    s.emulator.fault({ path: /\/logs$/, kind: 'status', status: 500 });
    await s.poll();
    await s.poll();
    expect(s.printed).toEqual(NARRATED);
    expect(s.notes).toHaveLength(1);
    expect(s.notes[0]).toMatch(/^show_logs: could not read the trainer's logs \(GET \/v1\/loops\/deployments\/\w+\/logs failed: HTTP 500/);
    s.emulator.fault({ path: /\/logs$/, kind: 'status', status: 503, times: 3 });
    for (let i = 0; i < 4; i++) await s.poll();
    expect(s.stream.stopped?.state).toBe('failed');
    expect(s.notes.at(-1)).toMatch(/^show_logs: streaming stopped: .*HTTP 503.*; 3 requests in a row failed$/);
    expect(s.logRequests()).toBe(5);
  });

  it('a run without a deployment (serverless): looked up a few times, then said, and no logs request at all', async () => {
    const s = await setup({ deploymentIdOnRuns: false });
    s.emulator.fault({ path: '/v1/loops/deployments', kind: 'transform', transform: () => ({ deployments: [] }), times: Infinity });
    const bare = { ...s.run, deploymentId: undefined };
    for (let i = 0; i < 5; i++) {
      s.stream.observe(bare);
      await s.stream.idle();
    }
    expect(s.logRequests()).toBe(0);
    expect(s.emulator.requests.filter((r) => r.path === '/v1/loops/deployments')).toHaveLength(3);
    expect(s.stream.stopped).toEqual({ state: 'none', why: `run ${s.run.id} has no Loops deployment (a serverless run has none)` });
  });
});
