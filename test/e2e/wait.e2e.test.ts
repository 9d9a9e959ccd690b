// End to end: waiting for readiness, the outputs it leaves, deactivation on failure, timeout
// and cancellation, the post step, run_json and the job summary. The committed bundle runs
// as a child process against the local Loops emulator with short status timelines.

import type { ChildProcess } from 'node:child_process';
import { describe, expect } from 'vitest';
import { annotations, requestsTo, stepTest } from '../support/e2e.js';
import type { Emulator, EmulatorOptions, RecordedRequest, TimelineStep } from '../emulator/server.js';
import { type StepResult, runPostStep } from '../support/runner.js';

const KEY = 'loops-e2e-wait-key-51c9';
const MODEL = 'Qwen/Qwen3-8B';
const FAST: EmulatorOptions = {
  apiKeys: [KEY],
  samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'LOADING_MODEL', ms: 60 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'CREATED', ms: 40 }, { status: 'DEPLOYING', ms: 80 }, { status: 'RUNNING' }],
};
const FOREVER = (status: string): TimelineStep[] => [{ status }];

const test = stepTest(FAST);

function inputs(emulator: Emulator, extra: Record<string, string | number | boolean> = {}) {
  return {
    api_key: KEY,
    api_base_url: emulator.url,
    base_model: MODEL,
    preflight: false,
    poll_interval_seconds: 0.1,
    wait_timeout_seconds: 60,
    ...extra,
  };
}

const requests = requestsTo;

const deactivations = (emulator: Emulator, runId: string): RecordedRequest[] => requests(emulator, 'POST', `/v1/loops/runs/${runId}/deactivate`);

const commands = annotations;

function runId(result: StepResult): string {
  const id = result.outputs.run_id;
  expect(id, 'run_id output').toMatch(/^[a-z0-9]+$/);
  return id as string;
}

function summaryRows(summary: string): Record<string, string> {
  const rows: Record<string, string> = {};
  for (const m of summary.matchAll(/<tr><th align="left">(.*?)<\/th><td>(.*?)<\/td><\/tr>/g)) {
    rows[m[1] as string] = m[2] as string;
  }
  return rows;
}

