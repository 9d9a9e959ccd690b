import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions, type LoopsRun } from './emulator/server.js';

const KEY = 'test-key';
const FAST: EmulatorOptions = {
  samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'LOADING_MODEL', ms: 50 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'CREATED', ms: 30 }, { status: 'DEPLOYING', ms: 50 }, { status: 'RUNNING' }],
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function client(emu: () => Emulator, key = KEY, scheme = 'Bearer') {
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${emu().url}${path}`, {
      method,
      headers: {
        Authorization: `${scheme} ${key}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      redirect: 'manual',
    });
  return {
    call,
    async session(): Promise<string> {
      const res = await call('POST', '/v1/loops/sessions', {});
      expect(res.status).toBe(200);
      const j = (await res.json()) as { session: { id: string } };
      return j.session.id;
    },
    async run(extra: Record<string, unknown> = {}): Promise<LoopsRun> {
      const sessionId = await this.session();
      const res = await call('POST', '/v1/loops/runs', { session_id: sessionId, base_model: 'Qwen/Qwen3-8B', ...extra });
      expect(res.status).toBe(200);
      return ((await res.json()) as { run: LoopsRun }).run;
    },
  };
}

describe('Loops emulator', () => {
  let emu: Emulator;
  const api = client(() => emu);

  beforeAll(async () => {
    emu = await startEmulator({ ...FAST, forbiddenKeys: ['weak-key'], checkpoints: ['bt://loops:abc1234/sampler_weights/step-1'] });
  });
  afterAll(async () => {
    await emu.close();
  });
  beforeEach(() => {
    emu.reset();
  });

  describe('auth', () => {
    it('accepts Bearer and Api-Key, rejects missing/wrong keys with 401 and scope-less keys with 403', async () => {
      expect((await client(() => emu, KEY, 'Bearer').call('POST', '/v1/loops/sessions')).status).toBe(200);
      expect((await client(() => emu, KEY, 'Api-Key').call('POST', '/v1/loops/sessions')).status).toBe(200);

      const wrong = await client(() => emu, 'nope').call('POST', '/v1/loops/sessions');
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toEqual({ detail: 'Invalid or missing API key' });

      const none = await fetch(`${emu.url}/v1/loops/capabilities`);
      expect(none.status).toBe(401);

      const forbidden = await client(() => emu, 'weak-key').call('GET', '/v1/loops/runs');
      expect(forbidden.status).toBe(403);
      expect(typeof ((await forbidden.json()) as { detail: unknown }).detail).toBe('string');

      expect(emu.sessions()).toHaveLength(2);
      expect(emu.requests.map((r) => r.status)).toEqual([200, 200, 401, 401, 403]);
      expect(emu.requests[1]?.headers['authorization']).toBe(`Api-Key ${KEY}`);
    });

    it('auth is checked before routing', async () => {
      const res = await fetch(`${emu.url}/nope`);
      expect(res.status).toBe(401);
      const ok = await api.call('GET', '/nope');
      expect(ok.status).toBe(404);
      expect(await ok.json()).toEqual({ detail: 'Not Found' });
    });
  });

  describe('sessions and runs', () => {
    it('creates and gets a session; unknown session is 404', async () => {
      const id = await api.session();
      expect(id).toMatch(/^[a-z0-9]{7}$/);
      const got = await api.call('GET', `/v1/loops/sessions/${id}`);
      expect(await got.json()).toEqual({ session: { id } });
      const missing = await api.call('GET', '/v1/loops/sessions/zzzzzzz');
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ detail: 'Session not found' });
      const withProject = await api.call('POST', '/v1/loops/sessions', { training_project_id: null });
      expect(withProject.status).toBe(200);
      expect(emu.requests.at(-1)?.body).toEqual({ training_project_id: null });
    });

    it('creates a run with every required field; statuses follow the timelines (fake clock)', async () => {
      let clock = Date.parse('2026-08-22T10:00:00.000Z');
      emu.configure({ now: () => clock });
      try {
        const run = await api.run({ lora_rank: 16 });
        expect(run).toMatchObject({
          name: 'Qwen/Qwen3-8B',
          base_model: 'Qwen/Qwen3-8B',
          created_at: '2026-08-22T10:00:00.000Z',
          status: { name: 'ACTIVE' },
          user: { email: 'ci@example.com' },
        });
        expect(run.id).toMatch(/^[a-z0-9]{7}$/);
        expect(run.deployment_id).toMatch(/^[a-z0-9]{7}$/);
        expect(run.base_url).toMatch(/^https:\/\//);
        const sampler = run.sampler;
        expect(sampler?.status?.name).toBe('DEPLOYING');
        expect(sampler?.base_url).toBe(`${emu.url}/sampler/${sampler?.model_id}`);
        for (const k of ['id', 'base_url', 'base_model', 'created_at', 'model_id', 'deployment_id', 'status', 'user']) {
          expect(sampler).toHaveProperty(k);
        }

        const getRun = async () => ((await (await api.call('GET', `/v1/loops/runs/${run.id}`)).json()) as { run: LoopsRun }).run;
        const getDep = async () =>
          (
            (await (await api.call('GET', `/v1/loops/deployments/${run.deployment_id}`)).json()) as {
              deployment: Record<string, unknown> & { status: { name: string } };
            }
          ).deployment;

        const d0 = await getDep();
        expect(d0.status).toEqual({ name: 'CREATED' });
        for (const k of ['id', 'base_model', 'base_url', 'status', 'user', 'created_at', 'instance_type']) {
          expect(d0).toHaveProperty(k);
        }
        expect(d0['active_run_id']).toBe(run.id);

        clock += 50; // sampler: DEPLOYING 0-50, LOADING_MODEL 50-100; trainer: CREATED 0-30, DEPLOYING 30-80
        expect((await getRun()).sampler?.status?.name).toBe('LOADING_MODEL');
        expect((await getDep()).status.name).toBe('DEPLOYING');
        clock += 50;
        expect((await getRun()).sampler?.status?.name).toBe('ACTIVE');
        expect((await getDep()).status.name).toBe('RUNNING');
        clock += 3_600_000;
        expect((await getRun()).sampler?.status?.name).toBe('ACTIVE');
      } finally {
        emu.configure({ now: Date.now });
      }
      expect((await api.call('GET', '/v1/loops/runs/nope123')).status).toBe(404);
      expect((await api.call('GET', '/v1/loops/deployments/nope123')).status).toBe(404);
    });

    it('reaches ACTIVE in real time', async () => {
      const run = await api.run();
      const seen: string[] = [];
      for (let i = 0; i < 200 && seen.at(-1) !== 'ACTIVE'; i++) {
        const r = ((await (await api.call('GET', `/v1/loops/runs/${run.id}`)).json()) as { run: LoopsRun }).run;
        const name = r.sampler?.status?.name ?? '';
        if (seen.at(-1) !== name) seen.push(name);
        if (name !== 'ACTIVE') await sleep(10);
      }
      expect(seen.at(-1)).toBe('ACTIVE');
      const order = ['DEPLOYING', 'LOADING_MODEL', 'ACTIVE'];
      expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort());
    });

    it('unknown session_id on create run is 404', async () => {
      const res = await api.call('POST', '/v1/loops/runs', { session_id: 'nope123', base_model: 'Qwen/Qwen3-8B' });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ detail: 'Session not found' });
      expect(emu.runs()).toHaveLength(0);
    });

    it('lists runs with combined filters', async () => {
      const a = await api.run();
      const b = await api.run({ base_model: 'Qwen/Qwen3-0.6B', name: 'small' });
      const list = async (q: string) =>
        ((await (await api.call('GET', `/v1/loops/runs${q}`)).json()) as { runs: LoopsRun[] }).runs.map((r) => r.id);
      expect((await list('')).sort()).toEqual([a.id, b.id].sort());
      expect(await list(`?run_id=${a.id}`)).toEqual([a.id]);
      expect(await list('?base_model=Qwen/Qwen3-0.6B')).toEqual([b.id]);
      expect(await list(`?base_model=Qwen/Qwen3-0.6B&run_id=${a.id}`)).toEqual([]);
      expect((await list('?scope=org')).length).toBe(2);
      expect(emu.requests.at(-1)?.query).toEqual({ scope: 'org' });
      expect(b.name).toBe('small');
    });

    it('deactivates a run (idempotent), stopping sampler and deployment', async () => {
      const run = await api.run();
      const res = await api.call('POST', `/v1/loops/runs/${run.id}/deactivate`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id: run.id, base_model: 'Qwen/Qwen3-8B', user: { email: 'ci@example.com' } });
      expect((await api.call('POST', `/v1/loops/runs/${run.id}/deactivate`)).status).toBe(200);
      const got = ((await (await api.call('GET', `/v1/loops/runs/${run.id}`)).json()) as { run: LoopsRun }).run;
      expect(got.status.name).toBe('INACTIVE');
      expect(got.sampler?.status?.name).toBe('INACTIVE');
      const dep = (await (await api.call('GET', `/v1/loops/deployments/${run.deployment_id}`)).json()) as {
        deployment: { status: { name: string }; active_run_id: string | null; latest_run_id: string | null };
      };
      expect(dep.deployment.status.name).toBe('STOPPED');
      expect(dep.deployment.active_run_id).toBeNull();
      expect(dep.deployment.latest_run_id).toBe(run.id);
      expect((await api.call('POST', '/v1/loops/runs/nope123/deactivate')).status).toBe(404);
    });

    it('pins statuses with setSamplerStatus / setTrainerStatus', async () => {
      const run = await api.run();
      emu.setSamplerStatus(run.id, 'DEPLOY_FAILED');
      emu.setTrainerStatus(run.id, 'FAILED');
      expect(emu.runs()[0]?.sampler?.status?.name).toBe('DEPLOY_FAILED');
      const dep = (await (await api.call('GET', `/v1/loops/deployments/${run.deployment_id}`)).json()) as {
        deployment: { status: { name: string } };
      };
      expect(dep.deployment.status.name).toBe('FAILED');
      expect(() => emu.setSamplerStatus('nope', 'ACTIVE')).toThrow();
    });

    it('reuse_from_run_id reuses the deployment and marks the previous run INACTIVE', async () => {
      const first = await api.run();
      const second = await api.run({ reuse_from_run_id: first.id });
      expect(second.deployment_id).toBe(first.deployment_id);
      expect(second.sampler?.id).toBe(first.sampler?.id);
      const states = Object.fromEntries(emu.runs().map((r) => [r.id, r.status.name]));
      expect(states).toEqual({ [first.id]: 'INACTIVE', [second.id]: 'ACTIVE' });
      const third = await api.run({ reuse_from_run_id: first.id, replicas: 2 });
      expect(third.deployment_id).not.toBe(first.deployment_id);
    });

    it('answers 405 for a wrong method on a known path', async () => {
      const res = await api.call('DELETE', '/v1/loops/runs');
      expect(res.status).toBe(405);
      expect(await res.json()).toEqual({ detail: 'Method Not Allowed' });
      expect(res.headers.get('allow')).toBe('GET, POST');
    });

    it('handles dozens of concurrent clients', async () => {
      const runs = await Promise.all(Array.from({ length: 40 }, () => api.run()));
      expect(new Set(runs.map((r) => r.id)).size).toBe(40);
      expect(emu.runs()).toHaveLength(40);
      expect(emu.sessions()).toHaveLength(40);
    });
  });

  describe('validation (422)', () => {
    async function create(body: unknown, headers: Record<string, string> = {}) {
      const sessionId = await api.session();
      const payload = typeof body === 'object' && body !== null && !Array.isArray(body) ? { session_id: sessionId, ...body } : body;
      const res = await api.call('POST', '/v1/loops/runs', payload, headers);
      return { status: res.status, body: (await res.json()) as { detail: Record<string, unknown>[] } };
    }

    it('wrong types', async () => {
      const r = await create({ base_model: 'm', lora_rank: 'abc', seed: 1.5, max_seq_len: '64', name: 5 });
      expect(r.status).toBe(422);
      expect(r.body.detail).toEqual([
        { type: 'string_type', loc: ['body', 'name'], msg: 'Input should be a valid string', input: 5 },
        { type: 'int_type', loc: ['body', 'max_seq_len'], msg: 'Input should be a valid integer', input: '64' },
        { type: 'int_type', loc: ['body', 'lora_rank'], msg: 'Input should be a valid integer', input: 'abc' },
        { type: 'int_type', loc: ['body', 'seed'], msg: 'Input should be a valid integer', input: 1.5 },
      ]);
      expect(emu.runs()).toHaveLength(0);
    });

    it('missing required and extra properties', async () => {
      const r = await create({ lora_rnak: 8 });
      expect(r.status).toBe(422);
      expect(r.body.detail.map((d) => [d['type'], d['loc']])).toEqual([
        ['missing', ['body', 'base_model']],
        ['extra_forbidden', ['body', 'lora_rnak']],
      ]);
      expect(r.body.detail[1]?.['msg']).toBe('Extra inputs are not permitted');
    });

    it('constraints', async () => {
      const r = await create({
        base_model: 'm',
        name: 'x'.repeat(256),
        lora_rank: 0,
        scale_down_delay_seconds: 3601,
        availability_model: 'cheap',
        replicas: 0,
        path: 'bt://loops:abc/sampler_weights/step-1',
      });
      expect(r.body.detail.map((d) => `${String((d['loc'] as string[])[1])}:${String(d['type'])}`)).toEqual([
        'name:string_too_long',
        'lora_rank:greater_than_equal',
        'scale_down_delay_seconds:less_than_equal',
        'availability_model:enum',
        'replicas:greater_than_equal',
        'path:string_pattern_mismatch',
      ]);
      const zero = await create({ base_model: 'm', scale_down_delay_seconds: 0, name: '' });
      expect(zero.body.detail.map((d) => d['type'])).toEqual(['string_too_short', 'greater_than']);
      const ok = await create({ base_model: 'm', name: null, seed: null, path: 'bt://loops:abc/weights/step-1' });
      expect(ok.status).toBe(200);
    });

    it('invalid JSON, missing Content-Type and non-object bodies', async () => {
      const bad = await api.call('POST', '/v1/loops/runs', '{"session_id":');
      expect(bad.status).toBe(422);
      expect(((await bad.json()) as { detail: unknown[] }).detail[0]).toMatchObject({
        type: 'json_invalid',
        loc: ['body', 0],
        msg: 'JSON decode error',
        input: {},
      });
      const noType = await fetch(`${emu.url}/v1/loops/runs`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'text/plain' },
        body: '{"session_id":"a","base_model":"b"}',
      });
      expect(noType.status).toBe(422);
      expect(((await noType.json()) as { detail: { type: string }[] }).detail[0]?.type).toBe('model_attributes_type');
      const arr = await api.call('POST', '/v1/loops/runs', '[]');
      expect(((await arr.json()) as { detail: { type: string }[] }).detail[0]?.type).toBe('model_attributes_type');
      const empty = await api.call('POST', '/v1/loops/runs');
      expect(empty.status).toBe(422);
      const session = await api.call('POST', '/v1/loops/sessions', { project: 'x' });
      expect(session.status).toBe(422);
      expect(emu.requests.find((r) => r.body === '{"session_id":')).toBeDefined();
    });
  });

  describe('capabilities and checkpoints', () => {
    it('lists supported models', async () => {
      const res = await api.call('GET', '/v1/loops/capabilities');
      const j = (await res.json()) as { supported_models: Record<string, unknown>[] };
      // Every model has a serverless field; by default this workspace has no serverless access.
      expect(j.supported_models).toContainEqual({
        model_name: 'Qwen/Qwen3-0.6B',
        max_context_length: 8192,
        supports_vision_language: false,
        serverless: false,
      });
      expect(j.supported_models.map((m) => m['model_name'])).toContain('zai-org/GLM-5.2-FP8');
    });

    it('enforces the exactly-one rule', async () => {
      for (const q of ['', '?run_id=a&base_model=b', '?run_id=a&checkpoint_path=bt://loops:a/weights/x']) {
        const res = await api.call('GET', `/v1/loops/checkpoints${q}`);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({ detail: 'Exactly one of run_id, base_model or checkpoint_path is required' });
      }
      const other = await api.call('GET', '/v1/loops/checkpoints?run_id=zzz9999');
      expect(await other.json()).toEqual({ checkpoints: [] });
      const byRun = (await (await api.call('GET', '/v1/loops/checkpoints?run_id=abc1234')).json()) as { checkpoints: { run_id: string }[] };
      expect(byRun.checkpoints.map((c) => c.run_id)).toEqual(['abc1234']);
    });

    it('finds a known checkpoint path and not an unknown one', async () => {
      const path = 'bt://loops:abc1234/sampler_weights/step-1';
      const found = await api.call('GET', `/v1/loops/checkpoints?checkpoint_path=${encodeURIComponent(path)}`);
      const j = (await found.json()) as { checkpoints: Record<string, unknown>[] };
      expect(j.checkpoints).toHaveLength(1);
      expect(j.checkpoints[0]).toMatchObject({ checkpoint_id: 'step-1', run_id: 'abc1234', target: 'sampler', checkpoint_type: 'lora' });
      for (const k of ['created_at', 'base_model', 'lora_adapter_config', 'size_bytes', 'id']) {
        expect(j.checkpoints[0]).toHaveProperty(k);
      }
      const missing = await api.call('GET', `/v1/loops/checkpoints?checkpoint_path=${encodeURIComponent('bt://loops:abc1234/weights/step-9')}`);
      expect(await missing.json()).toEqual({ checkpoints: [] });
    });
  });

  describe('faults', () => {
    it('status before: nothing is created; status after: the run exists', async () => {
      const sessionId = await api.session();
      const body = { session_id: sessionId, base_model: 'Qwen/Qwen3-8B' };
      emu.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 503, headers: { 'Retry-After': '2' } });
      const before = await api.call('POST', '/v1/loops/runs', body);
      expect(before.status).toBe(503);
      expect(before.headers.get('retry-after')).toBe('2');
      expect(await before.json()).toEqual({ detail: 'Injected fault' });
      expect(emu.runs()).toHaveLength(0);

      emu.fault({ path: '/v1/loops/runs', kind: 'status', when: 'after', status: 500, body: { detail: 'boom' } });
      const after = await api.call('POST', '/v1/loops/runs', body);
      expect(after.status).toBe(500);
      expect(await after.json()).toEqual({ detail: 'boom' });
      expect(emu.runs()).toHaveLength(1);

      // consumed: the next request is normal
      expect((await api.call('POST', '/v1/loops/runs', body)).status).toBe(200);
      expect(emu.requests.slice(-3).map((r) => r.status)).toEqual([503, 500, 200]);
    });

    it('matches method, RegExp paths and times, in registration order', async () => {
      emu.fault({ method: 'GET', path: /^\/v1\/loops\/sessions\//, kind: 'status', status: 502, times: 2 });
      emu.fault({ path: /^\/v1\/loops\/sessions\//, kind: 'status', status: 504 });
      const id = await api.session(); // POST /v1/loops/sessions does not match
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await api.call('GET', `/v1/loops/sessions/${id}`)).status);
      expect(codes).toEqual([502, 502, 504, 200]);
      emu.fault({ path: '/v1/loops/capabilities', kind: 'status', times: Infinity });
      emu.clearFaults();
      expect((await api.call('GET', '/v1/loops/capabilities')).status).toBe(200);
    });

    it('drop before vs after', async () => {
      const sessionId = await api.session();
      const body = { session_id: sessionId, base_model: 'Qwen/Qwen3-8B' };
      emu.fault({ path: '/v1/loops/runs', method: 'POST', kind: 'drop' });
      await expect(api.call('POST', '/v1/loops/runs', body)).rejects.toThrow();
      expect(emu.runs()).toHaveLength(0);
      emu.fault({ path: '/v1/loops/runs', method: 'POST', kind: 'drop', when: 'after' });
      await expect(api.call('POST', '/v1/loops/runs', body)).rejects.toThrow();
      expect(emu.runs()).toHaveLength(1);
      expect(emu.requests.filter((r) => r.path === '/v1/loops/runs').map((r) => r.status)).toEqual([0, 0]);
    });

    it('delay: short delay answers normally, long delay times the client out', async () => {
      emu.fault({ path: '/v1/loops/capabilities', kind: 'delay', delayMs: 80 });
      const t0 = Date.now();
      const res = await api.call('GET', '/v1/loops/capabilities');
      expect(res.status).toBe(200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(70);

      const sessionId = await api.session();
      emu.fault({ path: '/v1/loops/runs', method: 'POST', kind: 'delay', delayMs: 5000, when: 'after' });
      await expect(
        fetch(`${emu.url}/v1/loops/runs`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ session_id: sessionId, base_model: 'Qwen/Qwen3-8B' }),
          signal: AbortSignal.timeout(100),
        }),
      ).rejects.toThrow();
      expect(emu.runs()).toHaveLength(1); // acted at once, only the answer was held
    });

    it('garbage: truncated body by default, complete-but-invalid JSON with body', async () => {
      const sessionId = await api.session();
      emu.fault({ path: '/v1/loops/runs', method: 'POST', kind: 'garbage', when: 'after' });
      const readAll = async () => {
        const res = await api.call('POST', '/v1/loops/runs', { session_id: sessionId, base_model: 'Qwen/Qwen3-8B' });
        expect(res.status).toBe(200);
        return res.text();
      };
      await expect(readAll()).rejects.toThrow(/terminated/);
      expect(emu.runs()).toHaveLength(1);

      emu.fault({ path: '/v1/loops/capabilities', kind: 'garbage', body: '{"supported_models": [' });
      const res = await api.call('GET', '/v1/loops/capabilities');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      const text = await res.text();
      expect(text).toBe('{"supported_models": [');
      expect(() => JSON.parse(text) as unknown).toThrow();
    });

    it('html error page', async () => {
      emu.fault({ path: '/v1/loops/capabilities', kind: 'html' });
      const res = await api.call('GET', '/v1/loops/capabilities');
      expect(res.status).toBe(502);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('<h1>502 Bad Gateway</h1>');
    });

    it('redirect without state change', async () => {
      const sessionId = await api.session();
      emu.fault({ path: '/v1/loops/runs', method: 'POST', kind: 'redirect', location: 'https://elsewhere.example/v1/loops/runs' });
      const res = await api.call('POST', '/v1/loops/runs', { session_id: sessionId, base_model: 'Qwen/Qwen3-8B' });
      expect(res.status).toBe(307);
      expect(res.headers.get('location')).toBe('https://elsewhere.example/v1/loops/runs');
      expect(emu.runs()).toHaveLength(0);
    });

    it('faults do not apply to unauthenticated requests', async () => {
      emu.fault({ path: '/v1/loops/capabilities', kind: 'status', status: 500 });
      expect((await fetch(`${emu.url}/v1/loops/capabilities`)).status).toBe(401);
      expect((await api.call('GET', '/v1/loops/capabilities')).status).toBe(500);
    });
  });
});

