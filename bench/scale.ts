// 3. Scale: N bundles launched at once (wait_for none) against one emulator limited to a token
// bucket of `perSecond` requests/s. Wall time (first spawn → last exit) against the floor the
// rate limit sets (successful requests ÷ rate), 429s, failures and duplicate runs. The crowd is
// random (jittered retries on a 2-core machine), so it runs `rounds` times, each on a fresh
// emulator: the ratio's target is met by the median round, and every round must launch all.

import { startEmulator } from '../test/emulator/server.js';
import { runStep } from '../test/support/runner.js';
import { API_KEY, type Section, launchInputs, ratio, seconds } from './common.js';

interface Round {
  wallMs: number;
  floorMs: number;
  within: number;
  firstMs: number;
  lastOkMs: number;
  ok: number;
  throttled: number;
  other: number;
  failed: { code: number | null; stdout: string }[];
  runs: number;
  sessions: number;
}

async function round(launches: number, perSecond: number): Promise<Round> {
  const emulator = await startEmulator({ apiKeys: [API_KEY], rateLimit: { perSecond, burst: perSecond } });
  try {
    const started = performance.now();
    const startedAt = Date.now();
    const steps = await Promise.all(
      // Each a leg of its own (50 different jobs): launches of one leg and commit would share one run.
      Array.from({ length: launches }, async (_, i) => {
        const inputs = launchInputs(emulator.url, { leg_key: `job ${i}` });
        const step = await runStep({ node: process.execPath, inputs, timeoutMs: 300_000 });
        step.workspace.remove();
        return step;
      }),
    );
    const wallMs = performance.now() - started;

    const ok = emulator.requests.filter((r) => r.status >= 200 && r.status < 300).length;
    const throttled = emulator.requests.filter((r) => r.status === 429).length;
    const runs = emulator.runs();
    const floorMs = (ok / perSecond) * 1000;
    return {
      wallMs,
      floorMs,
      within: wallMs / floorMs,
      // Where the time went: process start-up before the first request, then the throttled window.
      firstMs: Math.min(...emulator.requests.map((r) => r.at)) - startedAt,
      lastOkMs: Math.max(...emulator.requests.filter((r) => r.status < 300).map((r) => r.at)) - startedAt,
      ok,
      throttled,
      other: emulator.requests.length - ok - throttled,
      failed: steps.filter((s) => s.code !== 0 || s.outputs.status !== 'launched'),
      runs: runs.length,
      // Every launch creates a session of its own: a duplicate is a second run in one session.
      sessions: new Set(runs.map((r) => r.session_id)).size,
    };
  } finally {
    await emulator.close();
  }
}

export async function scale(launches = 50, perSecond = 10, rounds = 3): Promise<Section> {
  const done: Round[] = [];
  for (let i = 0; i < rounds; i++) done.push(await round(launches, perSecond));
  const sorted = done.map((r) => r.within).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.POSITIVE_INFINITY;
  const failed = done.reduce((n, r) => n + r.failed.length, 0);
  const allLaunched = done.every((r) => r.failed.length === 0 && r.runs === launches && r.sessions === launches);
  const duplicates = done.reduce((n, r) => n + (r.runs - r.sessions), 0);

  const notes: string[] = [];
  const why = new Map<string, number>();
  for (const s of done.flatMap((r) => r.failed)) {
    const line = (s.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? `exit ${s.code}`).slice(0, 160);
    why.set(line, (why.get(line) ?? 0) + 1);
  }
  for (const [line, count] of why) notes.push(`${count} failed launch(es): ${line}`);

  return {
    title: '3. Scale',
    about:
      `${launches} bundles spawned at once, each a leg of its own (leg_key), wait_for none, one emulator with a token bucket of ${perSecond} requests/s ` +
      `(burst ${perSecond}); ${rounds} rounds, each on a fresh emulator. Floor = successful requests ÷ rate. "first request" and "last 2xx" are ` +
      'when the emulator received them, counted from the first spawn. The ratio target is met by the median round; every round must launch all.',
    table: [
      [
        'round',
        'launches',
        'wall time',
        'floor',
        'wall / floor',
        'first request',
        'last 2xx',
        '2xx',
        '429s',
        'other',
        'failed',
        'runs',
        'sessions with runs',
      ],
      ...done.map((r, i) => [
        String(i + 1),
        String(launches),
        seconds(r.wallMs),
        seconds(r.floorMs),
        ratio(r.within),
        seconds(r.firstMs),
        seconds(r.lastOkMs),
        String(r.ok),
        String(r.throttled),
        String(r.other),
        String(r.failed.length),
        String(r.runs),
        String(r.sessions),
      ]),
    ],
    checks: [
      {
        target:
          `50-way scale within 1.5× of the rate-limit floor, median of ${rounds} rounds (got ${ratio(median)}; ` +
          `rounds ${done.map((r) => ratio(r.within)).join(', ')})`,
        pass: median <= 1.5,
      },
      {
        target: `zero duplicate runs, every launch created its run in every round (${failed} failed, ${duplicates} duplicates)`,
        pass: duplicates === 0 && allLaunched,
      },
    ],
    notes,
  };
}
