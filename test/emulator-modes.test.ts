// The emulator's availability modes, capacity, rate limits, checkpoints and DELETE routes:
// everything a client sees, over real HTTP on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { emulatorClient } from './emulator/client.js';
import { emulatorFixture } from './emulator/fixture.js';
import type { EmulatorOptions, LoopsCheckpoint, LoopsRun, LoopsSampler } from './emulator/server.js';

const FAST: EmulatorOptions = {
  samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'RUNNING' }],
};

const { api, clock, current, start } = emulatorFixture(FAST);

const create = (body: Record<string, unknown>) => api.post<{ run: LoopsRun; detail?: string }>('/v1/loops/runs', body);
const serverless = (run: LoopsRun): boolean => run.deployment_id === null && run.sampler?.model_id === undefined;

describe('capabilities', () => {
  it('every model has a serverless field: capable and accessible; the limits beside it', async () => {
    await start({ serverlessAccess: ['Qwen/Qwen3-8B', 'moonshotai/Kimi-K2.6'] });
    const { supported_models: models } = (await api.get<{ supported_models: Record<string, unknown>[] }>('/v1/loops/capabilities')).body;
    const byName = Object.fromEntries(models.map((m): [string, Record<string, unknown>] => [String(m['model_name']), m]));
    expect(byName['Qwen/Qwen3-8B']).toMatchObject({ serverless: true, serverless_max_lora_rank: 64, serverless_max_seq_len: 32768 });
    expect(byName['Qwen/Qwen3-0.6B']).toMatchObject({ serverless: false }); // capable, no access
    expect(byName['moonshotai/Kimi-K2.6']).toMatchObject({ serverless: false }); // access, not capable
    expect(byName['Qwen/Qwen3-0.6B']).not.toHaveProperty('serverless_max_lora_rank');
    expect(models.every((m) => typeof m['serverless'] === 'boolean')).toBe(true);
  });
});

