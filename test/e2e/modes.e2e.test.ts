// End to end, availability modes (SPEC "Availability modes"): the bundle against the emulator,
// with serverless access given where a test says so. The mode output for both shapes (and re-read
// on every poll), warm start skipped for a serverless-capable model and taken for a dedicated
// one, waiting on a serverless run, scope and its errors, the warnings.

import { describe, expect } from 'vitest';
import type { Emulator, EmulatorOptions } from '../emulator/server.js';
import { type Step, annotations, requestsTo } from '../support/e2e.js';
import { type RunnerOptions, runPostStep } from '../support/runner.js';
import { KEY, MODEL, SHA, creates, lifeTest as test, launchInputs, pr, state } from './life.js';

const SERVERLESS: EmulatorOptions = { serverlessAccess: 'all' };

/** The summary's rows, as the runner renders them. */
function rows(summary: string): Record<string, string> {
  const pairs = [...summary.matchAll(/<tr><th align="left">(.*?)<\/th><td>(.*?)<\/td><\/tr>/g)].map((m): [string, string] => [
    m[1] ?? '',
    m[2] ?? '',
  ]);
  return Object.fromEntries(pairs);
}

const waitInputs = (emulator: Emulator, extra: Record<string, string | number | boolean> = {}) =>
  launchInputs(emulator, { wait_for: 'sampler', wait_timeout_seconds: 10, ...extra });

const deploymentReads = (emulator: Emulator): number => requestsTo(emulator, 'GET', /^\/v1\/loops\/deployments/).length;

describe.concurrent('the mode output: what the API shows about the run', () => {
  test('a serverless run: mode serverless, no deployment, billed per token in the log and summary', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const result = await step({ inputs: waitInputs(emulator) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ mode: 'serverless', status: 'ready', deployment_id: '', sampler_model_id: '', sampler_status: '' });
    expect(result.stdout).toContain(
      `Run ${result.outputs.run_id}: mode serverless (billed per token trained and sampled; an idle run costs nothing)`,
    );
    expect(rows(result.summary).Mode).toBe('serverless (billed per token trained and sampled; an idle run costs nothing)');
    expect(emulator.deployments()).toEqual([]); // no GPUs held
  });

  test('a dedicated run: mode dedicated, GPU time until stopped', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: waitInputs(emulator) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.mode).toBe('dedicated');
    expect(result.outputs.deployment_id).toBe(emulator.runs()[0]?.deployment_id);
    expect(rows(result.summary).Mode).toMatch(/^dedicated \(billed for GPU time .*until the run is stopped\)$/);
  });

  test('a dedicated run without deployment_id (nullable since 2026-08-21) is told by its sampler', async ({ loops, step }) => {
    const emulator = await loops({ deploymentIdOnRuns: false });
    const result = await step({ inputs: waitInputs(emulator, { wait_for: 'all' }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ mode: 'dedicated', deployment_id: '', trainer_status: 'RUNNING' });
  });

  test('re-read on every poll: unknown in the create answer, dedicated once an answer shows the deployment', async ({ loops, step }) => {
    const emulator = await loops();
    const bare = (body: unknown): unknown => {
      const run = (body as { run: Record<string, unknown> }).run;
      return { run: { ...run, deployment_id: null, sampler: null } };
    };
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'transform', transform: bare });
    const result = await step({ inputs: waitInputs(emulator) });
    expect(result.code, result.stdout).toBe(0);
    const id = result.outputs.run_id ?? '';
    expect(result.stdout).toContain(`Run ${id}: mode unknown`);
    expect(result.stdout).toContain(`Run ${id}: mode dedicated`);
    expect(result.outputs.mode).toBe('dedicated');
  });
});

