// 2. Readiness lag and politeness: the sampler turns ACTIVE at a known moment (run created_at +
// activeMs, by the emulator's timeline); we measure from that moment to the action's exit, and
// count its GET /v1/loops/runs/{id} polls, for the default interval and a short one.

import { startEmulator } from '../test/emulator/server.js';
import { runStep } from '../test/support/runner.js';
import { API_KEY, type Section, launchInputs, median, ratio, seconds, verdict } from './common.js';

interface Case {
  label: string;
  /** undefined: the action's default (10 s). */
  intervalS?: number;
  effectiveIntervalS: number;
  activeMs: number;
}

// ACTIVE lands between two polls (not on one), so that the lag is a typical one, not a lucky one.
const CASES: Case[] = [
  { label: 'default', effectiveIntervalS: 10, activeMs: 25_000 },
  { label: 'short', intervalS: 1, effectiveIntervalS: 1, activeMs: 3_500 },
];

interface Sample {
  lagMs: number;
  elapsedMs: number;
  polls: number;
}

async function measure(c: Case, launches: number): Promise<Sample[]> {
  const emulator = await startEmulator({
    apiKeys: [API_KEY],
    samplerTimeline: [{ status: 'DEPLOYING', ms: c.activeMs }, { status: 'ACTIVE' }],
  });
  try {
    const inputs = launchInputs(emulator.url, { wait_for: 'sampler' });
    if (c.intervalS !== undefined) inputs.poll_interval_seconds = c.intervalS;
    const one = async (): Promise<Sample> => {
      let exitedAt = 0;
      const step = await runStep({
        node: process.execPath,
        inputs,
        timeoutMs: c.activeMs + 4 * c.effectiveIntervalS * 1000 + 30_000,
        onSpawn: (child) => child.once('exit', () => (exitedAt = Date.now())),
      });
      step.workspace.remove();
      if (step.outputs.status !== 'ready') throw new Error(`readiness (${c.label}): status ${step.outputs.status}: ${step.stdout}`);
      const runId = step.outputs.run_id as string;
      const createdAt = Date.parse(step.outputs.created_at as string);
      const polls = emulator.requests.filter((r) => r.method === 'GET' && r.path === `/v1/loops/runs/${runId}`).length;
      return { lagMs: exitedAt - (createdAt + c.activeMs), elapsedMs: exitedAt - createdAt, polls };
    };
    return await Promise.all(Array.from({ length: launches }, one));
  } finally {
    await emulator.close();
  }
}

export async function readiness(launches: number): Promise<Section> {
  const results = await Promise.all(CASES.map((c) => measure(c, launches)));
  const table = [
    ['interval', 'ACTIVE at', 'launches', 'lag median (max)', 'max lag / interval', 'polls', 'elapsed / interval', 'target', ''],
  ];
  const checks = [];
  for (const [i, c] of CASES.entries()) {
    const samples = results[i] as Sample[];
    const intervalMs = c.effectiveIntervalS * 1000;
    const maxLag = Math.max(...samples.map((s) => s.lagMs));
    const lagOk = maxLag <= intervalMs;
    const pollsOk = samples.every((s) => s.polls <= s.elapsedMs / intervalMs + 2);
    table.push([
      `${c.effectiveIntervalS} s (${c.label})`,
      seconds(c.activeMs),
      String(samples.length),
      `${seconds(median(samples.map((s) => s.lagMs)))} (${seconds(maxLag)})`,
      ratio(maxLag / intervalMs),
      samples.map((s) => s.polls).join(', '),
      samples.map((s) => (s.elapsedMs / intervalMs).toFixed(2)).join(', '),
      'lag ≤ 1 interval; polls ≤ elapsed/interval + 2',
      verdict(lagOk && pollsOk),
    ]);
    checks.push({ target: `readiness lag ≤ one interval at ${c.effectiveIntervalS} s (worst ${seconds(maxLag)})`, pass: lagOk });
    checks.push({ target: `polls ≤ elapsed/interval + 2 at ${c.effectiveIntervalS} s`, pass: pollsOk });
  }
  return {
    title: '2. Readiness lag and politeness',
    about:
      'Sampler DEPLOYING until created_at + "ACTIVE at", then ACTIVE; wait_for sampler. Lag = process exit − that moment; ' +
      'polls = GET /v1/loops/runs/{id} the emulator saw; elapsed = exit − created_at. All launches run concurrently.',
    table,
    checks,
  };
}
