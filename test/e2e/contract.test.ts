// The contract with the API description (../shared/loops-api/openapi.yaml), checked with
// Prism, a tool nobody on this project wrote:
//  (a) the committed bundle against a Prism MOCK: every request the action sends must satisfy
//      the description (Prism answers 422/401 with an sl-violations header otherwise);
//  (b) the emulator behind `prism proxy --errors`: every emulator response the action sees
//      must satisfy the description (Prism turns a violating one into a 500 with
//      sl-violations), and every request too (422, not forwarded).
// A recording forwarder between the bundle and Prism sees the sl-violations headers the
// action never shows. One Prism runs at a time (beforeAll/afterAll per describe).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/server.js';
import { type RunnerOptions, type StepResult, type StepWorkspace, runPostStep, runStep } from '../support/runner.js';
import { type Exchange, type Prism, type Recorder, routeOf, startPrism, startRecorder, violationLines } from './tools.js';

type Step = StepResult & { workspace: StepWorkspace };

const workspaces: StepWorkspace[] = [];
afterEach(() => {
  for (const w of workspaces.splice(0)) w.remove();
});

async function step(options: RunnerOptions): Promise<Step> {
  const result = await runStep({ timeoutMs: 45_000, ...options });
  workspaces.push(result.workspace);
  return result;
}