describe.concurrent('waiting, end to end', () => {
  test('wait_for=none: launched, outputs set, no polling', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { wait_for: 'none' }) });
    expect(result.code).toBe(0);
    const id = runId(result);
    expect(result.outputs.status).toBe('launched');
    expect(result.outputs.sampler_status).toBe('DEPLOYING');
    expect(result.outputs.trainer_status).toBe('');
    expect(result.outputs.sampler_base_url).toBe(`${emulator.url}/sampler/${emulator.runs()[0]?.sampler?.model_id ?? ''}`);
    expect(requests(emulator, 'GET', `/v1/loops/runs/${id}`)).toHaveLength(0);
    expect(requests(emulator, 'GET', /^\/v1\/loops\/deployments\//)).toHaveLength(0);
    expect(result.stdout).not.toContain('Waiting up to');
    expect(result.state.run_id).toBe(id);
  });

  test('wait_for=sampler: polls the run until the sampler is ACTIVE; no deployment polling', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(0);
    const id = runId(result);
    expect(result.outputs.status).toBe('ready');
    expect(result.outputs.sampler_status).toBe('ACTIVE');
    expect(result.outputs.trainer_status).toBe('');
    expect(requests(emulator, 'GET', `/v1/loops/runs/${id}`).length).toBeGreaterThanOrEqual(1);
    expect(requests(emulator, 'GET', /^\/v1\/loops\/deployments\//)).toHaveLength(0);
    expect(result.stdout).toContain('Waiting up to 60s for the sampler to be ACTIVE');
    expect(result.stdout).toMatch(new RegExp(`Run ${id} is ready after \\d+s`));
    expect(deactivations(emulator, id)).toHaveLength(0);
  });

  test('wait_for=trainer: polls GET /v1/loops/deployments/{id} until RUNNING', async ({ loops, step }) => {
    // The sampler never becomes ACTIVE: only the trainer counts.
    const emulator = await loops({ samplerTimeline: FOREVER('DEPLOYING') });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'trainer' }) });
    expect(result.code).toBe(0);
    const id = runId(result);
    const deploymentId = result.outputs.deployment_id;
    expect(deploymentId).toBe(emulator.runs()[0]?.deployment_id);
    expect(result.outputs).toMatchObject({ status: 'ready', trainer_status: 'RUNNING', sampler_status: 'DEPLOYING' });
    const polls = requests(emulator, 'GET', `/v1/loops/deployments/${deploymentId}`);
    expect(polls.length).toBeGreaterThanOrEqual(1);
    expect(requests(emulator, 'GET', `/v1/loops/runs/${id}`).length).toBe(polls.length);
    expect(result.stdout).toContain('for the trainer to be RUNNING');
    expect(result.stdout).toMatch(new RegExp(`Run ${id}: trainer (\\w+ → )?RUNNING`));
  });

  test.for([
    ['the trainer', 40, 800],
    ['the sampler', 800, 40],
  ] as const)('wait_for=all: ready only once both are, here %s last', async ([what, samplerMs, trainerMs], { loops, step }) => {
    const emulator = await loops({
      samplerTimeline: [{ status: 'DEPLOYING', ms: samplerMs }, { status: 'ACTIVE' }],
      trainerTimeline: [{ status: 'DEPLOYING', ms: trainerMs }, { status: 'RUNNING' }],
    });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'all' }) });
    expect(result.code).toBe(0);
    const id = runId(result);
    expect(result.outputs).toMatchObject({ status: 'ready', trainer_status: 'RUNNING', sampler_status: 'ACTIVE' });
    const deploymentPolls = requests(emulator, 'GET', `/v1/loops/deployments/${result.outputs.deployment_id}`);
    const runPolls = requests(emulator, 'GET', `/v1/loops/runs/${id}`);
    expect(deploymentPolls.length).toBeGreaterThanOrEqual(1);
    expect(runPolls.length).toBe(deploymentPolls.length);
    // It kept polling until the later of the two was ready: the last poll of the later one came after that.
    const createdAt = Date.parse(result.outputs.created_at ?? '');
    const later = what === 'the trainer' ? deploymentPolls : runPolls;
    expect(later.at(-1)?.at ?? 0).toBeGreaterThanOrEqual(createdAt + 800);
    expect(result.stdout).toContain('the sampler to be ACTIVE and the trainer RUNNING');
  });

  test('wait_for=all: a trainer that never runs times out even with the sampler ACTIVE', async ({ loops, step }) => {
    const emulator = await loops({
      samplerTimeline: FOREVER('ACTIVE'),
      trainerTimeline: FOREVER('DEPLOYING'),
    });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'all', wait_timeout_seconds: 1 }) });
    expect(result.code).toBe(1);
    expect(result.outputs).toMatchObject({ status: 'timed_out', sampler_status: 'ACTIVE', trainer_status: 'DEPLOYING' });
    expect(commands(result.stdout, 'error')).toContain('last statuses: sampler ACTIVE, trainer DEPLOYING');
  });

  test('run outputs are written right after creation, before the wait ends (step killed mid-wait)', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: FOREVER('DEPLOYING') });
    let child: ChildProcess | undefined;
    let seen = '';
    const result = await step({
      inputs: inputs(emulator),
      onSpawn: (c) => (child = c),
      onStdout: (text) => {
        seen += text;
        // SIGKILL: no handler runs, so only what was written before the wait is there.
        if (seen.includes('Waiting up to') && !child?.killed) child?.kill('SIGKILL');
      },
    });
    expect(result.signal).toBe('SIGKILL');
    const run = emulator.runs()[0];
    expect(result.outputs).toMatchObject({
      run_id: run?.id,
      run_name: run?.name,
      sampler_base_url: run?.sampler?.base_url,
      sampler_id: run?.sampler?.id,
      run_base_url: run?.base_url,
      deployment_id: run?.deployment_id,
      session_id: run?.session_id,
      session_created: 'true',
      base_model: MODEL,
      created_at: run?.created_at,
    });
    expect(JSON.parse(result.outputs.run_json ?? '{}')).toMatchObject({ id: run?.id });
    expect(result.outputs.status).toBeUndefined();
  });

  test('a failed wait still leaves run_id and the other run outputs, with status=failed', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'DEPLOY_FAILED' }] });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(1);
    const id = runId(result);
    expect(id).toBe(emulator.runs()[0]?.id);
    expect(result.outputs).toMatchObject({ status: 'failed', sampler_status: 'DEPLOY_FAILED' });
    expect(result.outputs.sampler_base_url).toBeTruthy();
    expect(result.outputs.session_id).toBeTruthy();
    // run_json: the last run object seen, its sampler status matching sampler_status.
    const json = JSON.parse(result.outputs.run_json ?? '{}') as { id: string; sampler: { status: { name: string } } };
    expect(json.id).toBe(id);
    expect(json.sampler.status?.name).toBe('DEPLOY_FAILED');
  });

  test('logs only status changes, however many polls', async ({ loops, step }) => {
    const emulator = await loops({
      samplerTimeline: [{ status: 'DEPLOYING', ms: 500 }, { status: 'LOADING_MODEL', ms: 500 }, { status: 'ACTIVE' }],
    });
    const result = await step({ inputs: inputs(emulator, { poll_interval_seconds: 0.1 }) });
    expect(result.code).toBe(0);
    const id = runId(result);
    const polls = requests(emulator, 'GET', `/v1/loops/runs/${id}`).length;
    const lines = result.stdout.split('\n');
    const sampler = lines.filter((l) => l.startsWith(`Run ${id}: sampler `));
    const run = lines.filter((l) => l.startsWith(`Run ${id}: run `));
    expect(polls).toBeGreaterThanOrEqual(5);
    expect(sampler.length).toBeLessThan(polls);
    expect(sampler.filter((l) => /: sampler DEPLOYING \(/.test(l))).toHaveLength(1);
    expect(sampler.filter((l) => l.includes('→ LOADING_MODEL')).length).toBeLessThanOrEqual(1);
    expect(sampler.filter((l) => l.includes('→ ACTIVE'))).toHaveLength(1);
    expect(sampler.length).toBeLessThanOrEqual(3);
    // Each line is a change: its new status differs from the previous line's.
    const statuses = sampler.map((l) => /(\w+) \(\d+(\.\d)?s\)$/.exec(l)?.[1]);
    expect(new Set(statuses).size).toBe(statuses.length);
    expect(run).toHaveLength(1); // the run stays ACTIVE throughout
  });

  test.for(['DEPLOY_FAILED', 'BUILD_FAILED', 'BUILD_STOPPED', 'FAILED', 'DEACTIVATING', 'INACTIVE'])(
    'sampler %s fails fast with status=failed and deactivates the run',
    async (status, { loops, step }) => {
      const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status }] });
      const result = await step({ inputs: inputs(emulator, { wait_timeout_seconds: 600 }) });
      expect(result.code).toBe(1);
      const id = runId(result);
      expect(result.outputs).toMatchObject({ status: 'failed', sampler_status: status });
      expect(deactivations(emulator, id)).toHaveLength(1);
      const error = commands(result.stdout, 'error');
      expect(error).toContain(`Run ${id} failed: the sampler is ${status}`);
      expect(error).toContain('The run was deactivated');
      expect(result.state.stopped).toBe('true');
      expect(result.durationMs).toBeLessThan(15_000);
    },
  );

  test.for(['FAILED', 'STOPPED', 'PREEMPTED'])(
    'trainer %s fails fast with status=failed and deactivates the run',
    async (status, { loops, step }) => {
      const emulator = await loops({ trainerTimeline: [{ status: 'CREATED', ms: 60 }, { status }] });
      const result = await step({ inputs: inputs(emulator, { wait_for: 'trainer', wait_timeout_seconds: 600 }) });
      expect(result.code).toBe(1);
      const id = runId(result);
      expect(result.outputs).toMatchObject({ status: 'failed', trainer_status: status });
      expect(deactivations(emulator, id)).toHaveLength(1);
      expect(commands(result.stdout, 'error')).toContain(`Run ${id} failed: the trainer is ${status}`);
      expect(result.durationMs).toBeLessThan(15_000);
    },
  );

  test('with deactivate_on_failure=false a failed sampler is left running, with a warning', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'BUILD_FAILED' }] });
    const result = await step({ inputs: inputs(emulator, { deactivate_on_failure: false }) });
    expect(result.code).toBe(1);
    const id = runId(result);
    expect(result.outputs.status).toBe('failed');
    expect(requests(emulator, 'POST', /\/deactivate$/)).toHaveLength(0);
    expect(commands(result.stdout, 'warning')).toContain(`Run ${id} is still running (deactivate_on_failure is false)`);
    expect(commands(result.stdout, 'error')).toContain('left running');
    expect(result.state.stopped).toBeUndefined();
  });

  test('with deactivate_on_failure=false a failed trainer is left running', async ({ loops, step }) => {
    const emulator = await loops({ trainerTimeline: [{ status: 'CREATED', ms: 60 }, { status: 'PREEMPTED' }] });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'all', deactivate_on_failure: false }) });
    expect(result.code).toBe(1);
    expect(result.outputs).toMatchObject({ status: 'failed', trainer_status: 'PREEMPTED' });
    expect(requests(emulator, 'POST', /\/deactivate$/)).toHaveLength(0);
  });

  test.for(['UNHEALTHY', 'SCALED_TO_ZERO', 'WAKING_UP'])('keeps waiting through %s, then succeeds', async (status, { loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status, ms: 500 }, { status: 'ACTIVE' }] });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(0);
    const id = runId(result);
    expect(result.outputs).toMatchObject({ status: 'ready', sampler_status: 'ACTIVE' });
    expect(result.stdout).toContain(`Run ${id}: sampler ${status} (`);
    // A sampler that scaled to zero is woken (one request to its /v1/models) and comes back through WAKING_UP.
    expect(result.stdout).toMatch(new RegExp(`Run ${id}: sampler (${status}|WAKING_UP) → ACTIVE`));
    // Several polls saw the status and kept going.
    expect(requests(emulator, 'GET', `/v1/loops/runs/${id}`).length).toBeGreaterThanOrEqual(2);
    expect(deactivations(emulator, id)).toHaveLength(0);
  });

  test('keeps waiting through SCALED_TO_ZERO → WAKING_UP → ACTIVE', async ({ loops, step }) => {
    const emulator = await loops({
      samplerTimeline: [{ status: 'SCALED_TO_ZERO', ms: 300 }, { status: 'WAKING_UP', ms: 300 }, { status: 'ACTIVE' }],
    });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'ready', sampler_status: 'ACTIVE' });
    expect(result.stdout).toMatch(/sampler (WAKING_UP|SCALED_TO_ZERO) → ACTIVE/);
  });

  test('wait_timeout_seconds: timed_out, the message names the run, its statuses and the wait; deactivated', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: FOREVER('LOADING_MODEL') });
    const result = await step({ inputs: inputs(emulator, { wait_timeout_seconds: 1, poll_interval_seconds: 0.2 }) });
    expect(result.code).toBe(1);
    const id = runId(result);
    expect(result.outputs).toMatchObject({ status: 'timed_out', sampler_status: 'LOADING_MODEL' });
    const error = commands(result.stdout, 'error');
    expect(error).toContain(`Run ${id} timed out`);
    expect(error).toContain(`run ${id} was not ready after 1s (wait_timeout_seconds)`);
    expect(error).toContain('last statuses: sampler LOADING_MODEL');
    expect(error).toContain('The run was deactivated');
    expect(deactivations(emulator, id)).toHaveLength(1);
    // It waited the whole second before giving up.
    const polls = requests(emulator, 'GET', `/v1/loops/runs/${id}`);
    expect((polls.at(-1)?.at ?? 0) - Date.parse(result.outputs.created_at ?? '')).toBeGreaterThanOrEqual(900);
  });

  test('wait_timeout_seconds with deactivate_on_failure=false leaves the run', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: FOREVER('DEPLOYING') });
    const result = await step({
      inputs: inputs(emulator, { wait_timeout_seconds: 1, poll_interval_seconds: 0.2, deactivate_on_failure: false }),
    });
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('timed_out');
    expect(requests(emulator, 'POST', /\/deactivate$/)).toHaveLength(0);
  });

  test.for(['SIGTERM', 'SIGINT'] as const)(
    'cancellation by %s while waiting: status=cancelled, run deactivated, prompt non-zero exit',
    async (signal, { loops, step }) => {
      const emulator = await loops({ samplerTimeline: FOREVER('DEPLOYING') });
      let child: ChildProcess | undefined;
      let seen = '';
      let sentAt = 0;
      const result = await step({
        inputs: inputs(emulator, { wait_timeout_seconds: 600, poll_interval_seconds: 0.2 }),
        onSpawn: (c) => (child = c),
        onStdout: (text) => {
          seen += text;
          if (!sentAt && seen.includes('Waiting up to')) {
            sentAt = performance.now();
            child?.kill(signal);
          }
        },
      });
      const exitedAfter = performance.now() - sentAt;
      expect(sentAt).toBeGreaterThan(0);
      expect(result.signal).toBeNull();
      expect(result.code).not.toBe(0);
      const id = runId(result);
      expect(result.outputs.status).toBe('cancelled');
      expect(deactivations(emulator, id)).toHaveLength(1);
      expect(result.stdout).toContain(`Received ${signal}: stopping`);
      expect(commands(result.stdout, 'error')).toContain(`Run ${id} was cancelled`);
      expect(exitedAfter).toBeLessThan(5_000);
    },
  );

  test('cancellation with deactivate_on_failure=false: cancelled, run left', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: FOREVER('DEPLOYING') });
    let child: ChildProcess | undefined;
    let seen = '';
    const result = await step({
      inputs: inputs(emulator, { deactivate_on_failure: false, poll_interval_seconds: 0.2 }),
      onSpawn: (c) => (child = c),
      onStdout: (text) => {
        seen += text;
        if (seen.includes('Waiting up to') && child?.signalCode === null && !child.killed) child.kill('SIGTERM');
      },
    });
    expect(result.code).not.toBe(0);
    expect(result.outputs.status).toBe('cancelled');
    expect(requests(emulator, 'POST', /\/deactivate$/)).toHaveLength(0);
  });

  test('post step deactivates the run when deactivate_at_job_end=true', async ({ loops, step }) => {
    const emulator = await loops();
    const withInputs = inputs(emulator, { deactivate_at_job_end: true });
    const main = await step({ inputs: withInputs });
    expect(main.code).toBe(0);
    const id = runId(main);
    expect(deactivations(emulator, id)).toHaveLength(0);
    expect(main.state).toMatchObject({ run_id: id });
    const post = await runPostStep(main, { inputs: withInputs, timeoutMs: 20_000 });
    expect(post.code).toBe(0);
    expect(deactivations(emulator, id)).toHaveLength(1);
    expect(deactivations(emulator, id)[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(post.stdout).toContain(`Deactivated run ${id} at the end of the job`);
    expect(emulator.runs()[0]?.status.name).toBe('INACTIVE');
  });

  test('post step does nothing when deactivate_at_job_end=false', async ({ loops, step }) => {
    const emulator = await loops();
    const withInputs = inputs(emulator);
    const main = await step({ inputs: withInputs });
    expect(main.code).toBe(0);
    const before = emulator.requests.length;
    const post = await runPostStep(main, { inputs: withInputs, timeoutMs: 20_000 });
    expect(post.code).toBe(0);
    expect(emulator.requests.length).toBe(before);
    expect(emulator.runs()[0]?.status.name).toBe('ACTIVE');
  });

  test('post step does not deactivate again when the main step already did', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: FOREVER('DEPLOYING') });
    const withInputs = inputs(emulator, { deactivate_at_job_end: true, wait_timeout_seconds: 1, poll_interval_seconds: 0.2 });
    const main = await step({ inputs: withInputs });
    expect(main.outputs.status).toBe('timed_out');
    const id = runId(main);
    expect(deactivations(emulator, id)).toHaveLength(1);
    expect(main.state.stopped).toBe('true');
    const before = emulator.requests.length;
    const post = await runPostStep(main, { inputs: withInputs, timeoutMs: 20_000 });
    expect(post.code).toBe(0);
    expect(emulator.requests.length).toBe(before);
    expect(post.stdout).toContain(`Run ${id} was already deactivated`);
  });

  test('post step deactivates a run that failed and was left by deactivate_on_failure=false', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'FAILED' }] });
    const withInputs = inputs(emulator, { deactivate_on_failure: false, deactivate_at_job_end: true });
    const main = await step({ inputs: withInputs });
    expect(main.outputs.status).toBe('failed');
    const id = runId(main);
    expect(deactivations(emulator, id)).toHaveLength(0);
    const post = await runPostStep(main, { inputs: withInputs, timeoutMs: 20_000 });
    expect(post.code).toBe(0);
    expect(deactivations(emulator, id)).toHaveLength(1);
  });

  test('post step does nothing when no run was created', async ({ loops, step }) => {
    const emulator = await loops();
    const withInputs = inputs(emulator, { session_id: 'missing00session', deactivate_at_job_end: true });
    const main = await step({ inputs: withInputs });
    expect(main.code).toBe(1);
    expect(main.state.run_id).toBeUndefined();
    const before = emulator.requests.length;
    const post = await runPostStep(main, { inputs: withInputs, timeoutMs: 20_000 });
    expect(post.code).toBe(0);
    expect(emulator.requests.length).toBe(before);
  });

  test('run_json holds the last run object seen, matching sampler_status', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(0);
    const json = JSON.parse(result.outputs.run_json ?? '') as {
      id: string;
      session_id: string;
      base_url: string;
      sampler: { id: string; base_url: string; status: { name: string } };
    };
    expect(json.id).toBe(result.outputs.run_id);
    expect(json.session_id).toBe(result.outputs.session_id);
    expect(json.base_url).toBe(result.outputs.run_base_url);
    expect(json.sampler.id).toBe(result.outputs.sampler_id);
    expect(json.sampler.base_url).toBe(result.outputs.sampler_base_url);
    expect(json.sampler.status?.name).toBe('ACTIVE');
    expect(json.sampler.status?.name).toBe(result.outputs.sampler_status);
  });

  test('job summary: a table with every detail of a ready run', async ({ loops, step }) => {
    const emulator = await loops();
    const checkpoint = 'bt://loops:oldrun7/weights/step-42';
    const result = await step({
      inputs: inputs(emulator, {
        run_name: 'summary-run',
        lora_rank: 16,
        max_seq_len: 8192,
        seed: 99,
        checkpoint_path: checkpoint,
      }),
    });
    expect(result.code).toBe(0);
    const rows = summaryRows(result.summary);
    expect(Object.keys(rows)).toEqual([
      'Run',
      'Session',
      'Base model',
      'LoRA rank',
      'Sequence length',
      'Seed',
      'Checkpoint',
      'Sampler URL',
      'OpenAI base URL',
      'Sampler model',
      'Status',
      'Mode',
      'Time to ready',
    ]);
    expect(rows).toMatchObject({
      Run: `${result.outputs.run_id} (summary-run)`,
      Session: `${result.outputs.session_id} (new)`,
      'Base model': MODEL,
      'LoRA rank': '16',
      'Sequence length': '8192',
      Seed: '99',
      Checkpoint: checkpoint,
      'Sampler URL': result.outputs.sampler_base_url,
      'OpenAI base URL': `${result.outputs.sampler_base_url}/v1`,
      'Sampler model': MODEL,
      Status: 'ready (sampler ACTIVE)',
      Mode: 'dedicated (billed for GPU time while the trainer and sampler are up, idle included, until the run is stopped)',
    });
    expect(rows['Time to ready']).toMatch(/^\d+(\.\d)?s$/);
  });

  test('job summary: a reused session, defaults and a failure', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'BUILD_FAILED' }] });
    const res = await fetch(`${emulator.url}/v1/loops/sessions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    const sessionId = ((await res.json()) as { session: { id: string } }).session.id;
    const result = await step({ inputs: inputs(emulator, { session_id: sessionId }) });
    expect(result.code).toBe(1);
    const rows = summaryRows(result.summary);
    expect(rows).toMatchObject({
      Session: `${sessionId} (reused)`,
      'LoRA rank': '64',
      'Sequence length': 'model maximum',
      Seed: '—',
      Checkpoint: '—',
      Status: 'failed (sampler BUILD_FAILED)',
      'Time to ready': '—',
    });
    expect(rows.Run).toBe(`${result.outputs.run_id} (${result.outputs.run_name})`);
    expect(result.summary).toContain('failed: the sampler is BUILD_FAILED');
  });
});
