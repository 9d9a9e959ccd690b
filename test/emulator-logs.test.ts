// The emulator's logs routes (test/emulator/logs.ts) and failure stories (stories.ts), over
// 127.0.0.1 on a fake server clock: the window, direction, limit and min_level as the API
// describes them, its refusals, lines served only once their time has come, and stories that
// drive the statuses as well as the lines.

import { describe, expect, it } from 'vitest';
import { emulatorFixture } from './emulator/fixture.js';
import type { LoopsDeployment, LoopsRun } from './emulator/server.js';

const { api, clock, start } = emulatorFixture({ apiKeys: ['test-key'] });

interface Line {
  timestamp: string;
  message: string;
  replica: string | null;
  level: string | null;
}
type Logs = { logs: Line[] };

const trainerPath = (run: LoopsRun, query = ''): string => `/v1/loops/deployments/${run.deployment_id ?? ''}/logs${query}`;
const samplerPath = (run: LoopsRun, query = ''): string =>
  `/v1/models/${run.sampler?.model_id ?? ''}/deployments/${run.sampler?.deployment_id ?? ''}/logs${query}`;
const messages = (body: Logs): string[] => body.logs.map((l) => l.message);

describe('GET /v1/loops/deployments/{id}/logs and GET /v1/models/{model_id}/deployments/{deployment_id}/logs', () => {
  it('serve a line once its time has come; default window: the 30 minutes before now', async () => {
    const emulator = await start();
    const run = await api.run();
    emulator.addLogs(run.id, 'trainer', [
      { message: 'an hour ago', atMs: clock.t - 3_600_000 },
      { message: 'in a second', atMs: clock.t + 1_000 },
    ]);
    const now = await api.get<Logs>(trainerPath(run));
    expect(now.status).toBe(200);
    expect(messages(now.body)).toEqual(['Scheduling the trainer on H100:8x80GB']);
    clock.advance(1_000);
    expect(messages((await api.get<Logs>(trainerPath(run))).body)).toContain('in a second');
    const wide = await api.get<Logs>(trainerPath(run, `?start_epoch_millis=${clock.t - 7_200_000}`));
    expect(messages(wide.body)[0]).toBe('an hour ago');
  });

  it('answer as the API describes: timestamp in epoch nanoseconds as a string, message, replica, level', async () => {
    await start();
    const run = await api.run();
    const [line] = (await api.get<Logs>(samplerPath(run))).body.logs;
    expect(line).toEqual({
      timestamp: `${Date.parse(run.created_at)}000000`,
      message: 'Starting vLLM for Qwen/Qwen3-8B',
      replica: expect.stringMatching(/^sampler-/) as unknown,
      request_id: null,
      level: 'INFO',
    });
  });

  it('honour direction, limit, start and end; ties keep the order they were logged in', async () => {
    const emulator = await start();
    const run = await api.run();
    const t = clock.t - 10_000;
    emulator.addLogs(run.id, 'trainer', [
      { message: 'a', atMs: t },
      { message: 'b', atMs: t, ns: 1 },
      { message: 'c', atMs: t, ns: 1 },
      { message: 'd', atMs: t + 5 },
    ]);
    const q = (s: string): string => `?start_epoch_millis=${t}&end_epoch_millis=${t + 5}${s}`;
    expect(messages((await api.get<Logs>(trainerPath(run, q('&direction=asc')))).body)).toEqual(['a', 'b', 'c', 'd']);
    expect(messages((await api.get<Logs>(trainerPath(run, q('&direction=desc&limit=3')))).body)).toEqual(['d', 'c', 'b']);
    expect(messages((await api.get<Logs>(trainerPath(run, `?start_epoch_millis=${t + 1}&end_epoch_millis=${t + 4}`))).body)).toEqual([]);
  });

  it('min_level drops lower levels and every line without a level', async () => {
    const emulator = await start();
    const run = await api.run();
    emulator.addLogs(run.id, 'sampler', [
      { message: 'plain', level: null },
      { message: 'warn', level: 'WARNING' },
      { message: 'err', level: 'ERROR' },
    ]);
    expect(messages((await api.get<Logs>(samplerPath(run, '?min_level=WARNING'))).body)).toEqual(['warn', 'err']);
    expect(messages((await api.get<Logs>(samplerPath(run))).body)).toContain('plain');
  });

  it('refuse what the API refuses: 422 naming each bad parameter, 400 for a window the wrong way round or over 7 days, 404 for an unknown deployment', async () => {
    await start();
    const run = await api.run();
    const bad = await api.get<{ detail: Array<{ loc: string[]; type: string }> }>(
      trainerPath(run, '?limit=0&direction=up&min_level=TRACE&start_epoch_millis=soon'),
    );
    expect(bad.status).toBe(422);
    expect(bad.body.detail.map((d) => [d.loc[1], d.type])).toEqual([
      ['start_epoch_millis', 'int_parsing'],
      ['limit', 'greater_than_equal'],
      ['direction', 'enum'],
      ['min_level', 'enum'],
    ]);
    expect((await api.get(trainerPath(run, '?limit=1001'))).status).toBe(422);
    expect((await api.get(trainerPath(run, '?limit=1000'))).status).toBe(200);
    expect((await api.get(trainerPath(run, `?start_epoch_millis=${clock.t}&end_epoch_millis=${clock.t - 1}`))).status).toBe(400);
    const week = 7 * 86_400_000;
    expect((await api.get(trainerPath(run, `?start_epoch_millis=${clock.t - week - 1}`))).body).toEqual({
      detail: 'The time window may not exceed 7 days',
    });
    expect((await api.get(trainerPath(run, `?start_epoch_millis=${clock.t - week}`))).status).toBe(200);
    expect((await api.get('/v1/loops/deployments/nope/logs')).status).toBe(404);
    // A sampler is found by both of its ids.
    expect((await api.get(`/v1/models/${run.sampler?.model_id ?? ''}/deployments/other/logs`)).status).toBe(404);
  });

  it('a deactivated deployment logs its shutdown, and nothing its story would have logged later', async () => {
    const emulator = await start({ story: 'sampler_crash' });
    const run = await api.run();
    clock.advance(200);
    expect((await api.deactivate(run.id)).status).toBe(200);
    clock.advance(5_000);
    const lines = messages((await api.get<Logs>(samplerPath(run))).body);
    expect(lines.at(-1)).toBe('Deactivated: shutting down');
    expect(lines.filter((m) => m.includes('CrashLoopBackOff'))).toHaveLength(1);
    expect(emulator.runs()[0]?.sampler?.status?.name).toBe('INACTIVE');
  });
});

