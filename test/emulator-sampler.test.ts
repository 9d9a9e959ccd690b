// The samplers answer like vLLM (brief §3 i): GET {base_url}/v1/models on the emulator, its
// auth, its models list, not-ready and dead samplers, wake from SCALED_TO_ZERO, faults and
// recording on these paths, and where samplers and trainers say they live (and a trainer's
// routes on the emulator).
import { describe, expect, it } from 'vitest';
import { emulatorClient } from './emulator/client.js';
import { emulatorFixture } from './emulator/fixture.js';
import type { EmulatorOptions, LoopsRun } from './emulator/server.js';

const FAST: EmulatorOptions = {
  samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'LOADING_MODEL', ms: 50 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'CREATED', ms: 30 }, { status: 'DEPLOYING', ms: 50 }, { status: 'RUNNING' }],
};

const { api, clock, current, start } = emulatorFixture(FAST);

/** A run whose sampler is ACTIVE. */
async function readyRun(extra: Record<string, unknown> = {}): Promise<LoopsRun> {
  const run = await api.run(extra);
  clock.advance(1_000);
  return run;
}

const statuses = async (run: LoopsRun): Promise<[string, string]> => {
  const d = (await api.getDeployment(run.deployment_id ?? '')).body.deployment;
  return [d.status.name, d.sampler?.status?.name ?? ''];
};

