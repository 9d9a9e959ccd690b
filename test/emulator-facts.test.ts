// The API facts the emulator models (brief §3 a–h): the server clock and Date header,
// read-after-write lag, deactivation, reuse, users, a sampler URL not known yet, an older
// server's create-run fields, and a BOM. Everything over real HTTP on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { emulatorClient } from './emulator/client.js';
import { emulatorFixture } from './emulator/fixture.js';
import type { EmulatorOptions, LoopsRun } from './emulator/server.js';

const FAST: EmulatorOptions = {
  samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'LOADING_MODEL', ms: 50 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'CREATED', ms: 30 }, { status: 'DEPLOYING', ms: 50 }, { status: 'RUNNING' }],
};

const { api, clock, current, start } = emulatorFixture(FAST);

const runOf = async (id: string): Promise<LoopsRun> => {
  const res = await api.getRun(id);
  expect(res.status).toBe(200);
  return res.body.run;
};
const deploymentOf = async (id: string | null) => {
  const res = await api.getDeployment(id ?? '');
  expect(res.status).toBe(200);
  return res.body.deployment;
};

describe('server clock', () => {
  it('drives created_at, the timelines and a Date header on every kind of response', async () => {
    await start({ forbiddenKeys: ['weak'] });
    const t0 = clock.t;
    const run = await api.run();
    expect(run.created_at).toBe(new Date(t0).toISOString());
    expect(Date.now() - Date.parse(run.created_at)).toBeGreaterThan(2 * 3600_000); // hours behind the real clock
    clock.advance(60);
    expect((await deploymentOf(run.deployment_id)).status.name).toBe('DEPLOYING');
    clock.advance(2_000);
    current().fault({ path: '/v1/loops/capabilities', kind: 'status', status: 503 });
    const answers = [
      await api.call('GET', `/v1/loops/runs/${run.id}`),
      await api.call('GET', '/v1/loops/runs/nope123'),
      await api.call('POST', '/v1/loops/runs', { lora_rank: 'x' }),
      await api.call('GET', '/v1/loops/capabilities'),
      await fetch(`${current().url}/v1/loops/runs`),
      await emulatorClient(current, 'weak').call('GET', '/v1/loops/runs'),
      await api.call('GET', `${run.sampler?.base_url ?? ''}/v1/models`),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 404, 422, 503, 401, 403, 200]);
    for (const res of answers) expect(res.headers.get('date')).toBe(new Date(clock.t).toUTCString());
    expect(new Date(clock.t).toUTCString()).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });
});

describe('server clock set back', () => {
  it('a pin made after configure() moved the clock back shows at once', async () => {
    await start();
    const run = await api.run();
    clock.advance(1_000);
    current().configure({ now: () => clock.t - 3_600_000 });
    current().setSamplerStatus(run.id, 'UPDATING');
    const seen = await runOf(run.id); // still there, with its URL, though "created" after now
    expect([seen.sampler?.status?.name, seen.sampler?.base_url]).toEqual(['UPDATING', run.sampler?.base_url]);
    expect(await api.listRuns()).toEqual([run.id]);
    current().configure({ now: clock.now });
    expect((await runOf(run.id)).sampler?.status?.name).toBe('UPDATING');
  });
});

describe('read-after-write lag (readAfterWriteMs)', () => {
  it('hides a new run and its new deployment from reads for that long; writes see it', async () => {
    await start({ readAfterWriteMs: 1_000 });
    const run = await api.run();
    expect(run.status.name).toBe('ACTIVE'); // the create answer itself carries the run
    const missing = await api.getRun(run.id);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ detail: 'Run not found' });
    expect(await api.listRuns()).toEqual([]);
    expect(await api.listRuns(`?run_id=${run.id}&scope=org`)).toEqual([]);
    expect((await api.getDeployment(run.deployment_id ?? '')).status).toBe(404);
    expect((await api.get<{ deployments: unknown[] }>('/v1/loops/deployments')).body.deployments).toEqual([]);
    expect(
      current()
        .runs()
        .map((r) => r.id),
    ).toEqual([run.id]);

    clock.advance(999);
    expect((await api.getRun(run.id)).status).toBe(404);
    clock.advance(1);
    expect((await runOf(run.id)).id).toBe(run.id);
    expect(await api.listRuns()).toEqual([run.id]);
    expect((await deploymentOf(run.deployment_id)).id).toBe(run.deployment_id);

    // A run that reuses a visible deployment: the run lags, the deployment stays visible.
    const next = await api.run({ reuse_from_run_id: run.id });
    expect(next.deployment_id).toBe(run.deployment_id);
    expect((await api.getRun(next.id)).status).toBe(404);
    expect((await deploymentOf(run.deployment_id)).active_run_id).toBe(next.id);
    expect((await api.deactivate(next.id)).status).toBe(200); // a write finds it
  });
});