describe('failure stories', () => {
  const trainerStatus = async (run: LoopsRun): Promise<string> =>
    (await api.get<{ deployment: LoopsDeployment }>(`/v1/loops/deployments/${run.deployment_id ?? ''}`)).body.deployment.status.name;

  it.each([
    ['oom', 'FAILED', /torch\.OutOfMemoryError: CUDA out of memory/],
    ['preempted', 'PREEMPTED', /preemption notice/],
    ['checkpoint', 'FAILED', /Failed to load checkpoint bt:\/\/loops:prev9\/weights\/step-3/],
  ] as const)('%s: the trainer ends %s, and its logs say why', async (story, status, says) => {
    await start({ story });
    const run = await api.run({ path: 'bt://loops:prev9/weights/step-3' });
    expect(await trainerStatus(run)).not.toBe(status);
    clock.advance(1_000);
    expect(await trainerStatus(run)).toBe(status);
    const errors = (await api.get<Logs>(trainerPath(run, '?min_level=WARNING'))).body.logs;
    expect(errors.some((l) => says.test(l.message))).toBe(true);
    if (story === 'preempted') expect((await api.getDeployment(run.deployment_id ?? '')).body.deployment.availability_model).toBe('spot');
  });

  it('sampler_crash: the sampler ends UNHEALTHY, crash-looping in its logs, while the trainer runs', async () => {
    await start({ story: 'sampler_crash' });
    const run = await api.run();
    clock.advance(1_000);
    expect((await api.getRun(run.id)).body.run.sampler?.status?.name).toBe('UNHEALTHY');
    expect(await trainerStatus(run)).toBe('RUNNING');
    const lines = messages((await api.get<Logs>(samplerPath(run))).body);
    expect(lines.filter((m) => m.includes('CrashLoopBackOff')).length).toBeGreaterThan(3);
  });

  it('chatty: 2500 trainer lines in its first 100 ms, in threes sharing one timestamp', async () => {
    await start({ story: 'chatty' });
    const run = await api.run();
    clock.advance(1_000);
    const start0 = Date.parse(run.created_at);
    const page = (await api.get<Logs>(trainerPath(run, `?start_epoch_millis=${start0}&end_epoch_millis=${start0 + 99}&limit=1000`))).body.logs;
    expect(page).toHaveLength(1000);
    expect(page[0]?.timestamp).toBe(page[2]?.timestamp);
    expect(page[2]?.timestamp).not.toBe(page[3]?.timestamp);
  });

  it('an unknown story is refused', async () => {
    await expect(start({ story: 'meteor' as never })).rejects.toThrow(/story must be one of oom, preempted, checkpoint, sampler_crash, chatty/);
  });
});
