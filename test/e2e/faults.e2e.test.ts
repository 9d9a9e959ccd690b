// The fault matrix: every route the action calls × every kind of fault, each cell running the
// committed bundle against its own emulator. The test names are the table of outcomes.
//
// Fault kinds: "after" means the server did the work (state changed) and then the answer was
// lost or spoiled; otherwise the server refused before doing anything.

import { afterAll, describe, expect, it, vi } from 'vitest';
import { type Emulator, type EmulatorOptions, type FaultSpec, type RecordedRequest, startEmulator } from '../emulator/server.js';
import { type StepResult, runPostStep, runStep } from '../support/runner.js';
import { annotations } from '../support/e2e.js';

// Cells mostly wait (backoff, timeouts): run many at once.
vi.setConfig({ maxConcurrency: 12, testTimeout: 120_000 });

const KEY = 'sk-faults-7d2c9e41b0a85f36d1e4c7a9';
const MODEL = 'Qwen/Qwen3-8B';
const CKPT = 'bt://loops:abc1234/weights/step-100';
const EMULATOR: EmulatorOptions = {
  apiKeys: [KEY],
  checkpoints: [CKPT],
  samplerTimeline: [{ status: 'DEPLOYING', ms: 300 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'CREATED', ms: 100 }, { status: 'DEPLOYING', ms: 200 }, { status: 'RUNNING' }],
};
const MAX_RETRIES = 2;
const ATTEMPTS = MAX_RETRIES + 1;
const TIMEOUT_S = 0.5;

// ---------------------------------------------------------------------------------------------
// Fault kinds
// ---------------------------------------------------------------------------------------------

interface FaultKind {
  label: string;
  spec: Omit<FaultSpec, 'path' | 'method' | 'times'>;
  /** The reason the retry log line gives. */
  reason: RegExp;
  /** The client cannot know whether the server acted (so a create is reconciled first). */
  ambiguous: boolean;
  /** The server did act before the fault (so reconciling finds the run). */
  acted: boolean;
  /** Minimum delay before the retry, in seconds (Retry-After). */
  retryAfterS?: number;
  timeout?: boolean;
}

const FAULTS: FaultKind[] = [
  {
    label: '500 (after)',
    spec: { kind: 'status', status: 500, when: 'after' },
    reason: /HTTP 500 Internal Server Error/,
    ambiguous: true,
    acted: true,
  },
  { label: '502 HTML page', spec: { kind: 'html', status: 502 }, reason: /HTTP 502 Bad Gateway/, ambiguous: true, acted: false },
  { label: '503', spec: { kind: 'status', status: 503 }, reason: /HTTP 503 Service Unavailable/, ambiguous: true, acted: false },
  {
    label: '429 + Retry-After: 1',
    spec: { kind: 'status', status: 429, body: { detail: 'Rate limit exceeded' }, headers: { 'Retry-After': '1' } },
    reason: /HTTP 429 Too Many Requests/,
    ambiguous: false,
    acted: false,
    retryAfterS: 1,
  },
  {
    label: '429, no Retry-After',
    spec: { kind: 'status', status: 429, body: { detail: 'Rate limit exceeded' } },
    reason: /HTTP 429 Too Many Requests/,
    ambiguous: false,
    acted: false,
  },
  {
    label: `timeout (after; ${TIMEOUT_S}s)`,
    spec: { kind: 'delay', delayMs: 3000, when: 'after' },
    reason: new RegExp(`timeout after ${TIMEOUT_S}s`),
    ambiguous: true,
    acted: true,
    timeout: true,
  },
  { label: 'dropped (after)', spec: { kind: 'drop', when: 'after' }, reason: /network error: /, ambiguous: true, acted: true },
  {
    label: 'truncated 200 (after)',
    spec: { kind: 'garbage', when: 'after' },
    reason: /connection closed before the response body was complete \(HTTP 200\)/,
    ambiguous: true,
    acted: true,
  },
  {
    label: 'non-JSON 200 (after)',
    spec: { kind: 'garbage', when: 'after', body: '<html><body><h1>Welcome to nginx!</h1></body></html>' },
    reason: /unexpected response \(HTTP 200 body is an HTML page: Welcome to nginx!\)/,
    ambiguous: true,
    acted: true,
  },
];

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