describe.concurrent('warm start never moves a run off serverless', () => {
  /** Push A's run, then push B's launch on a pull request, on `emulator`. */
  async function twoPushes(emulator: Emulator, step: (o: RunnerOptions) => Promise<Step>, extra = {}) {
    const a = await step({ inputs: launchInputs(emulator, extra), ...pr(7, SHA.A) });
    expect(a.code, a.stdout).toBe(0);
    const b = await step({ inputs: launchInputs(emulator, extra), ...pr(7, SHA.B) });
    expect(b.code, b.stdout).toBe(0);
    return { a, b };
  }

  test('a serverless-capable model: no reuse sent, the summary says why, and the older run is superseded', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const { a, b } = await twoPushes(emulator, step);
    expect(creates(emulator)[1]).not.toHaveProperty('reuse_from_run_id');
    expect(b.outputs).toMatchObject({ reused_from_run_id: '', mode: 'serverless', superseded_run_ids: a.outputs.run_id });
    expect(b.stdout).toContain('warm_start: skipped: Qwen/Qwen3-8B can run serverless for this workspace');
    expect(rows(b.summary)['Warm start']).toMatch(/^skipped: Qwen\/Qwen3-8B can run serverless .*set scope: deployment to warm-start/);
    expect(state(emulator, a.outputs.run_id)).toBe('INACTIVE'); // supersede works on serverless runs
    expect(emulator.deployments()).toEqual([]);
  });

  test('preflight off: the capabilities are still read for the warm start, and it is skipped', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const { b } = await twoPushes(emulator, step, { preflight: false });
    expect(creates(emulator)[1]).not.toHaveProperty('reuse_from_run_id');
    expect(b.outputs.mode).toBe('serverless');
    expect(requestsTo(emulator, 'GET', '/v1/loops/capabilities')).toHaveLength(2);
  });

  test('a model without serverless access: warm start taken, as before', async ({ loops, step }) => {
    const emulator = await loops();
    const { a, b } = await twoPushes(emulator, step);
    expect(creates(emulator)[1]?.reuse_from_run_id).toBe(a.outputs.run_id);
    expect(b.outputs).toMatchObject({ reused_from_run_id: a.outputs.run_id, mode: 'dedicated', deployment_id: a.outputs.deployment_id });
    expect(rows(b.summary)['Warm start']).toBe(`asked to reuse run ${a.outputs.run_id} (best effort)`);
  });

  test('scope deployment on a serverless-capable model: dedicated, and warm start taken', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const { a, b } = await twoPushes(emulator, step, { scope: 'deployment' });
    expect(creates(emulator).map((body) => body.scope)).toEqual(['deployment', 'deployment']);
    expect(creates(emulator)[1]?.reuse_from_run_id).toBe(a.outputs.run_id);
    expect([a.outputs.mode, b.outputs.mode]).toEqual(['dedicated', 'dedicated']);
  });

  test('a rank beyond the serverless limit: dedicated anyway, so warm start is taken', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const { a, b } = await twoPushes(emulator, step, { lora_rank: 128 });
    expect(b.stdout).toContain("Availability mode expected: dedicated (lora_rank 128 is beyond serverless's limit of 64 for Qwen/Qwen3-8B)");
    expect(creates(emulator)[1]?.reuse_from_run_id).toBe(a.outputs.run_id);
    expect(b.outputs.mode).toBe('dedicated');
  });

  test('an explicit reuse_from_run_id with a serverless-capable model and scope auto: sent, with the GPU billing warning', async ({
    loops,
    step,
  }) => {
    const emulator = await loops(SERVERLESS);
    const earlier = emulator.createRun({ session_id: emulator.createSession(), base_model: MODEL });
    const result = await step({ inputs: launchInputs(emulator, { reuse_from_run_id: earlier.id }) });
    expect(result.code, result.stdout).toBe(0);
    expect(creates(emulator)[0]?.reuse_from_run_id).toBe(earlier.id);
    expect(annotations(result.stdout, 'warning')).toContain(
      "reuse_from_run_id: reusing another run's infrastructure makes this run dedicated, billed for GPU time until stopped, although Qwen/Qwen3-8B can run serverless here",
    );
    expect(result.outputs.mode).toBe('dedicated');
  });
});