describe('the mode a create gets', () => {
  it('default scope: serverless with access and within the limits; dedicated on every fallback', async () => {
    await start({ serverlessAccess: 'all' });
    const sessionId = await api.session();
    const body = { session_id: sessionId, base_model: 'Qwen/Qwen3-8B' };
    const plain = (await create(body)).body.run;
    expect(serverless(plain)).toBe(true);
    expect((await create({ ...body, base_model: 'moonshotai/Kimi-K2.6' })).body.run.deployment_id).not.toBeNull();
    expect((await create({ ...body, lora_rank: 65 })).body.run.deployment_id).not.toBeNull();
    expect((await create({ ...body, max_seq_len: 32769 })).body.run.deployment_id).not.toBeNull();
    expect(serverless((await create({ ...body, max_seq_len: 32768 })).body.run)).toBe(true);
    // A reuse makes a run dedicated; a reuse of a serverless run (no deployment) gets fresh infrastructure.
    const reused = (await create({ ...body, reuse_from_run_id: plain.id })).body.run;
    expect(reused.deployment_id).not.toBeNull();
    expect((await create({ ...body, scope: 'deployment' })).body.run.deployment_id).not.toBeNull();
    expect(current().deployments()).toHaveLength(5);
  });

  it('scope serverless fails instead of falling back (400 naming why); nothing is created', async () => {
    await start({ serverlessAccess: ['Qwen/Qwen3-8B'] });
    const sessionId = await api.session();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ base_model: 'Qwen/Qwen3-0.6B' }, 'scope is serverless, but this workspace has no serverless access to Qwen/Qwen3-0.6B'],
      [{ lora_rank: 128 }, 'scope is serverless, but lora_rank 128 is above the serverless maximum of 64'],
      [
        { reuse_from_session_id: 's0' },
        "scope is serverless, but reuse_from_session_id reuses another run's deployments, which needs the dedicated mode",
      ],
    ];
    for (const [extra, detail] of cases) {
      const res = await create({ session_id: sessionId, base_model: 'Qwen/Qwen3-8B', scope: 'serverless', ...extra });
      expect([res.status, res.body.detail]).toEqual([400, detail]);
    }
    expect(current().runs()).toEqual([]);
    const bad = await create({ session_id: sessionId, base_model: 'Qwen/Qwen3-8B', scope: 'auto' });
    expect(bad.status).toBe(422); // the field takes serverless or deployment
  });

  it('a serverless run: no deployment to show, list or read; its sampler without model ids, status absent by default, serving /v1/models', async () => {
    await start({ serverlessAccess: 'all' });
    const run = await api.run();
    expect(run.deployment_id).toBeNull();
    expect(run.sampler).not.toHaveProperty('model_id');
    expect(run.sampler).not.toHaveProperty('deployment_id');
    expect(run.sampler).not.toHaveProperty('status');
    expect(run.sampler?.instance_type).toBeNull();
    expect((await api.get<{ deployments: unknown[] }>('/v1/loops/deployments')).body.deployments).toEqual([]);
    const samplers = (await api.get<{ samplers: LoopsSampler[] }>('/v1/loops/samplers')).body.samplers;
    expect(samplers.map((s) => s.id)).toEqual([run.sampler?.id]);
    expect((await api.models(run.sampler)).status).toBe(200);
    expect(current().deployments()).toEqual([]); // no GPU time
    expect(() => current().scaleToZero(run.id)).toThrow(/serverless/);
    // Deactivation ends it and its sampler.
    expect((await api.deactivate(run.id)).status).toBe(200);
    expect((await api.getRun(run.id)).body.run.status.name).toBe('INACTIVE');
    expect((await api.models(run.sampler)).status).toBe(404);
  });

  it('serverlessSampler: a status shown along its timeline, or no base URL', async () => {
    await start({
      serverlessAccess: 'all',
      serverlessSampler: { status: 'shown', timeline: [{ status: 'LOADING_MODEL', ms: 100 }, { status: 'ACTIVE' }] },
    });
    const run = await api.run();
    expect(run.sampler?.status?.name).toBe('LOADING_MODEL');
    expect((await api.models(run.sampler)).status).toBe(503);
    clock.advance(100);
    expect((await api.getRun(run.id)).body.run.sampler?.status?.name).toBe('ACTIVE');
    expect((await api.models(run.sampler)).status).toBe(200);
    current().configure({ serverlessSampler: { baseUrl: false } });
    expect((await api.run()).sampler?.base_url).toBe('');
  });
});

describe('capacity refusals', () => {
  it('the next creates answer 429 with details.reason loops_capacity and retry_after; a planted run is not refused', async () => {
    await start({ capacity: { refusals: 2, retryAfterSeconds: 37 } });
    const sessionId = await api.session();
    const planted = current().createRun({ session_id: sessionId, base_model: 'Qwen/Qwen3-8B' });
    for (let i = 0; i < 2; i++) {
      const res = await api.post<Record<string, unknown>>('/v1/loops/runs', { session_id: sessionId, base_model: 'Qwen/Qwen3-8B' });
      expect([res.status, res.body]).toEqual([
        429,
        { error: 'Baseten has no capacity for this run right now', details: { reason: 'loops_capacity' }, retry_after: 37 },
      ]);
    }
    expect((await create({ session_id: sessionId, base_model: 'Qwen/Qwen3-8B' })).status).toBe(200);
    expect(
      current()
        .runs()
        .map((r) => r.id),
    ).toContain(planted.id);
    expect(current().runs()).toHaveLength(2);
  });
});

