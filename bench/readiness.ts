// 2. Readiness lag and politeness: ready means the sampler answers. The sampler turns ACTIVE at
// a known moment (run created_at + activeMs, by the emulator's timeline), and its GET /v1/models
// answers 503 until a later one (created_at + answersMs: an emulator fault on the sampler's path,
// cleared then). With verify_sampler (the default) we measure from the moment it answers to the
// action's exit; with verify_sampler: false (the statuses alone) from ACTIVE, as before. Both side
// by side in one run, every launch on its own emulator, for the default interval and a short one;
// and we count the GET /v1/loops/runs/{id} polls and the /v1/models asks.

import { type Emulator, startEmulator } from '../test/emulator/server.js';
import { runStep } from '../test/support/runner.js';
import { API_KEY, type Check, type Section, launchInputs, median, ratio, seconds, verdict } from './common.js';

interface Case {
  label: string;
  /** undefined: the action's default (10 s). */
  intervalS?: number;
  effectiveIntervalS: number;
  activeMs: number;
  /** When GET /v1/models starts answering 200 (503 before). */
  answersMs: number;
  verify: boolean;
}

// ACTIVE and the first answer land between two polls (not on one), so that the lag is a
// typical one, not a lucky one.
const TIMINGS = [
  { label: 'default', effectiveIntervalS: 10, activeMs: 25_000, answersMs: 35_000 },
  { label: 'short', intervalS: 1, effectiveIntervalS: 1, activeMs: 3_500, answersMs: 5_500 },
];
const CASES: Case[] = TIMINGS.flatMap((t) => [true, false].map((verify) => ({ ...t, verify })));

const MODELS = /^\/sampler\/[^/]+\/v1\/models$/;

interface Sample {
  /** Exit − the moment the sampler starts answering (negative: ready before it answers). */
  lagAnswerMs: number;
  /** Exit − ACTIVE. */
  lagActiveMs: number;
  elapsedMs: number;
  polls: number;
  /** The statuses GET /v1/models answered the action. */
  asks: number[];
}

/** GET /v1/models answers 503 until created_at + answersMs: the fault is cleared then. */
async function answerFrom(emulator: Emulator, answersMs: number, done: () => boolean): Promise<void> {
  emulator.fault({ method: 'GET', path: MODELS, kind: 'status', status: 503, body: { detail: 'loading the model' }, times: Infinity });
  let createdAt: string | undefined;
  while (!createdAt && !done()) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    createdAt = emulator.runs()[0]?.created_at;
  }
  if (!createdAt) return;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(createdAt) + answersMs - Date.now())));
  emulator.clearFaults();
}

async function one(c: Case): Promise<Sample> {
  const emulator = await startEmulator({
    apiKeys: [API_KEY],
    samplerTimeline: [{ status: 'DEPLOYING', ms: c.activeMs }, { status: 'ACTIVE' }],
  });
  try {
    const inputs = launchInputs(emulator.url, { wait_for: 'sampler', verify_sampler: String(c.verify) });
    if (c.intervalS !== undefined) inputs.poll_interval_seconds = c.intervalS;
    let exitedAt = 0;
    const answering = answerFrom(emulator, c.answersMs, () => exitedAt > 0);
    const step = await runStep({
      node: process.execPath,
      inputs,
      timeoutMs: c.answersMs + 4 * c.effectiveIntervalS * 1000 + 30_000,
      onSpawn: (child) => child.once('exit', () => (exitedAt = Date.now())),
    });
    step.workspace.remove();
    if (step.outputs.status !== 'ready')
      throw new Error(`readiness (${c.label}, verify ${c.verify}): status ${step.outputs.status}: ${step.stdout}`);
    if (c.verify && !step.outputs.sampler_model)
      throw new Error(`readiness (${c.label}): ready with verification but no sampler_model: ${step.stdout}`);
    await answering;
    const runId = step.outputs.run_id as string;
    const createdAt = Date.parse(step.outputs.created_at as string);
    const polls = emulator.requests.filter((r) => r.method === 'GET' && r.path === `/v1/loops/runs/${runId}`).length;
    const asks = emulator.requests.filter((r) => r.method === 'GET' && MODELS.test(r.path)).map((r) => r.status);
    return {
      lagAnswerMs: exitedAt - (createdAt + c.answersMs),
      lagActiveMs: exitedAt - (createdAt + c.activeMs),
      elapsedMs: exitedAt - createdAt,
      polls,
      asks,
    };
  } finally {
    await emulator.close();
  }
}