describe('GET {sampler base_url}/v1/models', () => {
  it("answers vLLM's models list: adapters first, the base model (no parent) last", async () => {
    await start();
    const run = await readyRun();
    expect(run.sampler?.base_url).toBe(`${current().url}/sampler/${run.sampler?.model_id ?? ''}`);
    const created = Math.floor(clock.t / 1000);
    const base = {
      id: 'Qwen/Qwen3-8B',
      object: 'model',
      created,
      owned_by: 'vllm',
      root: 'Qwen/Qwen3-8B',
      parent: null,
      max_model_len: 131072,
      permission: [],
    };
    const plain = await api.models(run.sampler);
    expect([plain.status, plain.body]).toEqual([200, { object: 'list', data: [base] }]);
    expect(plain.headers.get('content-type')).toBe('application/json');

    current().publishAdapter(run.id, 'step-1');
    current().publishAdapter(run.id, 'step-2');
    current().publishAdapter(run.id, 'step-1');
    const adapter = (name: string) => ({ ...base, id: name, root: `bt://loops:${run.id}/sampler_weights/${name}`, parent: 'Qwen/Qwen3-8B' });
    expect((await api.models(run.sampler)).body).toEqual({ object: 'list', data: [adapter('step-1'), adapter('step-2'), base] });
    expect(() => current().publishAdapter('nope123', 'x')).toThrow(/nope123/);
  });

  it('max_model_len comes from the models table', async () => {
    await start({ models: [{ model_name: 'Qwen/Qwen3-0.6B', max_context_length: 8192, supports_vision_language: false, max_seq_len: 4096 }] });
    const small = await readyRun({ base_model: 'Qwen/Qwen3-0.6B' });
    const unknown = await readyRun({ base_model: 'acme/unlisted' });
    const len = async (r: LoopsRun) => ((await api.models(r.sampler)).body as { data: { max_model_len: number }[] }).data[0]?.max_model_len;
    expect([await len(small), await len(unknown)]).toEqual([4096, 131072]);
  });

  it('auth like the API: Bearer or Api-Key with a known key; 401 otherwise, 403 for a forbidden key', async () => {
    await start({ forbiddenKeys: ['weak'], users: { 'user-key': 'u@example.com' } });
    const run = await readyRun();
    const url = `${run.sampler?.base_url ?? ''}/v1/models`;
    expect((await emulatorClient(current, 'test-key', 'Api-Key').call('GET', url)).status).toBe(200);
    expect((await emulatorClient(current, 'user-key').call('GET', url)).status).toBe(200);
    expect((await emulatorClient(current, 'wrong').call('GET', url)).status).toBe(401);
    const none = await fetch(url);
    expect([none.status, await none.json()]).toEqual([401, { detail: 'Invalid or missing API key' }]);
    expect((await emulatorClient(current, 'weak').call('GET', url)).status).toBe(403);
  });

  it.for(['BUILDING', 'DEPLOYING', 'LOADING_MODEL', 'WAKING_UP', 'UPDATING', 'UNHEALTHY'])('%s → 503 "Sampler is not ready"', async (status) => {
    await start();
    const run = await readyRun();
    current().setSamplerStatus(run.id, status);
    const res = await api.models(run.sampler);
    expect([res.status, res.body]).toEqual([503, { detail: 'Sampler is not ready' }]);
    expect((await statuses(run))[1]).toBe(status);
  });

  it.for(['INACTIVE', 'DEACTIVATING', 'DEPLOY_FAILED', 'BUILD_FAILED', 'BUILD_STOPPED', 'FAILED'])('%s → 404', async (status) => {
    await start();
    const run = await readyRun();
    current().setSamplerStatus(run.id, status);
    expect((await api.models(run.sampler)).status).toBe(404);
  });

  it('a deactivated run’s sampler and an unknown sampler answer 404; the sampler follows its timeline', async () => {
    await start();
    const run = await api.run();
    expect((await api.models(run.sampler)).status).toBe(503); // DEPLOYING
    clock.advance(60);
    expect((await api.models(run.sampler)).status).toBe(503); // LOADING_MODEL
    clock.advance(40);
    expect((await api.models(run.sampler)).status).toBe(200);
    await api.deactivate(run.id);
    expect((await api.models(run.sampler)).status).toBe(404);
    expect((await api.get(`${current().url}/sampler/nope123/v1/models`)).status).toBe(404);
    expect((await api.get(`${current().url}/sampler/${run.sampler?.model_id ?? ''}/v1/chat`)).status).toBe(404);
    expect((await api.post(`${run.sampler?.base_url ?? ''}/v1/models`)).status).toBe(405);
  });

  it('SCALED_TO_ZERO: the request wakes it (503), WAKING_UP/DEPLOYING for wakeMs, then ACTIVE/RUNNING', async () => {
    await start({ wakeMs: 500 });
    const run = await readyRun();
    current().scaleToZero(run.id);
    expect(await statuses(run)).toEqual(['SCALED_TO_ZERO', 'SCALED_TO_ZERO']);
    expect((await api.getRun(run.id)).body.run.status.name).toBe('ACTIVE'); // runs stay as they are
    const wake = await api.models(run.sampler);
    expect([wake.status, wake.body]).toEqual([503, { detail: 'Sampler is not ready' }]);
    expect(await statuses(run)).toEqual(['DEPLOYING', 'WAKING_UP']);
    clock.advance(499);
    expect((await api.models(run.sampler)).status).toBe(503);
    clock.advance(1);
    expect(await statuses(run)).toEqual(['RUNNING', 'ACTIVE']);
    expect((await api.models(run.sampler)).status).toBe(200);
  });

  it('the default wake lasts 300 ms; a sampler whose own timeline says SCALED_TO_ZERO wakes too', async () => {
    await start({ samplerTimeline: [{ status: 'SCALED_TO_ZERO' }] });
    const run = await readyRun();
    expect((await api.models(run.sampler)).status).toBe(503);
    expect(await statuses(run)).toEqual(['RUNNING', 'WAKING_UP']); // the trainer was not scaled to zero
    clock.advance(300);
    expect((await api.models(run.sampler)).status).toBe(200);
  });

  it('faults and request recording apply to sampler paths; the API rate limit does not', async () => {
    await start();
    const run = await readyRun();
    current().configure({ rateLimit: { perSecond: 0.01, burst: 1 } });
    expect((await api.call('GET', '/v1/loops/capabilities')).status).toBe(200); // the one token
    current().fault({ path: /\/sampler\/.*\/v1\/models$/, kind: 'status', status: 502, times: 2 });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await api.models(run.sampler)).status);
    expect(codes).toEqual([502, 502, 200]);
    const path = `/sampler/${run.sampler?.model_id ?? ''}/v1/models`;
    const seen = current().requests.filter((r) => r.path === path);
    expect(seen.map((r) => [r.method, r.status])).toEqual([
      ['GET', 502],
      ['GET', 502],
      ['GET', 200],
    ]);
    expect(seen[0]?.headers['authorization']).toBe('Bearer test-key');
    expect((await api.call('GET', '/v1/loops/capabilities')).status).toBe(429);
  });
});

