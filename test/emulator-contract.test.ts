// The emulator's new answers against the API description: Prism (`prism proxy --errors`)
// validates every request and response of the routes it describes, and turns a response that
// breaks the description into a 500 with an sl-violations header.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Answer, emulatorClient, fakeClock } from './emulator/client.js';
import { type Emulator, type LoopsRun, startEmulator } from './emulator/server.js';
import { type Prism, startPrism, violationLines } from './e2e/tools.js';

describe('new emulator answers through prism proxy --errors', () => {
  const clock = fakeClock();
  let emulator: Emulator;
  let prism: Prism;
  const viaPrism = emulatorClient(() => prism, 'key-a');
  const direct = emulatorClient(() => emulator, 'key-a');

  beforeAll(async () => {
    emulator = await startEmulator({
      now: clock.now,
      users: { 'key-a': 'a@example.com', 'key-b': 'b@example.com' },
      readAfterWriteMs: 1_000,
      samplerUrlDelayMs: 2_000,
      deactivateInactive: 'conflict',
      samplerTimeline: [{ status: 'DEPLOYING', ms: 100 }, { status: 'ACTIVE' }],
      trainerTimeline: [{ status: 'DEPLOYING', ms: 100 }, { status: 'RUNNING' }],
    });
    prism = await startPrism('proxy', ['--errors'], emulator.url);
  }, 90_000);

  afterAll(async () => {
    await prism?.stop();
    await emulator?.close();
  });

  const clean = <T>(res: Answer<T>): Answer<T> => {
    expect(res.headers.get('sl-violations'), JSON.stringify(res.body)).toBeNull();
    return res;
  };

  it('lag, empty sampler URL, users and scope=org, samplers, deactivation answers: all pass', async () => {
    const sessionId = clean(await viaPrism.post<{ session: { id: string } }>('/v1/loops/sessions', {})).body.session.id;
    const created = clean(await viaPrism.post<{ run: LoopsRun }>('/v1/loops/runs', { session_id: sessionId, base_model: 'Qwen/Qwen3-8B' }));
    const run = created.body.run;
    expect([created.status, run.sampler?.base_url, run.user.email]).toEqual([200, '', 'a@example.com']);
    expect(clean(await viaPrism.getRun(run.id)).status).toBe(404); // lag
    expect(clean(await viaPrism.getDeployment(run.deployment_id ?? '')).status).toBe(404);
    clock.advance(1_000);
    expect(clean(await viaPrism.getRun(run.id)).body.run.sampler?.base_url).toBe('');
    const other = emulator.createRun({ session_id: sessionId, base_model: 'Qwen/Qwen3-8B' }, { key: 'key-b' });
    clock.advance(1_000);
    expect(await viaPrism.listRuns()).toEqual([run.id]);
    expect(await viaPrism.listRuns('?scope=org')).toEqual([other.id, run.id]);
    for (const path of ['/v1/loops/deployments', '/v1/loops/deployments?scope=org', '/v1/loops/samplers?scope=org']) {
      expect(clean(await viaPrism.get(path)).status, path).toBe(200);
    }
    expect(clean(await viaPrism.get(`/v1/loops/samplers/${run.sampler?.id ?? ''}`)).status).toBe(200);
    const next = clean(
      await viaPrism.post<{ run: LoopsRun }>('/v1/loops/runs', { session_id: sessionId, base_model: 'Qwen/Qwen3-8B', reuse_from_run_id: run.id }),
    );
    expect(next.body.run.deployment_id).toBe(run.deployment_id);
    const conflict = clean(await viaPrism.deactivate(run.id));
    expect([conflict.status, conflict.body]).toEqual([409, { detail: 'Run is already inactive' }]);
    expect(clean(await viaPrism.deactivate(next.body.run.id)).status).toBe(200);
    expect(clean(await viaPrism.post(`/v1/loops/deployments/${other.deployment_id ?? ''}/deactivate`)).status).toBe(200);
    expect(clean(await viaPrism.getDeployment(run.deployment_id ?? '')).body.deployment.status.name).toBe('STOPPED');
    expect((await direct.getRun(run.id)).status).toBe(200); // the same answers, without Prism
    expect(violationLines(prism.log())).toEqual([]);
  });

  it('availability modes: serverless in capabilities, scope in the create, lora_config and expires_at, the 429 bodies: all pass', async () => {
    emulator.configure({ serverlessAccess: 'all', capacity: { refusals: 1, retryAfterSeconds: 5 } });
    try {
      const caps = clean(await viaPrism.get<{ supported_models: Array<{ serverless: unknown }> }>('/v1/loops/capabilities'));
      expect(caps.body.supported_models.map((m) => typeof m.serverless)).toContain('boolean');
      const sessionId = clean(await viaPrism.post<{ session: { id: string } }>('/v1/loops/sessions', {})).body.session.id;
      const body = { session_id: sessionId, base_model: 'Qwen/Qwen3-8B', scope: 'deployment' };
      const refused = clean(await viaPrism.post<{ details: { reason: string } }>('/v1/loops/runs', body));
      expect([refused.status, refused.body.details.reason]).toEqual([429, 'loops_capacity']);
      const run = clean(await viaPrism.post<{ run: LoopsRun }>('/v1/loops/runs', body)).body.run;
      expect(run.deployment_id).not.toBeNull();
      emulator.configure({ checkpoints: [{ path: `bt://loops:${run.id}/weights/step-1`, expires_at: clock.t + 60_000 }] });
      const listed = clean(await viaPrism.get<{ checkpoints: Array<Record<string, unknown>> }>(`/v1/loops/checkpoints?run_id=${run.id}`));
      expect(listed.body.checkpoints[0]).toMatchObject({ lora_config: { r: 64 }, expires_at: new Date(clock.t + 60_000).toISOString() });
    } finally {
      emulator.configure({ serverlessAccess: 'none', capacity: { refusals: 0 }, checkpoints: [] });
    }
  });

  it('a serverless run breaks the 2026-08-22 description exactly where the assumed shape says: the sampler without model ids and status', async () => {
    emulator.configure({ serverlessAccess: 'all' });
    try {
      const sessionId = (await direct.session()) ?? '';
      const logged = violationLines(prism.log()).length;
      const res = await viaPrism.post('/v1/loops/runs', { session_id: sessionId, base_model: 'Qwen/Qwen3-8B' });
      expect(res.status).toBe(500);
      const violations = JSON.parse(res.headers.get('sl-violations') ?? '[]') as Array<{ location: string[]; code: string; message: string }>;
      // Only the sampler breaks it (the run's null deployment_id is allowed), and only by what it lacks.
      expect(new Set(violations.map((v) => v.location.join('.')))).toEqual(new Set(['response.body.run.sampler']));
      const missing = violations.filter((v) => v.code === 'required').map((v) => /property '(\w+)'/.exec(v.message)?.[1]);
      expect(missing).toEqual(['model_id', 'deployment_id', 'status']);
      // Prism logs the violation a moment after answering: wait for it, so that it is this test's.
      await vi.waitFor(() => expect(violationLines(prism.log()).length).toBeGreaterThan(logged), { timeout: 5000 });
    } finally {
      emulator.configure({ serverlessAccess: 'none' });
    }
  });

  it('trainer logs: the answer and its window pass (the sampler logs route is not in the description)', async () => {
    const logFrom = prism.log().length;
    emulator.configure({ story: 'oom' });
    try {
      const sessionId = clean(await viaPrism.post<{ session: { id: string } }>('/v1/loops/sessions', {})).body.session.id;
      const run = clean(await viaPrism.post<{ run: LoopsRun }>('/v1/loops/runs', { session_id: sessionId, base_model: 'Qwen/Qwen3-8B' })).body
        .run;
      clock.advance(1_000);
      const since = Date.parse(run.created_at);
      const res = clean(
        await viaPrism.get<{ logs: Array<{ timestamp: string; level: string | null }> }>(
          `/v1/loops/deployments/${run.deployment_id ?? ''}/logs?start_epoch_millis=${since}&direction=desc&limit=50&min_level=INFO`,
        ),
      );
      expect(res.status).toBe(200);
      expect(res.body.logs.map((l) => l.level)).toContain('ERROR');
      expect(res.body.logs[0]?.timestamp).toMatch(/^\d{19}$/);
      expect(violationLines(prism.log().slice(logFrom))).toEqual([]);
    } finally {
      emulator.configure({ story: undefined });
    }
  });

  it('Prism cannot read a body that starts with a BOM (500 FetchError): bom tests must not go through Prism', async () => {
    emulator.configure({ bom: true });
    try {
      const res = await viaPrism.get<{ type: string; title: string }>('/v1/loops/capabilities');
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ type: 'FetchError', title: expect.stringMatching(/invalid json response body/) as unknown });
      expect((await direct.get('/v1/loops/capabilities')).status).toBe(200);
    } finally {
      emulator.configure({ bom: false });
    }
  });

  it('control: an answer that breaks the description is caught', async () => {
    emulator.fault({ path: '/v1/loops/samplers', kind: 'transform', transform: () => ({ samplers: [{ id: 5 }] }) });
    const res = await viaPrism.get('/v1/loops/samplers');
    expect(res.status).toBe(500);
    expect(res.headers.get('sl-violations')).toMatch(/samplers/);
  });
});
