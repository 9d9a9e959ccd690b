// End to end: each input's effect, seen from outside. The committed bundle runs as a child
// process (as the runner runs it) against the local Loops emulator; the tests assert the exit
// code, $GITHUB_OUTPUT, the error text and the requests the emulator received.

import { networkInterfaces } from 'node:os';
import { describe, expect } from 'vitest';
import type { Emulator, EmulatorOptions, RecordedRequest } from '../emulator/server.js';
import { annotations, requestsTo, stepTest } from '../support/e2e.js';
import type { StepResult } from '../support/runner.js';

const KEY = 'loops-e2e-inputs-key-7f3a';
const MODEL = 'Qwen/Qwen3-8B';
const FAST: EmulatorOptions = {
  apiKeys: [KEY],
  samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'CREATED', ms: 20 }, { status: 'RUNNING' }],
};

const test = stepTest(FAST);

function inputs(emulator: Emulator, extra: Record<string, string | number | boolean> = {}) {
  return { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, wait_for: 'none', ...extra };
}

const requests = requestsTo;

function only(emulator: Emulator, method: string, path: string): RecordedRequest {
  const found = requests(emulator, method, path);
  expect(found, `${method} ${path} requests`).toHaveLength(1);
  return found[0] as RecordedRequest;
}

const commands = annotations;

function expectNoStackTrace(result: StepResult): void {
  expect(`${result.stdout}\n${result.stderr}`).not.toMatch(/^\s+at .+/m);
}