describe('Loops emulator options', () => {
  let emu: Emulator | undefined;
  const api = client(() => {
    if (!emu) throw new Error('no emulator');
    return emu;
  });
  afterEach(async () => {
    await emu?.close();
    emu = undefined;
  });

  it('rate limit answers 429 with Retry-After (before auth)', async () => {
    emu = await startEmulator({ rateLimit: { perSecond: 2, burst: 3 } });
    const codes = await Promise.all(Array.from({ length: 5 }, async () => (await api.call('GET', '/v1/loops/capabilities')).status));
    expect(codes.filter((c) => c === 200)).toHaveLength(3);
    expect(codes.filter((c) => c === 429)).toHaveLength(2);
    const limited = await fetch(`${emu.url}/v1/loops/capabilities`); // no auth: still 429
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ detail: 'Rate limit exceeded' });
    await sleep(600);
    expect((await api.call('GET', '/v1/loops/capabilities')).status).toBe(200);
    emu.configure({ rateLimit: undefined });
    const burst = await Promise.all(Array.from({ length: 10 }, () => api.call('GET', '/v1/loops/capabilities')));
    expect(burst.every((r) => r.status === 200)).toBe(true);
  });

  it('older API: no capabilities/checkpoints routes, no deployment_id on runs', async () => {
    emu = await startEmulator({ capabilities: false, deploymentIdOnRuns: false });
    expect((await api.call('GET', '/v1/loops/capabilities')).status).toBe(404);
    expect((await api.call('GET', '/v1/loops/checkpoints?run_id=a')).status).toBe(404);
    const run = await api.run();
    expect(run.deployment_id).toBeNull();
  });

  it('custom keys, models, clock and latency', async () => {
    let clock = Date.parse('2026-08-22T10:00:00.000Z');
    emu = await startEmulator({
      apiKeys: ['k1'],
      models: [{ model_name: 'x/y', max_context_length: 10, supports_vision_language: true, max_seq_len: 10 }],
      now: () => clock,
      samplerTimeline: [{ status: 'DEPLOYING', ms: 1000 }, { status: 'ACTIVE' }],
      latencyMs: 40,
    });
    const k1 = client(() => emu as Emulator, 'k1');
    const t0 = Date.now();
    const caps = await k1.call('GET', '/v1/loops/capabilities');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(35);
    expect(await caps.json()).toEqual({
      supported_models: [{ model_name: 'x/y', max_context_length: 10, supports_vision_language: true, max_seq_len: 10, serverless: false }],
    });
    const run = await k1.run();
    expect(run.created_at).toBe('2026-08-22T10:00:00.000Z');
    expect(run.sampler?.status?.name).toBe('DEPLOYING');
    clock += 1000;
    expect(emu.runs()[0]?.sampler?.status?.name).toBe('ACTIVE');
    expect((await api.call('GET', '/v1/loops/capabilities')).status).toBe(401);
  });

  it('close() does not hang on a delayed request or keep-alive sockets', async () => {
    emu = await startEmulator();
    await api.call('GET', '/v1/loops/capabilities'); // leaves a keep-alive socket
    emu.fault({ path: '/v1/loops/capabilities', kind: 'delay' }); // default 60 s
    const pending = api.call('GET', '/v1/loops/capabilities').then(
      (r) => r.status,
      () => 'failed',
    );
    await sleep(50);
    const t0 = Date.now();
    await emu.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await pending).toBe('failed');
    emu = undefined;
  });
});