describe('deactivation', () => {
  async function twoRunsOnOneDeployment(): Promise<{ older: LoopsRun; newer: LoopsRun }> {
    const older = await api.run();
    const newer = await api.run({ reuse_from_run_id: older.id });
    expect(newer.deployment_id).toBe(older.deployment_id);
    clock.advance(1_000);
    return { older, newer };
  }

  it('tears down the deployment: trainer STOPPED, sampler INACTIVE, every run on it INACTIVE', async () => {
    await start();
    const { older, newer } = await twoRunsOnOneDeployment();
    const res = await api.deactivate(newer.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: newer.id, base_model: 'Qwen/Qwen3-8B', user: { email: 'ci@example.com' } });
    const d = await deploymentOf(newer.deployment_id);
    expect(d).toMatchObject({ status: { name: 'STOPPED' }, active_run_id: null, latest_run_id: newer.id });
    expect(d.sampler?.status?.name).toBe('INACTIVE');
    for (const id of [older.id, newer.id]) {
      const r = await runOf(id);
      expect([r.status.name, r.sampler?.status?.name]).toEqual(['INACTIVE', 'INACTIVE']);
    }
    const unknown = await api.deactivate('nope123');
    expect([unknown.status, unknown.body]).toEqual([404, { detail: 'Run not found' }]);
  });

  it("'ok' (default): deactivating a superseded run answers 200 and kills the deployment its successor uses", async () => {
    await start();
    const { older, newer } = await twoRunsOnOneDeployment();
    expect((await runOf(older.id)).status.name).toBe('INACTIVE');
    const res = await api.deactivate(older.id);
    expect(res.status).toBe(200);
    expect((await runOf(newer.id)).status.name).toBe('INACTIVE');
    expect((await deploymentOf(newer.deployment_id)).status.name).toBe('STOPPED');
    expect((await api.deactivate(older.id)).status).toBe(200); // and again
  });

  it.for([
    ['conflict', 409, { detail: 'Run is already inactive' }],
    ['not_found', 404, { detail: 'Run not found' }],
  ] as const)("'%s': an INACTIVE run answers %i and nothing changes", async ([mode, status, body]) => {
    await start({ deactivateInactive: mode });
    const { older, newer } = await twoRunsOnOneDeployment();
    const res = await api.deactivate(older.id);
    expect([res.status, res.body]).toEqual([status, body]);
    expect((await runOf(newer.id)).status.name).toBe('ACTIVE');
    const d = await deploymentOf(newer.deployment_id);
    expect([d.status.name, d.sampler?.status?.name, d.active_run_id]).toEqual(['RUNNING', 'ACTIVE', newer.id]);
    expect((await api.deactivate(newer.id)).status).toBe(200); // an ACTIVE run is still stopped
    expect((await api.deactivate(newer.id)).status).toBe(status); // now it is INACTIVE too
    expect((await api.deactivate('nope123')).status).toBe(404);
  });

  it('a FAILED trainer keeps its status when its run is deactivated; the sampler goes INACTIVE', async () => {
    await start();
    const run = await api.run();
    current().setTrainerStatus(run.id, 'FAILED');
    expect((await api.deactivate(run.id)).status).toBe(200);
    const d = await deploymentOf(run.deployment_id);
    expect([d.status.name, d.sampler?.status?.name]).toEqual(['FAILED', 'INACTIVE']);
  });

  it('POST /v1/loops/deployments/{id}/deactivate shuts the deployment down too', async () => {
    await start();
    const run = await api.run();
    const res = await api.post(`/v1/loops/deployments/${run.deployment_id ?? ''}/deactivate`);
    expect([res.status, res.body]).toEqual([200, { id: run.deployment_id, base_model: 'Qwen/Qwen3-8B', user: { email: 'ci@example.com' } }]);
    expect((await runOf(run.id)).status.name).toBe('INACTIVE');
    expect((await deploymentOf(run.deployment_id)).status.name).toBe('STOPPED');
    expect((await api.post('/v1/loops/deployments/nope123/deactivate')).status).toBe(404);
  });
});