/** A readable account of a step, for assertion messages. */
function transcript(result: Pick<StepResult, 'stdout' | 'stderr'>, exchanges: Exchange[]): string {
  const calls = exchanges.map((e) => `${e.method} ${e.url} → ${e.status}${e.violations ? ` sl-violations: ${e.violations}` : ''}`);
  return `${calls.join('\n')}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Prism may log an exchange just after answering it: poll its log for a while. */
async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (check()) return true;
  return check();
}

/** Exchanges that broke the description (or were refused for auth). */
function broken(exchanges: Exchange[]): Exchange[] {
  return exchanges.filter((e) => e.violations !== undefined || e.status === 422 || e.status === 401 || e.status === 0);
}

/** Routes the action uses, as routeOf() names them. GET /v1/loops/runs (reconcile) is covered by (b) only if triggered. */
const ACTION_ROUTES = [
  'GET /v1/loops/capabilities',
  'GET /v1/loops/checkpoints',
  'POST /v1/loops/sessions',
  'GET /v1/loops/sessions/{session_id}',
  'POST /v1/loops/runs',
  'GET /v1/loops/runs/{run_id}',
  'GET /v1/loops/deployments/{deployment_id}',
  'POST /v1/loops/runs/{run_id}/deactivate',
];

describe('(a) the bundle against a Prism mock of openapi.yaml', () => {
  let prism: Prism;
  let recorder: Recorder;
  const KEY = 'prism-mock-key-7f31';

  beforeAll(async () => {
    prism = await startPrism('mock', ['--errors', '--seed', 'loops-contract']);
    // Prism's static run example has deployment_id null, so the trainer poll would never reach
    // GET /v1/loops/deployments/{id}. For GET /v1/loops/runs/{id} only, ask Prism for a
    // generated example (seeded: the same every time), which has one - and has unknown fields
    // and no sampler, which the action must tolerate.
    recorder = await startRecorder(prism.url, (method, path): Record<string, string> =>
      method === 'GET' && /^\/v1\/loops\/runs\/[^/]+$/.test(path) ? { Prefer: 'dynamic=true' } : {},
    );
  }, 90_000);

  afterAll(async () => {
    await recorder?.close();
    await prism?.stop();
  });

  const inputs = (extra: RunnerOptions['inputs']): RunnerOptions['inputs'] => ({
    api_key: KEY,
    api_base_url: recorder.url,
    // The mock's capabilities list one model, named "string" (its schema placeholder).
    base_model: 'string',
    max_retries: 0,
    ...extra,
  });

  it('preflight (capabilities, checkpoint), new session, run with every optional field: requests match the description', async () => {
    const from = recorder.exchanges.length;
    const logFrom = prism.log().length;
    const result = await step({
      inputs: inputs({
        preflight: true,
        wait_for: 'none',
        checkpoint_path: 'bt://loops:abc1234/weights/step-100',
        training_project_id: 'tp_123',
        run_name: 'contract-mock-run',
        lora_rank: 8,
        max_seq_len: 4096,
        seed: 7,
        scale_down_delay_seconds: 600,
        availability_model: 'spot',
        replicas: 1,
        reuse_from_run_id: 'r0abc12',
      }),
    });
    const mine = recorder.exchanges.slice(from);
    const why = transcript(result, mine);
    expect(result.code, why).toBe(0);
    expect(result.outputs.status, why).toBe('launched');
    expect(result.outputs.run_id, why).toBe('string');
    expect(result.outputs.session_created, why).toBe('true');
    expect(mine.map(routeOf).sort(), why).toEqual(
      ['GET /v1/loops/capabilities', 'GET /v1/loops/checkpoints', 'POST /v1/loops/sessions', 'POST /v1/loops/runs'].sort(),
    );
    expect(broken(mine), why).toEqual([]);
    expect(violationLines(prism.log().slice(logFrom))).toEqual([]);
    const created = mine.find((e) => routeOf(e) === 'POST /v1/loops/runs');
    expect(JSON.parse(created?.requestBody ?? '{}')).toMatchObject({ path: 'bt://loops:abc1234/weights/step-100', max_seq_len: 4096 });
  });

  it('reused session, wait for sampler and trainer, deactivation on timeout: requests match the description', async () => {
    const from = recorder.exchanges.length;
    const logFrom = prism.log().length;
    const result = await step({
      inputs: inputs({
        preflight: false,
        session_id: 'sess_abc123',
        wait_for: 'all',
        wait_timeout_seconds: 2,
        poll_interval_seconds: 0.3,
      }),
    });
    const mine = recorder.exchanges.slice(from);
    const why = transcript(result, mine);
    // The mock never becomes ready: the wait ends (timed out, or failed on a generated status)
    // and the run is deactivated.
    expect(result.code, why).toBe(1);
    expect(['timed_out', 'failed'], why).toContain(result.outputs.status);
    expect(result.outputs.session_created, why).toBe('false');
    const routes = new Set(mine.map(routeOf));
    for (const route of [
      'GET /v1/loops/sessions/{session_id}',
      'POST /v1/loops/runs',
      'GET /v1/loops/runs/{run_id}',
      'GET /v1/loops/deployments/{deployment_id}',
      'POST /v1/loops/runs/{run_id}/deactivate',
    ]) {
      expect(routes.has(route), `${route} not called\n${why}`).toBe(true);
    }
    expect(broken(mine), why).toEqual([]);
    expect(violationLines(prism.log().slice(logFrom))).toEqual([]);
  });

  it('the post step (deactivate_at_job_end): its requests match the description', async () => {
    const main = await step({ inputs: inputs({ preflight: false, wait_for: 'none', deactivate_at_job_end: true }) });
    expect(main.code, main.stdout).toBe(0);
    const from = recorder.exchanges.length;
    const post = await runPostStep(main, { inputs: inputs({ preflight: false, wait_for: 'none', deactivate_at_job_end: true }) });
    const mine = recorder.exchanges.slice(from);
    const why = transcript(post, mine);
    expect(post.code, why).toBe(0);
    expect(mine.map(routeOf), why).toEqual(['GET /v1/loops/runs/{run_id}', 'POST /v1/loops/runs/{run_id}/deactivate']);
    expect(broken(mine), why).toEqual([]);
  });

  it('together the cases called every route the action uses (except the reconcile list)', () => {
    const called = new Set(recorder.exchanges.map(routeOf));
    expect(ACTION_ROUTES.filter((r) => !called.has(r))).toEqual([]);
    expect(recorder.exchanges.every((e) => e.violations === undefined)).toBe(true);
  });

  it('Prism logged no violation in any of the above', async () => {
    await sleep(500);
    expect(violationLines(prism.log())).toEqual([]);
  });

  it('control: a request that breaks the description is caught (422 with sl-violations)', async () => {
    const from = recorder.exchanges.length;
    const response = await fetch(`${recorder.url}/v1/loops/runs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ lora_rank: 'sixty-four' }),
    });
    await response.text();
    const [exchange] = recorder.exchanges.slice(from);
    expect(exchange?.status).toBe(422);
    expect(exchange?.violations).toMatch(/session_id/);
    expect(broken(recorder.exchanges.slice(from))).toHaveLength(1);
    expect(await eventually(() => violationLines(prism.log()).some((l) => /session_id/.test(l)))).toBe(true);
    recorder.exchanges.splice(from);
  });
});

