// The key never appears anywhere a step writes: stdout/stderr (step debug on), the output,
// state and summary files. runStep scans every run with findLeaks and throws on a leak; the
// server-echo cases run the bundle through `runUnscanned` instead, so that a failure quotes the
// leaking lines rather than only saying that there was one.

import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type Emulator, type EmulatorOptions, type FaultSpec, startEmulator } from '../emulator/server.js';
import {
  BUNDLE,
  entries,
  ROOT,
  type StepResult,
  StepWorkspace,
  findLeaks,
  inputEnv,
  runPostStep,
  runStep,
  secretsOf,
} from '../support/runner.js';
import { annotations } from '../support/e2e.js';

vi.setConfig({ maxConcurrency: 8 });

const KEY = 'sk-secret-4e1f9a7c2b8d0e3f6a5c';
const MODEL = 'Qwen/Qwen3-8B';
const DEBUG = { RUNNER_DEBUG: '1', ACTIONS_STEP_DEBUG: 'true' };
const FAST: EmulatorOptions = { samplerTimeline: [{ status: 'DEPLOYING', ms: 200 }, { status: 'ACTIVE' }] };
/** A server error whose body repeats the request's Authorization header. */
const ECHO = { detail: `upstream rejected the request; headers were {"authorization": "Bearer ${KEY}"}` };

const emulators = new Set<Emulator>();
afterAll(async () => {
  await Promise.all([...emulators].map((e) => e.close()));
});

async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ apiKeys: [KEY], ...FAST, ...options });
  emulators.add(emu);
  return emu;
}

function inputs(emu: Emulator, extra: Record<string, string | number | boolean> = {}): Record<string, string | number | boolean> {
  return {
    api_key: KEY,
    api_base_url: emu.url,
    base_model: MODEL,
    wait_for: 'none',
    max_retries: 1,
    poll_interval_seconds: 0.2,
    wait_timeout_seconds: 60,
    ...extra,
  };
}

const errorText = (stdout: string): string => annotations(stdout);