describe('sampler URL not yet known (samplerUrlDelayMs)', () => {
  it('base_url is "" for that long after the sampler is created, then the URL', async () => {
    await start({ samplerUrlDelayMs: 500 });
    const run = await api.run();
    expect(run.sampler?.base_url).toBe('');
    clock.advance(499);
    expect((await runOf(run.id)).sampler?.base_url).toBe('');
    expect((await deploymentOf(run.deployment_id)).sampler?.base_url).toBe('');
    clock.advance(1);
    const url = `${current().url}/sampler/${run.sampler?.model_id ?? ''}`;
    expect((await runOf(run.id)).sampler?.base_url).toBe(url);
    // A run that reuses the sampler gets its URL at once.
    expect((await api.run({ reuse_from_run_id: run.id })).sampler?.base_url).toBe(url);
  });
});

describe('older server (createRunFields)', () => {
  it('only the listed create-run fields are known; any other is 422 extra_forbidden', async () => {
    await start({ createRunFields: ['name', 'lora_rank'] });
    const sessionId = await api.session();
    const res = await api.post<{ detail: { type: string; loc: string[] }[] }>('/v1/loops/runs', {
      session_id: sessionId,
      base_model: 'Qwen/Qwen3-8B',
      name: 'old-server',
      lora_rank: 8,
      replicas: 1,
      reuse_from_run_id: null,
    });
    expect(res.status).toBe(422);
    expect(res.body.detail.map((d) => [d.type, d.loc])).toEqual([
      ['extra_forbidden', ['body', 'replicas']],
      ['extra_forbidden', ['body', 'reuse_from_run_id']],
    ]);
    expect(current().runs()).toHaveLength(0);
    const ok = await api.run({ session_id: sessionId, name: 'old-server', lora_rank: 8 });
    expect(ok.name).toBe('old-server');
    expect(() => current().configure({ createRunFields: ['lora_rnak'] })).toThrow(/lora_rnak/);
    current().configure({ createRunFields: undefined });
    expect((await api.run({ replicas: 1 })).status.name).toBe('ACTIVE');
  });
});

describe('BOM', () => {
  const bytes = async (res: Response): Promise<Buffer> => Buffer.from(await res.arrayBuffer());

  it('every JSON body starts with a UTF-8 BOM, and Content-Length counts it', async () => {
    await start({ bom: true });
    clock.advance(0);
    const created = await api.call('POST', '/v1/loops/sessions', {});
    const raw = await bytes(created);
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(Number(created.headers.get('content-length'))).toBe(raw.length);
    const { id } = (JSON.parse(raw.subarray(3).toString('utf8')) as { session: { id: string } }).session;
    const run = await api.call('POST', '/v1/loops/runs', { session_id: id, base_model: 'Qwen/Qwen3-8B' });
    const runBody = JSON.parse((await bytes(run)).toString('utf8').replace(/^\uFEFF/, '')) as { run: LoopsRun };
    clock.advance(1_000);
    for (const res of [
      await api.call('GET', '/v1/loops/runs/nope123'),
      await api.call('POST', '/v1/loops/runs', '[]'),
      await fetch(`${current().url}/v1/loops/capabilities`),
      await api.call('GET', `${runBody.run.sampler?.base_url ?? ''}/v1/models`),
    ]) {
      expect((await bytes(res)).subarray(0, 3).toString('hex'), res.url).toBe('efbbbf');
    }
    current().fault({ path: '/v1/loops/capabilities', kind: 'html' });
    const html = await bytes(await api.call('GET', '/v1/loops/capabilities'));
    expect(html.subarray(0, 6).toString()).toBe('<html>'); // not JSON: no BOM
    current().configure({ bom: false });
    expect((await bytes(await api.call('GET', '/v1/loops/capabilities'))).subarray(0, 1).toString()).toBe('{');
  });
});