interface Cell {
  emu: Emulator;
  main: StepResult & { workspace: { remove(): void } };
  post?: StepResult;
  /** The step whose behaviour the cell is about (the post step for deactivate). */
  step: StepResult;
  inputs: Record<string, string | number | boolean>;
}

interface RouteCase {
  label: string;
  method: string;
  path: string | RegExp;
  operation: string;
  inputs?: Record<string, string | number | boolean>;
  /** Faults installed before the one under test (e.g. to reach the reconcile list). */
  prepare?: (emu: Emulator) => void;
  /** Needs an existing session passed as session_id. */
  session?: boolean;
  /** Reached through the post step (deactivate_at_job_end). */
  post?: boolean;
  /** Status of a successful main step. */
  status: 'launched' | 'ready';
}

const RUN_ID = /^\/v1\/loops\/runs\/[^/]+$/;
const ROUTES: RouteCase[] = [
  { label: 'GET /v1/loops/capabilities', method: 'GET', path: '/v1/loops/capabilities', operation: 'get capabilities', status: 'launched' },
  {
    label: 'GET /v1/loops/checkpoints',
    method: 'GET',
    path: '/v1/loops/checkpoints',
    operation: 'check checkpoint',
    inputs: { checkpoint_path: CKPT },
    status: 'launched',
  },
  { label: 'POST /v1/loops/sessions', method: 'POST', path: '/v1/loops/sessions', operation: 'create session', status: 'launched' },
  {
    label: 'GET /v1/loops/sessions/{id}',
    method: 'GET',
    path: /^\/v1\/loops\/sessions\/[^/]+$/,
    operation: 'get session',
    session: true,
    status: 'launched',
  },
  { label: 'POST /v1/loops/runs', method: 'POST', path: '/v1/loops/runs', operation: 'create run', status: 'launched' },
  {
    label: 'GET /v1/loops/runs (reconcile)',
    method: 'GET',
    path: '/v1/loops/runs',
    operation: 'list runs',
    prepare: (emu) => emu.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 500, when: 'after' }),
    status: 'launched',
  },
  {
    label: 'GET /v1/loops/runs/{id} (wait sampler)',
    method: 'GET',
    path: RUN_ID,
    operation: 'get run',
    inputs: { wait_for: 'sampler' },
    status: 'ready',
  },
  {
    label: 'GET /v1/loops/deployments/{id} (trainer)',
    method: 'GET',
    path: /^\/v1\/loops\/deployments\/[^/]+$/,
    operation: 'get deployment',
    inputs: { wait_for: 'trainer' },
    status: 'ready',
  },
  {
    label: 'POST /v1/loops/runs/{id}/deactivate (post)',
    method: 'POST',
    path: /^\/v1\/loops\/runs\/[^/]+\/deactivate$/,
    operation: 'deactivate run',
    inputs: { deactivate_at_job_end: true },
    post: true,
    status: 'launched',
  },
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const emulators = new Set<Emulator>();
afterAll(async () => {
  await Promise.all([...emulators].map((e) => e.close()));
});

/**
 * Every cell launches on a push with adopt_on_rerun off: the look for a run of this leg and commit
 * before the create (and after it) is the lifecycle tests' concern, and a fault on the runs list
 * here must reach the create's reconciliation.
 */
function baseInputs(emu: Emulator, extra: Record<string, string | number | boolean> = {}): Record<string, string | number | boolean> {
  return {
    adopt_on_rerun: false,
    api_key: KEY,
    api_base_url: emu.url,
    base_model: MODEL,
    wait_for: 'none',
    poll_interval_seconds: 0.2,
    wait_timeout_seconds: 60,
    max_retries: MAX_RETRIES,
    request_timeout_seconds: 10,
    ...extra,
  };
}

