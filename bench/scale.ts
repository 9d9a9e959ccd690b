// 3. Scale: N bundles launched at once (wait_for none) against one emulator limited to a token
// bucket of `perSecond` requests/s. Wall time (first spawn → last exit) against the floor the
// rate limit sets (successful requests ÷ rate), 429s, failures and duplicate runs.

import { startEmulator } from '../test/emulator/server.js';
import { runStep } from '../test/support/runner.js';
import { API_KEY, type Section, launchInputs, ratio, seconds, verdict } from './common.js';

export async function scale(launches = 50, perSecond = 10): Promise<Section> {
  const emulator = await startEmulator({ apiKeys: [API_KEY], rateLimit: { perSecond, burst: perSecond } });
  try {
    const started = performance.now();
    const startedAt = Date.now();
    const steps = await Promise.all(
      Array.from({ length: launches }, async () => {
        const step = await runStep({ node: process.execPath, inputs: launchInputs(emulator.url), timeoutMs: 300_000 });
        step.workspace.remove();
        return step;
      }),
    );
    const wallMs = performance.now() - started;

    const ok = emulator.requests.filter((r) => r.status >= 200 && r.status < 300).length;
    const throttled = emulator.requests.filter((r) => r.status === 429).length;
    const other = emulator.requests.length - ok - throttled;
    const failed = steps.filter((s) => s.code !== 0 || s.outputs.status !== 'launched');
    const runs = emulator.runs();
    // Every launch creates a session of its own: a duplicate is a second run in one session.
    const sessions = new Set(runs.map((r) => r.session_id));
    const duplicates = runs.length - sessions.size;
    const floorMs = (ok / perSecond) * 1000;
    // Where the time went: process start-up before the first request, then the throttled window.
    const firstMs = Math.min(...emulator.requests.map((r) => r.at)) - startedAt;
    const lastOkMs = Math.max(...emulator.requests.filter((r) => r.status < 300).map((r) => r.at)) - startedAt;
    const within = wallMs / floorMs;
    const pass = within <= 1.5 && duplicates === 0 && runs.length === launches && failed.length === 0;

    const notes: string[] = [];
    if (failed.length > 0) {
      const why = new Map<string, number>();
      for (const s of failed) {
        const line = (s.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? `exit ${s.code}`).slice(0, 160);
        why.set(line, (why.get(line) ?? 0) + 1);
      }
      for (const [line, count] of why) notes.push(`${count} failed launch(es): ${line}`);
    }
    return {
      title: '3. Scale',
      about:
        `${launches} bundles spawned at once, wait_for none, one emulator with a token bucket of ${perSecond} requests/s ` +
        `(burst ${perSecond}). Floor = successful requests ÷ rate. "first request" and "last 2xx" are ` +
        'when the emulator received them, counted from the first spawn.',
      table: [
        [
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
          'target',
          '',
        ],
        [
          String(launches),
          seconds(wallMs),
          seconds(floorMs),
          ratio(within),
          `${seconds(firstMs)}`,
          `${seconds(lastOkMs)}`,
          String(ok),
          String(throttled),
          String(other),
          String(failed.length),
          String(runs.length),
          String(sessions.size),
          '≤ 1.5× floor, 0 duplicates, all launched',
          verdict(pass),
        ],
      ],
      checks: [
        {
          target:
            `50-way scale within 1.5× of the rate-limit floor (got ${ratio(within)}` +
            `${failed.length > 0 ? `; ${failed.length} launches failed, so the floor counts only ${ok} requests` : ''})`,
          pass: within <= 1.5,
        },
        {
          target: `zero duplicate runs, every launch created its run (${runs.length} runs in ${sessions.size} sessions, ${failed.length} failed)`,
          pass: duplicates === 0 && runs.length === launches && failed.length === 0,
        },
      ],
      notes,
    };
  } finally {
    await emulator.close();
  }
}