describe('(b) the bundle against the emulator behind prism proxy --errors', () => {
  const KEY = 'prism-proxy-key-2c8e';
  const CHECKPOINT = 'bt://loops:ck7run1/weights/step-200';
  const FAST: EmulatorOptions = {
    apiKeys: [KEY],
    checkpoints: [CHECKPOINT],
    samplerTimeline: [{ status: 'DEPLOYING', ms: 150 }, { status: 'LOADING_MODEL', ms: 150 }, { status: 'ACTIVE' }],
    trainerTimeline: [{ status: 'CREATED', ms: 100 }, { status: 'DEPLOYING', ms: 150 }, { status: 'RUNNING' }],
  };
  let emulator: Emulator;
  let prism: Prism;
  let recorder: Recorder;

  beforeAll(async () => {
    emulator = await startEmulator(FAST);
    prism = await startPrism('proxy', ['--errors'], emulator.url);
    recorder = await startRecorder(prism.url);
  }, 90_000);

  afterAll(async () => {
    await recorder?.close();
    await prism?.stop();
    await emulator?.close();
  });

  afterEach(() => {
    emulator.clearFaults();
    emulator.configure({ ...FAST, capabilities: true });
  });

  let legs = 0;
  // Every test is a leg of its own: one test's launch never adopts another's live run.
  const inputs = (extra: RunnerOptions['inputs'] = {}): RunnerOptions['inputs'] => ({
    api_key: KEY,
    api_base_url: recorder.url,
    base_model: 'Qwen/Qwen3-8B',
    lora_rank: 16,
    leg_key: `test ${++legs}`,
    poll_interval_seconds: 0.2,
    wait_timeout_seconds: 30,
    ...extra,
  });

  /**
   * Runs a step through the proxy and checks the contract: no exchange carried sl-violations
   * (no request refused, no emulator response rewritten into a 500), Prism logged no violation,
   * and every request reached the emulator.
   */
  async function throughProxy(options: RunnerOptions, post?: RunnerOptions): Promise<{ main: Step; post?: StepResult; exchanges: Exchange[] }> {
    const from = recorder.exchanges.length;
    const emulatorFrom = emulator.requests.length;
    const logFrom = prism.log().length;
    const main = await step(options);
    const postResult = post ? await runPostStep(main, post) : undefined;
    const exchanges = recorder.exchanges.slice(from);
    const why = transcript({ stdout: main.stdout + (postResult?.stdout ?? ''), stderr: main.stderr }, exchanges);
    expect(
      exchanges.filter((e) => e.violations !== undefined),
      why,
    ).toEqual([]);
    expect(violationLines(prism.log().slice(logFrom)), why).toEqual([]);
    // The sampler is another host (its /v1/models is called directly, not through the API): only API requests count.
    // The sampler's logs route (/v1/models/{model_id}/deployments/{id}/logs, a Baseten model deployment's) is not
    // in the Loops description: Prism answers it 404 itself, and the step goes on without the sampler's logs.
    const apiRequests = emulator.requests.slice(emulatorFrom).filter((r) => r.path.startsWith('/v1/loops/'));
    const described = exchanges.filter((e) => e.url.startsWith('/v1/loops/'));
    expect(apiRequests.length, `every request reaches the emulator\n${why}`).toBe(described.length);
    return { main, post: postResult, exchanges };
  }

  it('success: preflight with checkpoint_path, new session, wait_for all → ready', async () => {
    const { main, exchanges } = await throughProxy({ inputs: inputs({ wait_for: 'all', checkpoint_path: CHECKPOINT }) });
    const why = transcript(main, exchanges);
    expect(main.code, why).toBe(0);
    expect(main.outputs.status, why).toBe('ready');
    expect(main.outputs.sampler_status).toBe('ACTIVE');
    expect(main.outputs.trainer_status).toBe('RUNNING');
    expect(emulator.runs().map((r) => r.id)).toContain(main.outputs.run_id);
    const routes = new Set(exchanges.map(routeOf));
    for (const route of ACTION_ROUTES.filter((r) => !r.includes('sessions/{') && !r.includes('deactivate'))) {
      expect(routes.has(route), `${route} not called\n${why}`).toBe(true);
    }
  });

  it('session reuse: GET /v1/loops/sessions/{id}, the run joins that session', async () => {
    const created = await fetch(`${emulator.url}/v1/loops/sessions`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` } });
    const sessionId = ((await created.json()) as { session: { id: string } }).session.id;
    const { main, exchanges } = await throughProxy({ inputs: inputs({ session_id: sessionId, wait_for: 'sampler' }) });
    const why = transcript(main, exchanges);
    expect(main.code, why).toBe(0);
    expect(main.outputs).toMatchObject({ status: 'ready', session_id: sessionId, session_created: 'false' });
    expect(exchanges.map(routeOf)).toContain('GET /v1/loops/sessions/{session_id}');
    expect(emulator.runs().find((r) => r.id === main.outputs.run_id)?.session_id).toBe(sessionId);
  });

  it('a failing wait deactivates the run (POST …/deactivate)', async () => {
    emulator.configure({ samplerTimeline: [{ status: 'DEPLOYING', ms: 150 }, { status: 'DEPLOY_FAILED' }] });
    const { main, exchanges } = await throughProxy({ inputs: inputs({ wait_for: 'sampler', preflight: false }) });
    const why = transcript(main, exchanges);
    expect(main.code, why).toBe(1);
    expect(main.outputs.status, why).toBe('failed');
    expect(exchanges.map(routeOf), why).toContain('POST /v1/loops/runs/{run_id}/deactivate');
    expect(emulator.runs().find((r) => r.id === main.outputs.run_id)?.status.name).toBe('INACTIVE');
    // Then the trainer's logs (show_logs: on_failure), through the proxy like every described route.
    expect(
      exchanges.filter((e) => /^\/v1\/loops\/deployments\/\w+\/logs\?/.test(e.url) && e.status === 200),
      why,
    ).toHaveLength(1);
  });

  it('the post step deactivates the run at job end', async () => {
    const options = { inputs: inputs({ wait_for: 'none', preflight: false, deactivate_at_job_end: true }) };
    const { main, post, exchanges } = await throughProxy(options, options);
    const why = transcript(main, exchanges);
    expect(main.code, why).toBe(0);
    expect(main.outputs.status).toBe('launched');
    expect(post?.code, post?.stdout).toBe(0);
    expect(exchanges.map(routeOf).at(-1), why).toBe('POST /v1/loops/runs/{run_id}/deactivate');
    expect(emulator.runs().find((r) => r.id === main.outputs.run_id)?.status.name).toBe('INACTIVE');
  });

  it('a session that does not exist: the 404 passes the description and the step names session_id', async () => {
    const { main, exchanges } = await throughProxy({ inputs: inputs({ session_id: 'nosuchsession', preflight: false }) });
    const why = transcript(main, exchanges);
    expect(main.code, why).toBe(1);
    expect(main.outputs.status).toBe('error');
    expect(main.stdout).toMatch(/::error::.*session_id/);
    // The look for a live run of this leg and commit (adoption), then the session: nothing created.
    expect(exchanges.map((e) => `${routeOf(e)} ${e.status}`)).toEqual(['GET /v1/loops/runs 200', 'GET /v1/loops/sessions/{session_id} 404']);
  });

  it('a 422 from the emulator (FastAPI validation body) passes the description and its detail is shown', async () => {
    emulator.fault({
      method: 'POST',
      path: '/v1/loops/runs',
      kind: 'status',
      status: 422,
      body: { detail: [{ type: 'less_than_equal', loc: ['body', 'replicas'], msg: 'Input should be less than or equal to 8', input: 99 }] },
    });
    const { main, exchanges } = await throughProxy({ inputs: inputs({ preflight: false }) });
    const why = transcript(main, exchanges);
    expect(main.code, why).toBe(1);
    expect(main.outputs.status).toBe('error');
    expect(main.stdout, why).toMatch(/::error::.*422.*Input should be less than or equal to 8/);
    expect(exchanges.filter((e) => routeOf(e) === 'POST /v1/loops/runs').map((e) => e.status)).toEqual([422]);
  });

  it('a rejected key: the 401 passes the description and the step fails clearly', async () => {
    const { main, exchanges } = await throughProxy({ inputs: inputs({ api_key: 'not-a-valid-key-9d' }) });
    const why = transcript(main, exchanges);
    expect(main.code, why).toBe(1);
    expect(main.stdout, why).toMatch(/::error::.*401/);
    expect(
      exchanges.every((e) => e.status === 401),
      why,
    ).toBe(true);
  });

  it('capabilities unavailable (404): preflight is skipped with a warning and the run is created', async () => {
    emulator.configure({ capabilities: false });
    const { main, exchanges } = await throughProxy({ inputs: inputs({ wait_for: 'none', checkpoint_path: CHECKPOINT }) });
    const why = transcript(main, exchanges);
    expect(main.code, why).toBe(0);
    expect(main.stdout).toMatch(/::warning::Preflight check of base_model and max_seq_len skipped/);
    expect(main.outputs.status).toBe('launched');
  });

  it('Prism logged no violation in any of the above', async () => {
    await sleep(500);
    expect(violationLines(prism.log())).toEqual([]);
  });

  it('control: an emulator response that breaks the description becomes a 500 with sl-violations', async () => {
    emulator.fault({ method: 'GET', path: '/v1/loops/runs/abc1234', kind: 'status', status: 200, body: { run: { id: 5 } } });
    const from = recorder.exchanges.length;
    const response = await fetch(`${recorder.url}/v1/loops/runs/abc1234`, { headers: { Authorization: `Bearer ${KEY}` } });
    await response.text();
    const [exchange] = recorder.exchanges.slice(from);
    expect(exchange?.status).toBe(500);
    expect(exchange?.violations).toMatch(/id/);
    expect(await eventually(() => violationLines(prism.log()).length > 0)).toBe(true);
  });
});