describe("Baseten's rate limits, per key and per endpoint", () => {
  it('101st request to one endpoint within a second: 429 with retry_after in the body, no header; other endpoints and keys unaffected', async () => {
    await start({ users: { 'key-a': 'a@example.com', 'key-b': 'b@example.com' } });
    const answers = await Promise.all(Array.from({ length: 101 }, () => api.call('GET', '/v1/loops/runs/abc1234')));
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    const body = (await limited[0]?.json()) as { error: string; retry_after: number };
    expect(body).toEqual({ error: 'Rate limit exceeded: 100 requests per second for this endpoint', retry_after: 1 });
    expect(limited[0]?.headers.get('retry-after')).toBeNull();
    // Another run id is the same endpoint; another route is not.
    expect((await api.call('GET', '/v1/loops/runs/xyz9876')).status).toBe(429);
    expect((await api.call('GET', '/v1/loops/runs')).status).toBe(200);
    expect((await emulatorClient(current, 'key-b').call('GET', '/v1/loops/runs/abc1234')).status).toBe(404);
  });

  it('deployment activate/deactivate: 20 a minute', async () => {
    await start();
    const run = await api.run();
    const path = `/v1/loops/deployments/${run.deployment_id ?? ''}/deactivate`;
    const answers = [];
    for (let i = 0; i < 21; i++) answers.push(await api.post<{ retry_after?: number }>(path));
    expect(answers.slice(0, 20).map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(answers[20]?.status).toBe(429);
    expect(answers[20]?.body.retry_after).toBeGreaterThan(50);
  });

  it('can be turned off', async () => {
    await start({ endpointRateLimits: false });
    const answers = await Promise.all(Array.from({ length: 150 }, () => api.call('GET', '/v1/loops/runs')));
    expect(answers.filter((r) => r.status === 429)).toEqual([]);
  });
});

describe('checkpoints: lora_config, expires_at, and the routes that delete', () => {
  const path = (run: string, name = 'step-1'): string => `bt://loops:${run}/weights/${name}`;

  it('lora_config from the run (absent for a run never seen), null when planted so; expires_at; filters by run and base model', async () => {
    await start();
    const run = await api.run({ lora_rank: 16 });
    current().configure({
      checkpoints: [path(run.id), { path: path('gone000'), expires_at: clock.t + 1000 }, { path: path(run.id, 'bad'), lora_config: null }],
    });
    const list = async (q: string) => (await api.get<{ checkpoints: LoopsCheckpoint[] }>(`/v1/loops/checkpoints?${q}`)).body.checkpoints;
    const [mine, bad] = await list(`run_id=${run.id}`);
    expect(mine).toMatchObject({ lora_config: { r: 16 }, expires_at: null, base_model: 'Qwen/Qwen3-8B' });
    expect(bad?.lora_config).toBeNull();
    const [unknown] = await list(`checkpoint_path=${encodeURIComponent(path('gone000'))}`);
    expect(unknown).not.toHaveProperty('lora_config');
    expect(unknown?.expires_at).toBe(new Date(clock.t + 1000).toISOString());
    expect((await list('base_model=Qwen/Qwen3-8B')).map((c) => c.checkpoint_id)).toEqual(['step-1', 'bad']);
  });

  it('DELETE a checkpoint removes it; PUT its TTL sets expires_at; DELETE a run deactivates it and deletes its checkpoints', async () => {
    await start();
    const run = await api.run();
    const other = await api.run();
    current().configure({ checkpoints: [path(run.id), path(run.id, 'step-2'), path(other.id)] });
    const [first, second] = current().checkpoints();
    const ttl = await api.call('PUT', `/v1/loops/checkpoints/${second?.id ?? ''}/ttl`, { ttl_seconds: 3600 });
    expect(((await ttl.json()) as LoopsCheckpoint).expires_at).toBe(new Date(clock.t + 3_600_000).toISOString());
    expect((await api.call('PUT', `/v1/loops/checkpoints/${second?.id ?? ''}/ttl`, { ttl_seconds: 60 })).status).toBe(422);
    const gone = await api.call('DELETE', `/v1/loops/checkpoints/${first?.id ?? ''}`);
    expect(await gone.json()).toEqual({ id: first?.id, run_id: run.id, checkpoint_id: 'step-1', target: 'trainer', path: path(run.id) });
    expect(
      current()
        .checkpoints()
        .map((c) => c.checkpoint_id),
    ).toEqual(['step-2', 'step-1']);
    const deleted = await api.call('DELETE', `/v1/loops/runs/${run.id}`);
    expect(await deleted.json()).toEqual({ id: run.id, kept_checkpoints: [] });
    expect((await api.getRun(run.id)).body.run.status.name).toBe('INACTIVE');
    expect(
      current()
        .checkpoints()
        .map((c) => c.run_id),
    ).toEqual([other.id]);
    expect((await api.call('DELETE', '/v1/loops/runs/nope000')).status).toBe(404);
  });
});