/** Checks common to every step: masked first thing, the key really was used, and (again, explicitly) no leak. */
function expectClean(step: StepResult, emu?: Emulator): void {
  expect(step.stdout.split('\n')[0]).toBe(`::add-mask::${KEY}`);
  expect(findLeaks(step, [KEY])).toEqual([]);
  expect(step.summary).not.toContain(KEY);
  if (emu && emu.requests.length > 0) expect(emu.requests.some((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
}

/** Like runStep (same workspace, env and inputs) but returns the result instead of throwing on a leak. */
async function runUnscanned(
  stepInputs: Record<string, string | number | boolean>,
  env: Record<string, string> = {},
  entry = BUNDLE,
): Promise<StepResult> {
  const workspace = new StepWorkspace({});
  const fullEnv = { ...workspace.baseEnv(), ...inputEnv(stepInputs), ...DEBUG, ...env };
  const started = performance.now();
  const proc = await new Promise<Pick<StepResult, 'code' | 'signal' | 'stdout' | 'stderr'>>((resolve, reject) => {
    const child = spawn(process.execPath, [entry], { env: fullEnv, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const result = { ...proc, ...workspace.read(), durationMs: performance.now() - started };
  workspace.remove();
  expect(secretsOf(fullEnv)).toContain(KEY);
  return result;
}

/** Every line of a step's logs and files that holds the key (less the ::add-mask:: line). */
function leakingLines(step: StepResult): string[] {
  return [...`${step.stdout}\n${step.stderr}`.split('\n'), ...step.files.split('\n')].filter(
    (l) => l.includes(KEY) && !l.startsWith('::add-mask::'),
  );
}

describe.concurrent('the key never leaks (step debug on)', () => {
  it('success (wait for the sampler), then the post step deactivating at job end', async () => {
    const emu = await emulator();
    const main = await runStep({ inputs: inputs(emu, { wait_for: 'sampler', deactivate_at_job_end: true }), env: DEBUG });
    expect(main.code, main.stdout).toBe(0);
    expect(main.outputs.status).toBe('ready');
    expectClean(main, emu);
    const post = await runPostStep(main, { inputs: inputs(emu, { deactivate_at_job_end: true }), env: DEBUG });
    main.workspace.remove();
    expect(post.code, post.stdout).toBe(0);
    expect(post.stdout).toContain('Deactivated run');
    expectClean(post, emu);
    expect(emu.runs()[0]?.status.name).toBe('INACTIVE');
  });

  it('the key given through the BASETEN_API_KEY environment variable', async () => {
    const emu = await emulator();
    const { api_key: _unused, ...rest } = inputs(emu);
    const main = await runStep({ inputs: rest, env: { ...DEBUG, BASETEN_API_KEY: KEY } });
    main.workspace.remove();
    expect(main.code, main.stdout).toBe(0);
    expectClean(main, emu);
  });

  it('dry run: the planned requests are printed with the key redacted', async () => {
    const emu = await emulator();
    const main = await runStep({ inputs: inputs(emu, { dry_run: true }), env: DEBUG });
    main.workspace.remove();
    expect(main.code, main.stdout).toBe(0);
    expect(main.outputs.status).toBe('dry_run');
    expectClean(main);
    expect(emu.requests).toHaveLength(0);
  });

  it('401: the key is rejected; the error explains it without showing it', async () => {
    const emu = await emulator({ apiKeys: ['some-other-key'] });
    const main = await runStep({ inputs: inputs(emu), env: DEBUG });
    main.workspace.remove();
    expect(main.code).toBe(1);
    expect(errorText(main.stdout)).toContain('HTTP 401 Unauthorized');
    expect(errorText(main.stdout)).toContain('The API key was rejected');
    expectClean(main, emu);
  });

  it('403: the key lacks the scope', async () => {
    const emu = await emulator({ apiKeys: [], forbiddenKeys: [KEY] });
    const main = await runStep({ inputs: inputs(emu), env: DEBUG });
    main.workspace.remove();
    expect(main.code).toBe(1);
    expect(errorText(main.stdout)).toContain('The API key lacks permission');
    expectClean(main, emu);
  });

  it('422 on create run with a pydantic detail list', async () => {
    const emu = await emulator();
    emu.fault({
      method: 'POST',
      path: '/v1/loops/runs',
      kind: 'status',
      status: 422,
      body: { detail: [{ type: 'int_type', loc: ['body', 'lora_rank'], msg: 'Input should be a valid integer', input: 'x' }] },
    });
    const main = await runStep({ inputs: inputs(emu), env: DEBUG });
    main.workspace.remove();
    expect(main.code).toBe(1);
    expect(errorText(main.stdout)).toContain('HTTP 422 Unprocessable Entity: lora_rank: Input should be a valid integer');
    expectClean(main, emu);
  });

  it('timeout: every request hangs past request_timeout_seconds', async () => {
    const emu = await emulator();
    emu.fault({ method: 'POST', path: '/v1/loops/sessions', kind: 'delay', delayMs: 5000, times: Infinity });
    const main = await runStep({ inputs: inputs(emu, { request_timeout_seconds: 0.5, preflight: false }), env: DEBUG });
    main.workspace.remove();
    expect(main.code).toBe(1);
    expect(errorText(main.stdout)).toContain('POST /v1/loops/sessions failed: timeout after 0.5s (gave up after 2 attempts)');
    expectClean(main, emu);
  });
});

interface EchoCase {
  name: string;
  fault: FaultSpec;
  extra?: Record<string, string | number | boolean>;
  emulator?: EmulatorOptions;
  /** Also run the post step with the same fault. */
  post?: boolean;
  /** What the step's error says, with the key redacted. */
  error?: string;
}

const RUN_ID = /^\/v1\/loops\/runs\/[^/]+$/;
const DEACTIVATE = /^\/v1\/loops\/runs\/[^/]+\/deactivate$/;
const ECHO_CASES: EchoCase[] = [
  {
    name: 'create run answers 422 with the header in its detail (step error)',
    fault: { method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 422, body: ECHO },
    error: 'HTTP 422 Unprocessable Entity: upstream rejected the request; headers were {"authorization": "Bearer ***"}',
  },
  {
    name: 'create run answers 500 with the header, every time (step error after retries)',
    fault: { method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 500, body: ECHO, times: Infinity },
    error: '"Bearer ***"} (gave up after 2 attempts)',
  },
  {
    name: 'get session answers 404 with the header (session_id error)',
    fault: { method: 'GET', path: /^\/v1\/loops\/sessions\/[^/]+$/, kind: 'status', status: 404, body: ECHO },
    extra: { session_id: 'abc1234' },
    error: 'session_id: session "abc1234" does not exist',
  },
  {
    name: 'capabilities answer 503 with the header, every time (preflight skipped: the warning)',
    fault: { method: 'GET', path: '/v1/loops/capabilities', kind: 'status', status: 503, body: ECHO, times: Infinity },
  },
  {
    name: 'create session answers a 200 HTML page holding the key (the retry log line)',
    fault: { method: 'POST', path: '/v1/loops/sessions', kind: 'garbage', body: `<html><body>${KEY}</body></html>`, times: 1 },
  },
  {
    name: 'polling the run answers 500 with the header (wait fails; the "Deactivated run" line and the error)',
    fault: { method: 'GET', path: RUN_ID, kind: 'status', status: 500, body: ECHO, times: Infinity },
    extra: { wait_for: 'sampler' },
    error: 'polling failed: GET /v1/loops/runs/',
  },
  {
    name: 'deactivate after a failed wait answers 500 with the header (the "Could not deactivate" error)',
    fault: { method: 'POST', path: DEACTIVATE, kind: 'status', status: 500, body: ECHO, times: Infinity },
    extra: { wait_for: 'sampler' },
    emulator: { samplerTimeline: [{ status: 'DEPLOYING', ms: 200 }, { status: 'DEPLOY_FAILED' }] },
    error: 'the sampler is DEPLOY_FAILED',
  },
  {
    name: 'deactivate at job end (post step) answers 500 with the header',
    fault: { method: 'POST', path: DEACTIVATE, kind: 'status', status: 500, body: ECHO, times: Infinity },
    extra: { deactivate_at_job_end: true },
    post: true,
  },
];

describe.concurrent('a server that echoes the Authorization header back: the action must not print the key', () => {
  for (const c of ECHO_CASES) {
    it(c.name, async () => {
      const emu = await emulator(c.emulator);
      const stepInputs = inputs(emu, c.extra);
      if (!c.post) emu.fault(c.fault);
      const main = await runUnscanned(stepInputs);
      expect(leakingLines(main), 'lines of the main step holding the key').toEqual([]);
      expect(findLeaks(main, [KEY])).toEqual([]);
      if (c.error) expect(errorText(main.stdout)).toContain(c.error);
      if (c.post) {
        expect(main.code, main.stdout).toBe(0);
        emu.fault(c.fault);
        const state = Object.fromEntries(Object.entries(main.state).map(([k, v]) => [`STATE_${k}`, v]));
        const post = await runUnscanned(stepInputs, state, entries().post);
        expect(post.code).toBe(1);
        expect(errorText(post.stdout)).toContain('Could not deactivate run');
        expect(leakingLines(post), 'lines of the post step holding the key').toEqual([]);
        expect(findLeaks(post, [KEY])).toEqual([]);
      }
    });
  }
});

describe('the scanner itself (findLeaks) catches a leak', () => {
  const clean = { stdout: `::add-mask::${KEY}\nCreated run abc\n`, stderr: '', files: 'status<<EOF\nready\nEOF\n' };

  it('a clean result, with the key only in the ::add-mask:: line, has no leak', () => {
    expect(findLeaks(clean, [KEY])).toEqual([]);
  });

  it('the key in a log line (stdout or stderr), in an output file, or both', () => {
    expect(findLeaks({ ...clean, stdout: `${clean.stdout}::error::Bearer ${KEY}\n` }, [KEY])).toEqual(['log contains a secret']);
    expect(findLeaks({ ...clean, stderr: `trace: authorization=${KEY}` }, [KEY])).toEqual(['log contains a secret']);
    expect(findLeaks({ ...clean, files: `run_json<<EOF\n{"key":"${KEY}"}\nEOF\n` }, [KEY])).toEqual(['files contains a secret']);
    expect(findLeaks({ ...clean, stdout: `x ${KEY}`, files: KEY }, [KEY])).toEqual(['log contains a secret', 'files contains a secret']);
  });

  it('the key on a debug line, and the secrets runStep scans for include the key given by input or env', () => {
    expect(findLeaks({ ...clean, stdout: `::debug::request headers ${KEY}` }, [KEY])).toEqual(['log contains a secret']);
    expect(secretsOf({ INPUT_API_KEY: KEY })).toEqual([KEY]);
    expect(secretsOf({ BASETEN_API_KEY: KEY })).toEqual([KEY]);
  });
});
