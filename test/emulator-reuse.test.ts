// Reuse of a deployment, users and scope=org, and runs planted with emulator.createRun (brief
// §3 d, e, l, m). Everything a client sees, over real HTTP on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { emulatorClient } from './emulator/client.js';
import { emulatorFixture } from './emulator/fixture.js';
import { type Emulator, type EmulatorOptions, EmulatorRequestError } from './emulator/server.js';

const FAST: EmulatorOptions = {
  samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'RUNNING' }],
};

const { api, clock, current, start } = emulatorFixture(FAST);

const statusOf = async (id: string): Promise<string> => (await api.getRun(id)).body.run.status.name;

describe('reuse', () => {
  it('reuse_from_run_id hands over trainer and sampler; every older run on it goes INACTIVE', async () => {
    await start();
    const first = await api.run();
    const second = await api.run({ reuse_from_run_id: first.id });
    expect(second.deployment_id).toBe(first.deployment_id);
    expect(second.sampler).toMatchObject({ id: first.sampler?.id, model_id: first.sampler?.model_id, base_url: first.sampler?.base_url });
    // Reusing from the (now INACTIVE) first run still finds the live deployment, and the second run goes too.
    const third = await api.run({ reuse_from_run_id: first.id });
    expect(third.deployment_id).toBe(first.deployment_id);
    expect([await statusOf(first.id), await statusOf(second.id), await statusOf(third.id)]).toEqual(['INACTIVE', 'INACTIVE', 'ACTIVE']);
    const d = (await api.getDeployment(first.deployment_id ?? '')).body.deployment;
    expect([d.active_run_id, d.latest_run_id]).toEqual([third.id, third.id]);
    expect(
      current()
        .deployments()
        .map((x) => x.runIds),
    ).toEqual([[first.id, second.id, third.id]]);
  });

  it('reuse_from_session_id takes the newest run of that session and base model', async () => {
    await start();
    const sessionId = await api.session();
    const a = await api.run({ session_id: sessionId });
    clock.advance(10);
    const b = await api.run({ session_id: sessionId });
    clock.advance(10);
    const small = await api.run({ session_id: sessionId, base_model: 'Qwen/Qwen3-0.6B' });
    const next = await api.run({ reuse_from_session_id: sessionId });
    expect(next.deployment_id).toBe(b.deployment_id);
    expect(next.name).toBe('Qwen/Qwen3-8B'); // named after the base model, as the SDK's continuation is
    expect([await statusOf(a.id), await statusOf(b.id), await statusOf(small.id)]).toEqual(['ACTIVE', 'INACTIVE', 'ACTIVE']);
    expect(await statusOf(next.id)).toBe('ACTIVE');
  });

  type Arrange = (e: Emulator, id: string) => Record<string, unknown> | undefined;
  const trainer =
    (status: string): Arrange =>
    (e, id) => {
      e.setTrainerStatus(id, status);
      return undefined;
    };
  const sampler =
    (status: string): Arrange =>
    (e, id) => {
      e.setSamplerStatus(id, status);
      return undefined;
    };
  const cases: [string, Arrange][] = [
    ['an unknown run', () => ({ reuse_from_run_id: 'nope123' })],
    ['another base model', () => ({ base_model: 'Qwen/Qwen3-0.6B' })],
    ['replicas 2', () => ({ replicas: 2 })],
    ['a STOPPED trainer', trainer('STOPPED')],
    ['a FAILED trainer', trainer('FAILED')],
    ['a PREEMPTED trainer', trainer('PREEMPTED')],
    ['an UNHEALTHY sampler', sampler('UNHEALTHY')],
  ];
  it.for(cases)('best effort: %s gets a fresh deployment', async ([, arrange]) => {
    await start();
    const old = await api.run();
    clock.advance(1_000);
    const extra = arrange(current(), old.id) ?? {};
    const fresh = await api.run({ reuse_from_run_id: old.id, ...extra });
    expect(fresh.deployment_id).not.toBe(old.deployment_id);
    expect(fresh.sampler?.id).not.toBe(old.sampler?.id);
    expect(fresh.sampler?.status?.name).toBe('DEPLOYING');
    expect(await statusOf(old.id)).toBe('ACTIVE'); // untouched
    expect(current().deployments()).toHaveLength(2);
  });

  it('a SCALED_TO_ZERO deployment is reused and stays scaled to zero until its sampler is woken', async () => {
    await start({ wakeMs: 200 });
    const old = await api.run();
    clock.advance(1_000);
    current().scaleToZero(old.id);
    const next = await api.run({ reuse_from_run_id: old.id });
    expect(next.deployment_id).toBe(old.deployment_id);
    clock.advance(3_600_000);
    const d = (await api.getDeployment(next.deployment_id ?? '')).body.deployment;
    expect([d.status.name, d.sampler?.status?.name, d.active_run_id]).toEqual(['SCALED_TO_ZERO', 'SCALED_TO_ZERO', next.id]);
    expect((await api.models(next.sampler)).status).toBe(503); // the wake
    const waking = (await api.getDeployment(next.deployment_id ?? '')).body.deployment;
    expect([waking.status.name, waking.sampler?.status?.name]).toEqual(['DEPLOYING', 'WAKING_UP']);
    clock.advance(200);
    const up = (await api.getRun(next.id)).body.run;
    expect(up.sampler?.status?.name).toBe('ACTIVE');
    expect((await api.models(up.sampler)).status).toBe(200);
  });
});