describe.concurrent('inputs, end to end', () => {
  test('maps every create-run input into the POST /v1/loops/runs body', async ({ loops, step }) => {
    const checkpoint = 'bt://loops:prevrun01/weights/step-100';
    const emulator = await loops({ checkpoints: [checkpoint] });
    const result = await step({
      inputs: inputs(emulator, {
        run_name: 'nightly-qwen-sft',
        lora_rank: 32,
        max_seq_len: 4096,
        seed: 1234,
        scale_down_delay_seconds: 120,
        checkpoint_path: checkpoint,
        reuse_from_run_id: 'prevrun01',
        reuse_from_session_id: 'prevsess01',
        availability_model: 'spot',
        replicas: 2,
        scope: 'deployment',
      }),
    });
    expect(result.code).toBe(0);
    const create = only(emulator, 'POST', '/v1/loops/runs');
    const sessionId = emulator.sessions()[0];
    expect(create.body).toEqual({
      session_id: sessionId,
      base_model: MODEL,
      name: 'nightly-qwen-sft',
      lora_rank: 32,
      max_seq_len: 4096,
      seed: 1234,
      scale_down_delay_seconds: 120,
      path: checkpoint,
      reuse_from_run_id: 'prevrun01',
      reuse_from_session_id: 'prevsess01',
      availability_model: 'spot',
      replicas: 2,
      scope: 'deployment',
    });
    expect(create.headers['content-type']).toMatch(/^application\/json/);

    const run = emulator.runs()[0];
    expect(run).toBeDefined();
    expect(result.outputs).toMatchObject({
      status: 'launched',
      run_id: run?.id,
      run_name: 'nightly-qwen-sft',
      session_id: sessionId,
      session_created: 'true',
      base_model: MODEL,
      run_base_url: run?.base_url,
      sampler_id: run?.sampler?.id,
      sampler_base_url: run?.sampler?.base_url,
      deployment_id: run?.deployment_id,
      created_at: run?.created_at,
    });
    expect(Number.isNaN(Date.parse(result.outputs.created_at ?? ''))).toBe(false);
    // The deprecated input and the replicas/reuse clash are both pointed out.
    const warnings = commands(result.stdout, 'warning');
    expect(warnings).toContain('reuse_from_session_id is deprecated');
    expect(warnings).toContain('replicas is not 1');
  });

  test("leaves unset optional fields and the API's own defaults (action.yml's too) out of the bodies; the name always goes", async ({
    loops,
    step,
  }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(0);
    const create = only(emulator, 'POST', '/v1/loops/runs');
    expect(create.body).toEqual({ session_id: emulator.sessions()[0], base_model: MODEL, name: result.outputs.run_name });
    const defaults = ['lora_rank', 'scale_down_delay_seconds', 'availability_model', 'replicas'];
    for (const absent of [...defaults, 'max_seq_len', 'seed', 'path', 'reuse_from_run_id', 'reuse_from_session_id']) {
      expect(create.body).not.toHaveProperty(absent);
    }
    // No training_project_id when it is not set.
    expect(only(emulator, 'POST', '/v1/loops/sessions').body ?? {}).toEqual({});
    expect(commands(result.stdout, 'warning')).toBe('');
  });

  test('names the run <owner>/<repo>/@<ref>/<sha7>/<slot>.<leg>/a<attempt> on a push; legs and steps differ', async ({ loops, step }) => {
    const emulator = await loops();
    const name = /^acme\/finetune\/@main\/0123456\/([0-9a-f]{8})\.([0-9a-f]{8})\/a(\d+)$/;
    const [a, b, c, d] = await Promise.all([
      step({ inputs: inputs(emulator) }),
      step({ inputs: inputs(emulator, { seed: 7 }) }),
      step({ inputs: inputs(emulator, { leg_key: '{"shard":1}' }) }),
      step({ inputs: inputs(emulator), env: { GITHUB_ACTION: 'second_launch', GITHUB_RUN_ATTEMPT: '3' } }),
    ]);
    const parts = [a, b, c, d].map((r) => {
      expect(r.code, r.stdout).toBe(0);
      return name.exec(r.outputs.run_name ?? '')?.slice(1) ?? [];
    });
    // Same slot (workflow, job, step); a leg each (a seed, a leg_key); another step is another slot.
    expect(new Set(parts.slice(0, 3).map((p) => p[0])).size).toBe(1);
    expect(new Set(parts.map((p) => p[1])).size).toBe(4);
    expect(parts[3]?.[0]).not.toBe(parts[0]?.[0]);
    expect(parts.map((p) => p[2])).toEqual(['1', '1', '1', '3']);
    const names = requests(emulator, 'POST', '/v1/loops/runs').map((r) => (r.body as { name: string }).name);
    expect(names.sort()).toEqual([a, b, c, d].map((r) => r.outputs.run_name).sort());
  });

  test('names the run <owner>/<repo>/pr<N>/<head sha7>/… on a pull request', async ({ loops, step }) => {
    const emulator = await loops();
    const head = 'feedface00112233445566778899aabbccddeeff';
    const result = await step({
      inputs: inputs(emulator),
      env: {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: 'refs/pull/17/merge',
        GITHUB_SHA: '9999999999999999999999999999999999999999',
      },
      event: { number: 17, pull_request: { number: 17, head: { sha: head } } },
    });
    expect(result.code).toBe(0);
    expect(result.outputs.run_name).toMatch(/^acme\/finetune\/pr17\/feedfac\/[0-9a-f]{8}\.[0-9a-f]{8}\/a1$/);
    expect((only(emulator, 'POST', '/v1/loops/runs').body as { name: string }).name).toBe(result.outputs.run_name);
  });

  test('sends api_key as Authorization: Bearer on every request', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(0);
    expect(emulator.requests.length).toBeGreaterThanOrEqual(3);
    for (const r of emulator.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    // Masked at once: the first thing the step prints is the mask command.
    expect(result.stdout.split('\n')[0]).toBe(`::add-mask::${KEY}`);
  });

  test('takes the key from BASETEN_API_KEY when api_key is empty', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { api_key: '' }), env: { BASETEN_API_KEY: KEY } });
    expect(result.code).toBe(0);
    expect(result.outputs.status).toBe('launched');
    expect(emulator.requests.length).toBeGreaterThanOrEqual(3);
    for (const r of emulator.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  test('prefers the api_key input over BASETEN_API_KEY', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator), env: { BASETEN_API_KEY: 'stale-env-key-0000' } });
    expect(result.code).toBe(0);
    for (const r of emulator.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  test('without a key: explains forks and Dependabot, status error, and sends nothing', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { api_key: '' }) });
    expect(result.code).toBe(1);
    const error = commands(result.stdout, 'error');
    expect(error).toContain('api_key');
    expect(error).toContain('BASETEN_API_KEY');
    expect(error).toMatch(/fork/i);
    expect(error).toContain('Dependabot');
    expect(emulator.requests).toHaveLength(0);
    expect(result.outputs.status).toBe('error');
    expect(result.outputs.run_id).toBeUndefined();
    expectNoStackTrace(result);
  });

  test('reports every invalid input at once, each by name, and sends nothing', async ({ loops, step }) => {
    const emulator = await loops();
    const bad = {
      lora_rank: '0',
      max_seq_len: 'long',
      seed: '1.5',
      scale_down_delay_seconds: '4000',
      replicas: '0',
      availability_model: 'cheap',
      wait_for: 'forever',
      wait_timeout_seconds: '0',
      poll_interval_seconds: '0.01',
      preflight: 'yes',
      max_retries: '-1',
      request_timeout_seconds: 'soon',
      checkpoint_path: 'bt://loops:r1/sampler_weights/x',
      session_id: 'not a valid id',
    };
    const result = await step({ inputs: inputs(emulator, bad) });
    expect(result.code).toBe(1);
    const error = commands(result.stdout, 'error');
    expect(error).toContain('nothing was sent');
    const lines = error.split('\n').filter((l) => l.startsWith('- '));
    for (const name of Object.keys(bad)) {
      expect(
        lines.filter((l) => l.startsWith(`- ${name}:`)),
        `one line naming ${name}`,
      ).toHaveLength(1);
    }
    expect(lines).toHaveLength(Object.keys(bad).length);
    // Each line says the rule and echoes what it got.
    expect(error).toMatch(/- lora_rank: must be a whole number ≥ 1 \(got "0"\)/);
    expect(error).toMatch(/- scale_down_delay_seconds: must be a whole number from 1 to 3600 \(got "4000"\)/);
    expect(error).toMatch(/- availability_model: must be one of dedicated, spot/);
    expect(emulator.requests).toHaveLength(0);
    expect(result.outputs.status).toBe('error');
    expectNoStackTrace(result);
    // The job summary says the same, one item per input.
    expect(result.summary).toContain('Status: error. Invalid inputs; nothing was sent');
    expect(result.summary.match(/<li>/g)).toHaveLength(Object.keys(bad).length);
    expect(result.summary).toContain('<li>lora_rank: must be a whole number ≥ 1 (got &quot;0&quot;)</li>');
  });

  test('refuses a plain-http api_base_url that is not loopback, sending nothing', async ({ loops, step }) => {
    // Listen on every interface so that, were the URL accepted, the request would arrive.
    const emulator = await loops({ host: '0.0.0.0' });
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    const url = lan ? `http://${lan}:${emulator.port}` : 'http://api.example.com';
    const result = await step({ inputs: inputs(emulator, { api_base_url: url }) });
    expect(result.code).toBe(1);
    const error = commands(result.stdout, 'error');
    expect(error).toMatch(/- api_base_url: must use https/);
    expect(error).toContain('localhost, 127.0.0.0/8 and ::1');
    expect(emulator.requests).toHaveLength(0);
    expect(result.outputs.status).toBe('error');
  });

  test('accepts plain http on a loopback host', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { api_base_url: `http://127.0.0.1:${emulator.port}/` }) });
    expect(result.code).toBe(0);
    expect(only(emulator, 'POST', '/v1/loops/runs')).toBeDefined();
  });

  test('reuses session_id: verified with GET, no session created, session_created=false', async ({ loops, step }) => {
    const emulator = await loops();
    const created = await fetch(`${emulator.url}/v1/loops/sessions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    const sessionId = ((await created.json()) as { session: { id: string } }).session.id;
    emulator.requests.length = 0;

    const result = await step({ inputs: inputs(emulator, { session_id: sessionId, training_project_id: 'tp-ignored' }) });
    expect(result.code).toBe(0);
    expect(only(emulator, 'GET', `/v1/loops/sessions/${sessionId}`).status).toBe(200);
    expect(requests(emulator, 'POST', '/v1/loops/sessions')).toHaveLength(0);
    expect((only(emulator, 'POST', '/v1/loops/runs').body as { session_id: string }).session_id).toBe(sessionId);
    // The session is verified before the run is created.
    const order = emulator.requests.map((r) => `${r.method} ${r.path}`);
    expect(order.indexOf(`GET /v1/loops/sessions/${sessionId}`)).toBeLessThan(order.indexOf('POST /v1/loops/runs'));
    expect(result.outputs).toMatchObject({ session_id: sessionId, session_created: 'false', status: 'launched' });
    expect(result.stdout).toContain(`Reusing session ${sessionId}`);
    expect(commands(result.stdout, 'warning')).toContain('training_project_id is ignored');
  });

  test('an unknown session_id fails clearly, naming it, and creates no run', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { session_id: 'nosuchsession42' }) });
    expect(result.code).toBe(1);
    const error = commands(result.stdout, 'error');
    expect(error).toContain('session_id');
    expect(error).toContain('"nosuchsession42" does not exist');
    expect(error).toContain('No run was created');
    expect(only(emulator, 'GET', '/v1/loops/sessions/nosuchsession42').status).toBe(404);
    expect(requests(emulator, 'POST', '/v1/loops/runs')).toHaveLength(0);
    expect(requests(emulator, 'POST', '/v1/loops/sessions')).toHaveLength(0);
    expect(result.outputs.status).toBe('error');
    expect(result.outputs.run_id).toBeUndefined();
    expect(result.state.run_id).toBeUndefined();
    expectNoStackTrace(result);
  });

  test('sends training_project_id in the create-session body when set', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { training_project_id: 'proj_abc123' }) });
    expect(result.code).toBe(0);
    expect(only(emulator, 'POST', '/v1/loops/sessions').body).toEqual({ training_project_id: 'proj_abc123' });
    expect(only(emulator, 'POST', '/v1/loops/runs').body).not.toHaveProperty('training_project_id');
  });

  test('preflight (default) checks capabilities and the checkpoint before creating anything', async ({ loops, step }) => {
    const checkpoint = 'bt://loops:oldrun1/weights/final';
    const emulator = await loops({ checkpoints: [checkpoint] });
    const result = await step({ inputs: inputs(emulator, { checkpoint_path: checkpoint }) });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Preflight passed');
    const order = emulator.requests.map((r) => `${r.method} ${r.path}`);
    const firstCreate = order.indexOf('POST /v1/loops/sessions');
    expect(order.indexOf('GET /v1/loops/capabilities')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('GET /v1/loops/capabilities')).toBeLessThan(firstCreate);
    expect(order.indexOf('GET /v1/loops/checkpoints')).toBeLessThan(firstCreate);
    expect(only(emulator, 'GET', '/v1/loops/checkpoints').query.checkpoint_path).toBe(checkpoint);
  });

  test('preflight=false sends no capabilities or checkpoint request', async ({ loops, step }) => {
    const emulator = await loops();
    // The checkpoint is unknown to the emulator: with preflight on this would fail.
    const result = await step({
      inputs: inputs(emulator, { preflight: false, checkpoint_path: 'bt://loops:oldrun1/weights/final' }),
    });
    expect(result.code).toBe(0);
    expect(requests(emulator, 'GET', '/v1/loops/capabilities')).toHaveLength(0);
    expect(requests(emulator, 'GET', '/v1/loops/checkpoints')).toHaveLength(0);
    expect(result.stdout).not.toContain('Preflight passed');
    // Around the create, the looks for a live run of this leg and commit (adopt_on_rerun): nothing else.
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1/loops/runs',
      'POST /v1/loops/sessions',
      'POST /v1/loops/runs',
      'GET /v1/loops/runs',
    ]);
  });

  test.for([
    [1, 2],
    [0, 1],
  ] as const)('max_retries=%i: %i attempt(s) of a failing request, then a clear failure', async ([retries, attempts], { loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'POST', path: '/v1/loops/sessions', kind: 'status', status: 503, times: Infinity });
    const result = await step({ inputs: inputs(emulator, { preflight: false, max_retries: retries }) });
    expect(result.code).toBe(1);
    expect(requests(emulator, 'POST', '/v1/loops/sessions')).toHaveLength(attempts);
    expect(requests(emulator, 'POST', '/v1/loops/runs')).toHaveLength(0);
    expect(commands(result.stdout, 'error')).toContain(`gave up after ${attempts} attempt`);
    if (retries > 0) expect(result.stdout).toMatch(/create session: attempt 1 of 2 failed \(HTTP 503/);
    else expect(result.stdout).not.toMatch(/attempt \d+ of/);
  });

  test('request_timeout_seconds abandons a request that takes too long', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'POST', path: '/v1/loops/sessions', kind: 'delay', delayMs: 15_000 });
    const result = await step({
      inputs: inputs(emulator, { preflight: false, max_retries: 0, request_timeout_seconds: 0.5 }),
    });
    expect(result.code).toBe(1);
    expect(commands(result.stdout, 'error')).toContain('POST /v1/loops/sessions failed: timeout after 0.5s');
    expect(result.durationMs).toBeLessThan(10_000);
    expect(result.outputs.status).toBe('error');
    expectNoStackTrace(result);
  });
});