describe.concurrent('waiting on a serverless run', () => {
  test('wait_for all ends ready on the run and the sampler check, without polling any deployment', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const result = await step({ inputs: waitInputs(emulator, { wait_for: 'all' }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'ready', mode: 'serverless', trainer_status: '', sampler_model: MODEL });
    expect(deploymentReads(emulator)).toBe(0);
    expect(result.stdout).toContain('(a serverless run has no trainer to wait for)');
  });

  test('wait_for trainer ends ready on the run being ACTIVE', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const result = await step({ inputs: waitInputs(emulator, { wait_for: 'trainer' }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'ready', trainer_status: '' });
    expect(deploymentReads(emulator)).toBe(0);
  });

  test('a sampler with a status: its statuses and /v1/models decide, as for a dedicated one', async ({ loops, step }) => {
    const timeline = [{ status: 'LOADING_MODEL', ms: 300 }, { status: 'ACTIVE' }];
    const emulator = await loops({ ...SERVERLESS, serverlessSampler: { status: 'shown', timeline } });
    const result = await step({ inputs: waitInputs(emulator, { wait_for: 'all' }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'ready', sampler_status: 'ACTIVE', sampler_model: MODEL });
    expect(result.stdout).toContain('sampler LOADING_MODEL → ACTIVE');
  });

  test('no status and a sampler still warming up: waits for /v1/models to answer', async ({ loops, step }) => {
    const timeline = [{ status: 'LOADING_MODEL', ms: 700 }, { status: 'ACTIVE' }];
    const emulator = await loops({ ...SERVERLESS, serverlessSampler: { timeline } });
    const result = await step({ inputs: waitInputs(emulator, { wait_for: 'all' }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.status).toBe('ready');
    expect(result.stdout).toMatch(/does not answer GET \/v1\/models yet \(HTTP 503/);
  });

  test('no status and no base URL: ready once the run is ACTIVE, with a warning that readiness was not verified', async ({ loops, step }) => {
    const emulator = await loops({ ...SERVERLESS, serverlessSampler: { baseUrl: false } });
    const result = await step({ inputs: waitInputs(emulator, { wait_for: 'all' }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'ready', sampler_base_url: '', openai_base_url: '' });
    expect(annotations(result.stdout, 'warning')).toContain('its sampler shows no status and no base URL: readiness was not verified');
  });

  test('a status that is an empty string is no status: ready on /v1/models, as without one', async ({ loops, step }) => {
    const emulator = await loops({ ...SERVERLESS, serverlessSampler: { status: 'empty' } });
    const result = await step({ inputs: waitInputs(emulator, { wait_for: 'all', wait_timeout_seconds: 5 }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'ready', mode: 'serverless' });
    expect(result.stdout).toContain('the sampler answers GET /v1/models');
  });

  test('ACTIVE and no base URL: ready once the run is ACTIVE, with the warning, not a timeout', async ({ loops, step }) => {
    const emulator = await loops({ ...SERVERLESS, serverlessSampler: { status: 'shown', baseUrl: false } });
    const result = await step({ inputs: waitInputs(emulator, { wait_for: 'sampler', wait_timeout_seconds: 5 }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'ready', sampler_base_url: '' });
    expect(annotations(result.stdout, 'warning')).toContain('its sampler shows ACTIVE and no base URL: readiness was not verified');
  });

  test('no status and verify_sampler false: ready, with the same warning', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const result = await step({ inputs: waitInputs(emulator, { verify_sampler: false }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.status).toBe('ready');
    expect(annotations(result.stdout, 'warning')).toContain('its sampler shows no status and verify_sampler off: readiness was not verified');
  });

  test('a sampler that never answers: the wait times out on what could come (its /v1/models), and the run is stopped', async ({
    loops,
    step,
  }) => {
    const emulator = await loops({ ...SERVERLESS, serverlessSampler: { timeline: [{ status: 'LOADING_MODEL' }] } });
    const result = await step({
      inputs: waitInputs(emulator, { wait_timeout_seconds: 1 }),
    });
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('timed_out');
    expect(annotations(result.stdout)).toContain('the sampler did not answer GET /v1/models (HTTP 503');
    expect(state(emulator, result.outputs.run_id)).toBe('INACTIVE');
  });
});

describe.concurrent('scope', () => {
  test('auto sends nothing; serverless and deployment are sent as scope', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    for (const scope of ['auto', 'serverless', 'deployment']) {
      const result = await step({ inputs: launchInputs(emulator, { scope }) });
      expect(result.code, result.stdout).toBe(0);
    }
    const [auto, serverless, deployment] = creates(emulator);
    expect(auto).not.toHaveProperty('scope');
    expect([serverless?.scope, deployment?.scope]).toEqual(['serverless', 'deployment']);
    expect(emulator.runs().map((r) => r.deployment_id === null)).toEqual([true, true, false]);
  });

  test('serverless for a model without serverless access: refused before anything is created, with a did-you-mean', async ({ loops, step }) => {
    const emulator = await loops({ serverlessAccess: ['Qwen/Qwen3-8B', 'moonshotai/Kimi-K2.6-Lite'] });
    emulator.configure({
      models: [
        { model_name: 'Qwen/Qwen3-8B', max_context_length: 131072, supports_vision_language: false, serverless: true },
        { model_name: 'moonshotai/Kimi-K2.6', max_context_length: 131072, supports_vision_language: false, serverless: false },
        { model_name: 'moonshotai/Kimi-K2.6-Lite', max_context_length: 131072, supports_vision_language: false, serverless: true },
      ],
    });
    const result = await step({ inputs: launchInputs(emulator, { scope: 'serverless', base_model: 'moonshotai/Kimi-K2.6' }) });
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('error');
    expect(annotations(result.stdout)).toContain(
      'scope: serverless, but this workspace has no serverless access to moonshotai/Kimi-K2.6. Did you mean "moonshotai/Kimi-K2.6-Lite"?',
    );
    expect(requestsTo(emulator, 'POST', '/v1/loops/sessions')).toEqual([]);
  });

  test('serverless with a rank beyond the serverless limit: refused before anything is created', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const result = await step({ inputs: launchInputs(emulator, { scope: 'serverless', lora_rank: 128 }) });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toContain("scope: serverless, but lora_rank 128 is beyond serverless's limit of 64 for Qwen/Qwen3-8B");
    expect(requestsTo(emulator, 'POST', '/v1/loops/sessions')).toEqual([]);
  });

  test('the server refusing scope serverless (preflight off): its detail, and no run', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: launchInputs(emulator, { scope: 'serverless', preflight: false }) });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toContain(
      'HTTP 400 Bad Request: scope is serverless, but this workspace has no serverless access to Qwen/Qwen3-8B',
    );
    expect(emulator.runs()).toEqual([]);
  });

  test('an unknown scope, or serverless with a reuse: input errors naming the inputs, nothing sent', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const bad = await step({ inputs: launchInputs(emulator, { scope: 'gpu' }) });
    expect(annotations(bad.stdout)).toContain('scope: must be one of auto, serverless, deployment (got "gpu")');
    const reuse = await step({ inputs: launchInputs(emulator, { scope: 'serverless', reuse_from_run_id: 'r0' }) });
    expect(annotations(reuse.stdout)).toContain('scope: serverless cannot go with reuse_from_run_id');
    expect([bad.code, reuse.code]).toEqual([1, 1]);
    expect(emulator.requests).toEqual([]);
  });

  test('a server that does not know scope refuses the field by name, as other newer fields', async ({ loops, step }) => {
    const older = ['session_id', 'base_model', 'name', 'lora_rank', 'max_seq_len', 'seed', 'scale_down_delay_seconds', 'path'];
    const emulator = await loops({ createRunFields: older });
    const result = await step({ inputs: launchInputs(emulator, { scope: 'deployment' }) });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toContain('scope: Extra inputs are not permitted');
    expect(emulator.runs()).toEqual([]);
  });

  test('replicas or spot on a run that will be serverless: a warning that they are ignored, and the fix', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const result = await step({ inputs: launchInputs(emulator, { replicas: 2, availability_model: 'spot' }) });
    expect(result.code, result.stdout).toBe(0);
    expect(annotations(result.stdout, 'warning')).toContain(
      'replicas: 2 and availability_model: spot apply only to dedicated runs, and this run will be serverless',
    );
    expect(annotations(result.stdout, 'warning')).toContain('Set scope: deployment to force a dedicated run.');
    expect(result.outputs.mode).toBe('serverless');
  });
});

describe.concurrent('the life of a serverless run', () => {
  test('the post step and the stop action end a serverless run and its sampler', async ({ loops, step }) => {
    const emulator = await loops(SERVERLESS);
    const first = await step({ inputs: launchInputs(emulator, { deactivate_at_job_end: true }) });
    const post = await runPostStep(first, { inputs: launchInputs(emulator, { deactivate_at_job_end: true }) });
    expect(post.code, post.stdout).toBe(0);
    expect(state(emulator, first.outputs.run_id)).toBe('INACTIVE');
    const second = await step({ inputs: launchInputs(emulator) });
    const id = second.outputs.run_id ?? '';
    expect([first.outputs.mode, second.outputs.mode]).toEqual(['serverless', 'serverless']);
    const stop = await step({ action: 'stop', inputs: { api_key: KEY, api_base_url: emulator.url, run_ids: id } });
    expect(stop.outputs).toMatchObject({ status: 'stopped', stopped_run_ids: id });
    expect(state(emulator, id)).toBe('INACTIVE');
    const url = emulator.runs().find((r) => r.id === id)?.sampler?.base_url ?? '';
    const models = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
    expect([url.length > 0, models.status]).toEqual([true, 404]); // the sampler is gone too
  });
});