describe('users and scope=org', () => {
  it('a run belongs to the user of the key that created it; lists are the caller’s own unless scope=org', async () => {
    await start({ users: { 'key-a': 'a@example.com', 'key-b': 'b@example.com' } });
    const alice = emulatorClient(current, 'key-a');
    const bob = emulatorClient(current, 'key-b', 'Api-Key');
    const a1 = await alice.run();
    clock.advance(10);
    const b1 = await bob.run({ base_model: 'Qwen/Qwen3-0.6B' });
    clock.advance(10);
    const a2 = await alice.run({ base_model: 'Qwen/Qwen3-0.6B' });
    expect(a1.user).toEqual({ email: 'a@example.com' });
    expect(a1.sampler?.user).toEqual({ email: 'a@example.com' });
    expect(b1.user).toEqual({ email: 'b@example.com' });
    expect(await alice.listRuns()).toEqual([a2.id, a1.id]);
    expect(await bob.listRuns()).toEqual([b1.id]);
    expect(await alice.listRuns('?scope=org')).toEqual([a2.id, b1.id, a1.id]);
    expect(await alice.listRuns('?scope=org&base_model=Qwen/Qwen3-0.6B')).toEqual([a2.id, b1.id]);
    expect(await bob.listRuns(`?scope=org&run_id=${a1.id}`)).toEqual([a1.id]);
    expect(await bob.listRuns(`?run_id=${a1.id}`)).toEqual([]);
    expect(await api.listRuns()).toEqual([]); // test-key is ci@example.com: none of these
    const deployments = async (c: typeof api, q = '') =>
      (await c.get<{ deployments: { id: string; user: { email: string } }[] }>(`/v1/loops/deployments${q}`)).body.deployments;
    expect((await deployments(bob)).map((d) => d.id)).toEqual([b1.deployment_id]);
    expect((await deployments(bob, '?scope=org')).map((d) => d.user.email)).toEqual(['a@example.com', 'b@example.com', 'a@example.com']);
    expect((await api.getRun(a1.id)).status).toBe(200); // get by id is org-wide
    const samplers = await bob.get<{ samplers: { id: string }[] }>('/v1/loops/samplers');
    expect(samplers.body.samplers.map((s) => s.id)).toEqual([b1.sampler?.id]);
    expect((await bob.get<{ sampler: { id: string } }>(`/v1/loops/samplers/${a1.sampler?.id ?? ''}`)).body.sampler.id).toBe(a1.sampler?.id);
  });

  it('by default every key is ci@example.com and sees every run', async () => {
    await start({ apiKeys: ['k1', 'k2'] });
    const r1 = await emulatorClient(current, 'k1').run();
    const r2 = await emulatorClient(current, 'k2').run();
    expect(r2.user).toEqual({ email: 'ci@example.com' });
    expect(await emulatorClient(current, 'k1').listRuns()).toEqual([r2.id, r1.id]);
  });
});