async function newEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ ...EMULATOR, ...options });
  emulators.add(emu);
  return emu;
}

async function release(emu: Emulator): Promise<void> {
  emulators.delete(emu);
  await emu.close();
}

async function createSession(emu: Emulator): Promise<string> {
  const res = await fetch(`${emu.url}/v1/loops/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: '{}',
  });
  return ((await res.json()) as { session: { id: string } }).session.id;
}

function lines(result: Pick<StepResult, 'stdout'>): string[] {
  return result.stdout.split('\n').map((l) => l.trimEnd());
}

const errorText = (result: Pick<StepResult, 'stdout'>): string => annotations(result.stdout);

function warnings(result: Pick<StepResult, 'stdout'>): string[] {
  return lines(result)
    .filter((l) => l.startsWith('::warning::'))
    .map((l) => l.slice('::warning::'.length));
}

function retryLines(result: Pick<StepResult, 'stdout'>, operation: string): string[] {
  return lines(result).filter((l) => l.startsWith(`${operation}: attempt `));
}

function matching(emu: Emulator, method: string, path: string | RegExp): RecordedRequest[] {
  return emu.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
}

function describeStep(step: Pick<StepResult, 'code' | 'stdout' | 'stderr'>): string {
  return `exit ${step.code}\n--- stdout\n${step.stdout}\n--- stderr\n${step.stderr}`;
}

/** Runs one cell: an emulator with `fault` on the route, the main step, and the post step when the route needs it. */
async function runCell(route: RouteCase, fault: Omit<FaultSpec, 'path' | 'method'>, timeout: boolean): Promise<Cell> {
  const emu = await newEmulator();
  const extra: Record<string, string | number | boolean> = { ...route.inputs };
  if (route.session) extra.session_id = await createSession(emu);
  if (timeout) extra.request_timeout_seconds = TIMEOUT_S;
  const inputs = baseInputs(emu, extra);
  const install = (): void => {
    route.prepare?.(emu);
    emu.fault({ ...fault, method: route.method, path: route.path });
  };
  if (!route.post) install();
  const main = await runStep({ inputs });
  let post: StepResult | undefined;
  if (route.post) {
    install();
    post = await runPostStep(main, { inputs });
  }
  main.workspace.remove();
  return { emu, main, post, step: post ?? main, inputs };
}

/** The common promise of a successful cell: exit 0, the expected status, exactly one run, and the outputs name it. */
function expectOneRunNamed(cell: Cell, route: RouteCase): void {
  const { emu, main } = cell;
  expect(main.code, describeStep(main)).toBe(0);
  expect(main.outputs.status).toBe(route.status);
  const runs = emu.runs();
  expect(runs, describeStep(main)).toHaveLength(1);
  expect(main.outputs.run_id).toBe(runs[0]?.id);
  expect(main.outputs.run_name).toBe(runs[0]?.name);
  expect(main.outputs.session_id).toBe(runs[0]?.session_id);
}

function expectRetryLine(step: StepResult, operation: string, kind: FaultKind): void {
  const retries = retryLines(step, operation);
  expect(retries.length, describeStep(step)).toBeGreaterThanOrEqual(1);
  const first = retries[0] as string;
  expect(first).toMatch(new RegExp(`^${operation}: attempt 1 of ${ATTEMPTS} failed \\(`));
  expect(first).toMatch(kind.reason);
  // An ambiguous create is checked for (after the backoff) before it is retried.
  const delay = /; (?:retrying|checking) in (\d+(?:\.\d)?)s(?: whether it took effect before retrying)?$/.exec(first);
  expect(delay, first).not.toBeNull();
  if (kind.retryAfterS !== undefined) expect(Number(delay?.[1])).toBeGreaterThanOrEqual(kind.retryAfterS);
  else expect(Number(delay?.[1])).toBeLessThanOrEqual(1);
}

/** With Retry-After, the retry really waited that long: the gap between the two requests on the route. */
function expectRetryAfterHonoured(emu: Emulator, route: RouteCase, kind: FaultKind): void {
  if (kind.retryAfterS === undefined) return;
  const hits = matching(emu, route.method, route.path);
  expect(hits.length).toBeGreaterThanOrEqual(2);
  const gap = (hits[1]?.at ?? 0) - (hits[0]?.at ?? 0);
  expect(gap).toBeGreaterThanOrEqual(kind.retryAfterS * 1000 - 50);
}

// What a create-run cell is expected to do after the fault.
function createRunOutcome(kind: FaultKind): string {
  if (!kind.ambiguous) return 'retried without listing (not ambiguous) → 1 run';
  if (kind.acted) return 'listed runs, adopted the run, not re-sent → 1 run';
  return 'listed runs (none), re-sent → 1 run';
}

function outcome(route: RouteCase, kind: FaultKind): string {
  if (route.operation === 'create run') return createRunOutcome(kind);
  return `retried (attempt 1 of ${ATTEMPTS} logged) → ${route.post ? 'deactivated' : route.status}, 1 run`;
}

function cellName(route: RouteCase, kind: FaultKind): string {
  return `${route.label.padEnd(44)} │ ${kind.label.padEnd(22)} │ ${outcome(route, kind)}`;
}

// ---------------------------------------------------------------------------------------------
// The matrix: one fault, then recovery
// ---------------------------------------------------------------------------------------------

const MATRIX = ROUTES.flatMap((route) => FAULTS.map((kind) => ({ route, kind, name: cellName(route, kind) })));

async function matrixCell(route: RouteCase, kind: FaultKind): Promise<void> {
  const cell = await runCell(route, kind.spec, kind.timeout === true);
  const { emu, main, step } = cell;
  try {
    expectOneRunNamed(cell, route);
    expect(errorText(main)).toBe('');
    expect(warnings(main)).toEqual([]);

    if (route.operation === 'create run') {
      const run = emu.runs()[0];
      const posts = matching(emu, 'POST', '/v1/loops/runs');
      const lists = matching(emu, 'GET', '/v1/loops/runs');
      const out = lines(main);
      const checking = out.filter((l) => l.startsWith('create run: ') && l.includes('the run may have been created'));
      if (!kind.ambiguous) {
        expect(checking).toEqual([]);
        expect(lists).toHaveLength(0);
        expect(posts).toHaveLength(2);
        expectRetryLine(main, 'create run', kind);
      } else {
        expect(checking.length, describeStep(main)).toBeGreaterThanOrEqual(1);
        expect(checking[0]).toMatch(kind.reason);
        expect(checking[0]).toContain(`checking for run "${main.outputs.run_name}" before re-sending`);
        expect(lists.length).toBeGreaterThanOrEqual(1);
        expect(lists[0]?.query.base_model).toBe(MODEL);
        if (kind.acted) {
          expect(posts, describeStep(main)).toHaveLength(1);
          expect(out).toContain(`create run: the earlier request did create run ${run?.id}; adopting it instead of creating another`);
          expect(out.some((l) => l.startsWith(`Adopted run ${run?.id} `))).toBe(true);
          // The backoff is waited out before the check, so a slow server has time to record the run.
          const tries = retryLines(main, 'create run');
          expect(tries).toHaveLength(1);
          expect(tries[0]).toMatch(/; checking in \d+(\.\d)?s whether it took effect before retrying$/);
        } else {
          expect(posts, describeStep(main)).toHaveLength(2);
          expect(out.some((l) => l.startsWith(`create run: no run named "${main.outputs.run_name}" exists`))).toBe(true);
          expect(out.some((l) => l.startsWith(`Created run ${run?.id} `))).toBe(true);
          expectRetryLine(main, 'create run', kind);
        }
      }
    } else {
      expectRetryLine(step, route.operation, kind);
      expect(matching(emu, 'POST', '/v1/loops/runs')).toHaveLength(1);
    }
    expectRetryAfterHonoured(emu, route, kind);

    if (route.label.startsWith('GET /v1/loops/runs (reconcile)')) {
      expect(lines(main)).toContain(
        `create run: the earlier request did create run ${emu.runs()[0]?.id}; adopting it instead of creating another`,
      );
    }
    if (route.session) expect(main.outputs.session_created).toBe('false');
    if (route.post) {
      expect(step.code, describeStep(step)).toBe(0);
      expect(lines(step)).toContain(`Deactivated run ${main.outputs.run_id} at the end of the job (deactivate_at_job_end)`);
      expect(emu.runs()[0]?.status.name).toBe('INACTIVE');
    }
  } finally {
    await release(emu);
  }
}

// ---------------------------------------------------------------------------------------------
// Retries run out: the fault persists (times: Infinity)
// ---------------------------------------------------------------------------------------------

interface Persistent {
  route: RouteCase;
  fault: Omit<FaultSpec, 'path' | 'method'>;
  faultLabel: string;
  outcome: string;
  check: (cell: Cell) => void;
}

const routeOf = (operation: string): RouteCase => ROUTES.find((r) => r.operation === operation) as RouteCase;
const P503: Omit<FaultSpec, 'path' | 'method'> = { kind: 'status', status: 503, times: Infinity };
const gaveUp = (method: string, route: string): RegExp =>
  new RegExp(`${method} ${route} failed: HTTP 503 Service Unavailable: Injected fault \\(gave up after ${ATTEMPTS} attempts\\)`);

function expectPreflightSkipped(cell: Cell, what: string, routePath: string): void {
  const { emu, main } = cell;
  expect(main.code, describeStep(main)).toBe(0);
  expect(main.outputs.status).toBe('launched');
  const warned = warnings(main);
  expect(warned, describeStep(main)).toHaveLength(1);
  expect(warned[0]).toContain(`Preflight check of ${what} skipped: GET ${routePath} failed: HTTP 503 Service Unavailable`);
  expect(matching(emu, 'GET', routePath)).toHaveLength(ATTEMPTS);
  expect(emu.runs()).toHaveLength(1);
  expect(main.outputs.run_id).toBe(emu.runs()[0]?.id);
}

function expectFailedBeforeRun(cell: Cell, pattern: RegExp): void {
  const { emu, main } = cell;
  expect(main.code, describeStep(main)).toBe(1);
  expect(main.outputs.status).toBe('error');
  expect(errorText(main)).toMatch(pattern);
  expect(main.outputs.run_id).toBeUndefined();
  expect(emu.runs()).toHaveLength(0);
}

function expectWaitFailedAndDeactivated(cell: Cell, pattern: RegExp): void {
  const { emu, main } = cell;
  expect(main.code, describeStep(main)).toBe(1);
  expect(main.outputs.status).toBe('failed');
  const runs = emu.runs();
  expect(runs).toHaveLength(1);
  expect(main.outputs.run_id).toBe(runs[0]?.id);
  expect(errorText(main)).toMatch(pattern);
  expect(errorText(main)).toContain('The run was deactivated.');
  expect(runs[0]?.status.name).toBe('INACTIVE');
}

const PERSISTENT: Persistent[] = [
  {
    route: routeOf('get capabilities'),
    fault: P503,
    faultLabel: '503 ×∞',
    outcome: 'preflight skipped with a warning → launched, 1 run',
    check: (cell) => expectPreflightSkipped(cell, 'base_model and max_seq_len', '/v1/loops/capabilities'),
  },
  {
    route: routeOf('check checkpoint'),
    fault: P503,
    faultLabel: '503 ×∞',
    outcome: 'preflight skipped with a warning → launched, 1 run',
    check: (cell) => expectPreflightSkipped(cell, 'checkpoint_path', '/v1/loops/checkpoints'),
  },
  {
    route: routeOf('create session'),
    fault: P503,
    faultLabel: '503 ×∞',
    outcome: `fails naming route + reason, ${ATTEMPTS} attempts, 0 runs`,
    check: (cell) => {
      expectFailedBeforeRun(cell, gaveUp('POST', '/v1/loops/sessions'));
      expect(matching(cell.emu, 'POST', '/v1/loops/sessions')).toHaveLength(ATTEMPTS);
    },
  },
  {
    route: routeOf('get session'),
    fault: P503,
    faultLabel: '503 ×∞',
    outcome: `fails naming route + reason, ${ATTEMPTS} attempts, 0 runs`,
    check: (cell) => {
      expectFailedBeforeRun(cell, gaveUp('GET', '/v1/loops/sessions/[a-z0-9]+'));
      expect(matching(cell.emu, 'POST', '/v1/loops/runs')).toHaveLength(0);
    },
  },
  {
    route: routeOf('create run'),
    fault: P503,
    faultLabel: '503 ×∞',
    outcome: `fails naming route + reason; listed before each re-send; 0 runs`,
    check: (cell) => {
      expectFailedBeforeRun(cell, gaveUp('POST', '/v1/loops/runs'));
      expect(matching(cell.emu, 'POST', '/v1/loops/runs')).toHaveLength(ATTEMPTS);
      expect(matching(cell.emu, 'GET', '/v1/loops/runs')).toHaveLength(ATTEMPTS);
    },
  },
  {
    route: routeOf('create run'),
    fault: { kind: 'status', status: 500, when: 'after', times: Infinity },
    faultLabel: '500 (after) ×∞',
    outcome: 'adopts the run the first POST made → launched, 1 run, 1 POST',
    check: (cell) => {
      expectOneRunNamed(cell, routeOf('create run'));
      expect(matching(cell.emu, 'POST', '/v1/loops/runs')).toHaveLength(1);
    },
  },
  {
    route: routeOf('create run'),
    fault: { kind: 'drop', when: 'after', times: Infinity },
    faultLabel: 'dropped (after) ×∞',
    outcome: 'adopts the run the first POST made → launched, 1 run, 1 POST',
    check: (cell) => {
      expectOneRunNamed(cell, routeOf('create run'));
      expect(matching(cell.emu, 'POST', '/v1/loops/runs')).toHaveLength(1);
    },
  },
  {
    route: routeOf('list runs'),
    fault: P503,
    faultLabel: '503 ×∞ (create 500)',
    outcome: 'fails, refuses to re-send blindly, names the run to look for; 1 run, 1 POST',
    check: (cell) => {
      const { emu, main } = cell;
      expect(main.code, describeStep(main)).toBe(1);
      expect(main.outputs.status).toBe('error');
      expect(emu.runs()).toHaveLength(1);
      expect(matching(emu, 'POST', '/v1/loops/runs')).toHaveLength(1);
      const error = errorText(main);
      expect(error).toContain('POST /v1/loops/runs failed: HTTP 500 Internal Server Error');
      expect(error).toContain('the runs could not be listed to check (GET /v1/loops/runs failed: HTTP 503 Service Unavailable');
      expect(error).toContain('so the request was not re-sent, to avoid a duplicate run');
      expect(error).toContain(`Look for a run named "${main.outputs.run_name}" in session ${main.outputs.session_id}`);
    },
  },
  {
    route: routeOf('get run'),
    fault: P503,
    faultLabel: '503 ×∞',
    outcome: 'wait fails naming route + reason → failed, run deactivated',
    check: (cell) =>
      expectWaitFailedAndDeactivated(cell, /polling failed: GET \/v1\/loops\/runs\/[a-z0-9]+ failed: HTTP 503 Service Unavailable/),
  },
  {
    route: routeOf('get deployment'),
    fault: P503,
    faultLabel: '503 ×∞',
    outcome: 'wait fails naming route + reason → failed, run deactivated',
    check: (cell) =>
      expectWaitFailedAndDeactivated(cell, /polling failed: GET \/v1\/loops\/deployments\/[a-z0-9]+ failed: HTTP 503 Service Unavailable/),
  },
  {
    route: routeOf('deactivate run'),
    fault: P503,
    faultLabel: '503 ×∞',
    outcome: 'post step fails naming route + reason, says deactivate by hand',
    check: (cell) => {
      const { emu, main, step } = cell;
      expect(main.code).toBe(0);
      expect(step.code, describeStep(step)).toBe(1);
      const error = errorText(step);
      expect(error).toContain(`Could not deactivate run ${main.outputs.run_id} at job end`);
      expect(error).toMatch(gaveUp('POST', '/v1/loops/runs/[a-z0-9]+/deactivate'));
      expect(error).toContain('Deactivate it by hand');
      expect(matching(emu, 'POST', /\/deactivate$/)).toHaveLength(ATTEMPTS);
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Create run: client errors, Retry-After, deactivation after a failed wait
// ---------------------------------------------------------------------------------------------

function otherAnswers(): void {
  it.concurrent.each([
    { status: 400, detail: 'Bad request: lora_rank too large for this model' },
    { status: 404, detail: 'Session not found' },
    { status: 409, detail: 'A run is already being created in this session' },
    { status: 422, detail: 'name: String should have at most 255 characters' },
  ])('POST /v1/loops/runs │ $status once │ fails at once: no retry, no reconcile, detail shown, 0 runs', async ({ status, detail }) => {
    const emu = await newEmulator();
    try {
      emu.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status, body: { detail } });
      const main = await runStep({ inputs: baseInputs(emu) });
      main.workspace.remove();
      expect(main.code, describeStep(main)).toBe(1);
      expect(main.outputs.status).toBe('error');
      expect(errorText(main)).toMatch(new RegExp(`^POST /v1/loops/runs failed: HTTP ${status} [A-Za-z ]+: `));
      expect(errorText(main)).toContain(detail);
      expect(errorText(main)).not.toContain('gave up');
      expect(lines(main).filter((l) => l.includes('attempt') || l.includes('the run may have been created'))).toEqual([]);
      expect(matching(emu, 'POST', '/v1/loops/runs')).toHaveLength(1);
      expect(matching(emu, 'GET', '/v1/loops/runs')).toHaveLength(0);
      expect(emu.runs()).toHaveLength(0);
    } finally {
      await release(emu);
    }
  });

  it.concurrent('POST /v1/loops/runs │ 408 (after) once │ reconciled like a 5xx: adopted, 1 run, 1 POST', async () => {
    const emu = await newEmulator();
    try {
      emu.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 408, when: 'after' });
      const main = await runStep({ inputs: baseInputs(emu) });
      main.workspace.remove();
      expectOneRunNamed({ emu, main, step: main, inputs: {} }, routeOf('create run'));
      expect(lines(main).some((l) => l.startsWith('create run: HTTP 408 Request Timeout; the run may have been created'))).toBe(true);
      expect(matching(emu, 'POST', '/v1/loops/runs')).toHaveLength(1);
    } finally {
      await release(emu);
    }
  });

  it.concurrent('POST /v1/loops/runs │ 429 + Retry-After: 2 │ the retry waits ≥ 2s and the log line says so', async () => {
    const emu = await newEmulator();
    try {
      emu.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 429, headers: { 'Retry-After': '2' } });
      const main = await runStep({ inputs: baseInputs(emu) });
      main.workspace.remove();
      expectOneRunNamed({ emu, main, step: main, inputs: {} }, routeOf('create run'));
      const retry = retryLines(main, 'create run');
      expect(retry).toHaveLength(1);
      // Retry-After 2 s, then jitter over a window as wide (retry 1): 2 to 4 s.
      expect(retry[0]).toMatch(/^create run: attempt 1 of 3 failed \(HTTP 429 Too Many Requests\); retrying in ([23](\.\d)?|4)s$/);
      const posts = matching(emu, 'POST', '/v1/loops/runs');
      expect((posts[1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1950);
    } finally {
      await release(emu);
    }
  });

  it.concurrent('POST /v1/loops/sessions │ 503 + Retry-After as an HTTP date │ honoured (waits until then)', async () => {
    const emu = await newEmulator();
    try {
      // Set when the fault is installed, read when the step gets there (bundle start-up can take
      // seconds on a busy machine): 10s ahead leaves a clear delay to see.
      emu.fault({
        method: 'POST',
        path: '/v1/loops/sessions',
        kind: 'status',
        status: 503,
        headers: { 'Retry-After': new Date(Date.now() + 10_000).toUTCString() },
      });
      const main = await runStep({ inputs: baseInputs(emu) });
      main.workspace.remove();
      expectOneRunNamed({ emu, main, step: main, inputs: {} }, routeOf('create session'));
      const retry = retryLines(main, 'create session');
      expect(retry).toHaveLength(1);
      const delay = Number(/retrying in (\d+(?:\.\d)?)s$/.exec(retry[0] ?? '')?.[1]);
      expect(delay).toBeGreaterThanOrEqual(1);
      const hits = matching(emu, 'POST', '/v1/loops/sessions');
      expect((hits[1]?.at ?? 0) - (hits[0]?.at ?? 0)).toBeGreaterThanOrEqual(delay * 1000 - 150);
    } finally {
      await release(emu);
    }
  });

  it.concurrent(
    'POST /v1/loops/runs/{id}/deactivate │ 503 once, after a failed wait (deactivate_on_failure) │ retried → deactivated',
    async () => {
      const emu = await newEmulator({ samplerTimeline: [{ status: 'DEPLOYING', ms: 200 }, { status: 'DEPLOY_FAILED' }] });
      try {
        emu.fault({ method: 'POST', path: /\/deactivate$/, kind: 'status', status: 503 });
        const main = await runStep({ inputs: baseInputs(emu, { wait_for: 'sampler' }) });
        main.workspace.remove();
        expect(main.code, describeStep(main)).toBe(1);
        expect(main.outputs.status).toBe('failed');
        expect(emu.runs()).toHaveLength(1);
        expect(retryLines(main, 'deactivate run')[0]).toMatch(
          /^deactivate run: attempt 1 of 3 failed \(HTTP 503 Service Unavailable\); retrying in /,
        );
        expect(errorText(main)).toContain('the sampler is DEPLOY_FAILED. The run was deactivated.');
        expect(emu.runs()[0]?.status.name).toBe('INACTIVE');
      } finally {
        await release(emu);
      }
    },
  );
}

// One pool for the whole file: every describe below runs concurrently with the others.
describe.concurrent('fault matrix', () => {
  describe(`one fault, then recovery (max_retries ${MAX_RETRIES}) │ route │ fault │ outcome`, () => {
    for (const { route, kind, name } of MATRIX) it(name, () => matrixCell(route, kind));
  });

  describe(`retries run out (max_retries ${MAX_RETRIES}) │ route │ fault │ outcome`, () => {
    for (const p of PERSISTENT) {
      it(`${p.route.label.padEnd(44)} │ ${p.faultLabel.padEnd(22)} │ ${p.outcome}`, async () => {
        const cell = await runCell(p.route, p.fault, false);
        try {
          p.check(cell);
        } finally {
          await release(cell.emu);
        }
      });
    }
  });

  describe('other answers', () => {
    otherAnswers();
  });
});