describe('samplerBaseUrl', () => {
  it("'baseten': the unreachable Baseten URL; a function: whatever it returns; configure switches", async () => {
    await start({ samplerBaseUrl: 'baseten' });
    const run = await api.run();
    const id = run.sampler?.model_id ?? '';
    expect(run.sampler?.base_url).toBe(`https://model-${id}.api.baseten.co/environments/loops/sync`);
    current().configure({ samplerBaseUrl: (modelId) => `https://samplers.test/${modelId}` });
    expect((await api.getRun(run.id)).body.run.sampler?.base_url).toBe(`https://samplers.test/${id}`);
    current().configure({ samplerBaseUrl: 'emulator' });
    expect((await api.getRun(run.id)).body.run.sampler?.base_url).toBe(`${current().url}/sampler/${id}`);
  });
});

describe('trainerBaseUrl', () => {
  const trainer = (run: LoopsRun, route: string) => api.get<unknown>(`${run.base_url}/${route}`);

  it("'baseten' by default (nothing serves it); 'emulator': the trainer answers /health and /policy_version on the emulator", async () => {
    await start({ serverlessAccess: ['Qwen/Qwen3-0.6B'] });
    const baseten = await api.run();
    expect(baseten.base_url).toMatch(/^https:\/\/model-[a-z0-9]{7}\.api\.baseten\.co\/environments\/loops-trainer\/sync$/);
    current().configure({ trainerBaseUrl: 'emulator' });
    const id = baseten.deployment_id ?? '';
    const run = (await api.getRun(baseten.id)).body.run;
    expect(run.base_url).toBe(`${current().url}/trainer/${id}`);
    expect((await api.getDeployment(id)).body.deployment.base_url).toBe(run.base_url);
    // CREATED, then DEPLOYING: not up yet; RUNNING: up.
    expect((await trainer(run, 'health')).status).toBe(503);
    clock.advance(1_000);
    expect([(await trainer(run, 'health')).status, (await trainer(run, 'health')).body]).toEqual([200, {}]);
    expect((await trainer(run, 'policy_version')).body).toEqual({ policy_version: 0 });
    expect((await trainer(run, 'nope')).status).toBe(404);
    expect((await api.call('POST', `${run.base_url}/health`)).status).toBe(405);
    expect((await emulatorClient(current, 'wrong-key').get(`${run.base_url}/health`)).status).toBe(401);
    // A serverless run's trainer answers too; a stopped one does not; nor an unknown one.
    const serverless = await api.run({ base_model: 'Qwen/Qwen3-0.6B' });
    expect(serverless.deployment_id).toBeNull();
    expect((await trainer(serverless, 'health')).status).toBe(200);
    await api.deactivate(run.id);
    expect((await trainer(run, 'health')).status).toBe(404);
    expect((await api.get(`${current().url}/trainer/nope123/health`)).status).toBe(404);
    // A function: whatever it returns, which the emulator does not serve.
    current().configure({ trainerBaseUrl: (deploymentId) => `https://trainers.test/${deploymentId}` });
    expect((await api.getRun(serverless.id)).body.run.base_url).toMatch(/^https:\/\/trainers\.test\/[a-z0-9]{7}$/);
    expect((await api.get(`/trainer/${id}/health`)).status).toBe(404);
  });

  it('its paths are not the management API: no API rate limit', async () => {
    await start({ trainerBaseUrl: 'emulator' });
    const run = await readyRun();
    current().configure({ rateLimit: { perSecond: 0.01, burst: 1 } });
    expect((await api.get('/v1/loops/capabilities')).status).toBe(200); // the one token
    for (let i = 0; i < 3; i++) expect((await trainer(run, 'health')).status).toBe(200);
    expect((await api.get('/v1/loops/capabilities')).status).toBe(429);
  });
});

describe('scaleToZero', () => {
  it('refuses an unknown run and a stopped deployment', async () => {
    await start();
    const run = await readyRun();
    expect(() => current().scaleToZero('nope123')).toThrow(/nope123/);
    await api.deactivate(run.id);
    expect(() => current().scaleToZero(run.id)).toThrow(/STOPPED/);
    expect(await statuses(run)).toEqual(['STOPPED', 'INACTIVE']);
  });
});