describe('emulator.createRun and createSession', () => {
  it('plant runs through the same validation and store as POST /v1/loops/runs', async () => {
    await start({ users: { 'other-key': 'other@example.com' } });
    const sessionId = current().createSession();
    expect((await api.get(`/v1/loops/sessions/${sessionId}`)).status).toBe(200);
    const hourAgo = clock.t - 3_600_000;
    const old = current().createRun(
      { session_id: sessionId, base_model: 'Qwen/Qwen3-8B', name: 'other/repo/pr1' },
      { key: 'other-key', createdAt: hourAgo },
    );
    expect(old).toMatchObject({ name: 'other/repo/pr1', created_at: new Date(hourAgo).toISOString(), user: { email: 'other@example.com' } });
    expect(old.sampler?.status?.name).toBe('ACTIVE'); // its timeline ran an hour ago
    expect((await api.getDeployment(old.deployment_id ?? '')).body.deployment.status.name).toBe('RUNNING');
    const mine = await api.run();
    expect(await api.listRuns('?scope=org')).toEqual([mine.id, old.id]); // newest first by created_at
    expect(await api.listRuns()).toEqual([mine.id]);

    const continuation = current().createRun({ session_id: sessionId, base_model: 'Qwen/Qwen3-8B', reuse_from_session_id: sessionId });
    expect(continuation).toMatchObject({ name: 'Qwen/Qwen3-8B', deployment_id: old.deployment_id, user: { email: 'ci@example.com' } });
    expect((await api.getRun(old.id)).body.run.status.name).toBe('INACTIVE');
    expect(current().requests.filter((r) => r.path === '/v1/loops/runs' && r.method === 'POST')).toHaveLength(1);
  });

  it('throws the 4xx the route would answer', async () => {
    await start({ forbiddenKeys: ['weak'] });
    const sessionId = current().createSession();
    const thrown = (body: Record<string, unknown>, opts = {}): EmulatorRequestError => {
      try {
        current().createRun(body, opts);
      } catch (e) {
        if (e instanceof EmulatorRequestError) return e;
        throw e;
      }
      throw new Error('did not throw');
    };
    const bad = thrown({ session_id: sessionId, base_model: 'm', lora_rank: 1.5, extra: true });
    expect(bad.status).toBe(422);
    expect((bad.detail as { type: string }[]).map((d) => d.type)).toEqual(['int_type', 'extra_forbidden']);
    expect(bad.message).toMatch(/^422 .*int_type/);
    const noSession = thrown({ session_id: 'nope123', base_model: 'm' });
    expect([noSession.status, noSession.detail, noSession.message]).toEqual([404, 'Session not found', '404 Session not found']);
    expect(thrown({ session_id: sessionId, base_model: 'm' }, { key: 'nobody' }).status).toBe(401);
    expect(thrown({ session_id: sessionId, base_model: 'm' }, { key: 'weak' }).status).toBe(403);
    current().configure({ createRunFields: [] });
    expect(thrown({ session_id: sessionId, base_model: 'm', seed: 1 }).status).toBe(422);
    expect(current().runs()).toHaveLength(0);
    expect(current().createRun({ session_id: sessionId, base_model: 'm', seed: undefined }).name).toBe('m'); // undefined is not sent
  });
});