/** "503, 200" when every launch saw the same answers; else each launch's. */
function asked(samples: Sample[]): string {
  const each = samples.map((s) => (s.asks.length ? s.asks.join(', ') : 'none'));
  return new Set(each).size === 1 ? `${each[0]} (each)` : each.join(' / ');
}

const medianMax = (values: number[]): string => `${seconds(median(values))} (${seconds(Math.max(...values))})`;

export async function readiness(launches: number): Promise<Section> {
  const results = await Promise.all(CASES.map((c) => Promise.all(Array.from({ length: launches }, () => one(c)))));
  const table = [
    [
      'interval',
      'verify_sampler',
      'ACTIVE at',
      'answers from',
      'launches',
      'time to ready, median',
      'lag behind answering, median (max)',
      'lag behind ACTIVE, median (max)',
      'max lag / interval',
      'GET /v1/models answered',
      'polls',
      'elapsed / interval',
      'target',
      '',
    ],
  ];
  const checks: Check[] = [];
  for (const [i, c] of CASES.entries()) {
    const samples = results[i] as Sample[];
    const intervalMs = c.effectiveIntervalS * 1000;
    // With verification, ready is due once the sampler answers; without, once it is ACTIVE.
    const lags = samples.map((s) => (c.verify ? s.lagAnswerMs : s.lagActiveMs));
    const maxLag = Math.max(...lags);
    const lagOk = maxLag >= 0 && maxLag <= intervalMs;
    const pollsOk = samples.every((s) => s.polls <= s.elapsedMs / intervalMs + 2);
    const from = c.verify ? 'the sampler answering' : 'ACTIVE';
    table.push([
      `${c.effectiveIntervalS} s (${c.label})`,
      String(c.verify),
      seconds(c.activeMs),
      seconds(c.answersMs),
      String(samples.length),
      seconds(median(samples.map((s) => s.elapsedMs))),
      medianMax(samples.map((s) => s.lagAnswerMs)),
      medianMax(samples.map((s) => s.lagActiveMs)),
      ratio(maxLag / intervalMs),
      asked(samples),
      samples.map((s) => s.polls).join(', '),
      samples.map((s) => (s.elapsedMs / intervalMs).toFixed(2)).join(', '),
      `lag behind ${c.verify ? 'answering' : 'ACTIVE'} ≤ 1 interval; polls ≤ elapsed/interval + 2`,
      verdict(lagOk && pollsOk),
    ]);
    const where = `at ${c.effectiveIntervalS} s, verify_sampler ${c.verify}`;
    checks.push({ target: `readiness lag behind ${from} ≤ one interval ${where} (worst ${seconds(maxLag)})`, pass: lagOk });
    checks.push({ target: `polls ≤ elapsed/interval + 2 ${where}`, pass: pollsOk });
  }
  const early = CASES.flatMap((c, i) => (c.verify ? [] : (results[i] as Sample[]).map((s) => s.lagAnswerMs))).filter((ms) => ms < 0);
  return {
    title: '2. Readiness lag and politeness',
    about:
      'Sampler DEPLOYING until created_at + "ACTIVE at", then ACTIVE; its GET /v1/models answers 503 until created_at + "answers from" ' +
      "(an emulator fault on the sampler's path, cleared then), 200 after; wait_for sampler. With verify_sampler true (the default) ready " +
      'is due when the sampler answers, with false when it is ACTIVE: the target lag is measured from that moment. ' +
      'Lag = process exit − the moment; time to ready = elapsed = exit − created_at; polls = GET /v1/loops/runs/{id} the emulator saw. ' +
      'Every launch on its own emulator; all launches run concurrently.',
    table,
    checks,
    notes: [
      `With verify_sampler false, ${early.length} of ${launches * TIMINGS.length} launches were ready before the sampler answered ` +
        '(a negative lag behind answering): an eval job started then would have met 503s.',
      'Measured on 2 cores shared with other people’s test runs.',
    ],
  };
}
