// No entry ever calls a Loops DELETE route: DELETE /v1/loops/runs/{id} deletes the run's
// checkpoints, DELETE /v1/loops/checkpoints/{id} a checkpoint. Every bundle built from
// src/entry/ runs its scenarios here (success, failure, cancellation, the post step, the stop
// action and its janitor, the eval report), serverless and dedicated, against an emulator whose
// DELETE routes really delete; afterwards no DELETE was received and every checkpoint is still
// there. An entry added to src/entry/ fails this test until it has a scenario below.

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import type { Emulator } from '../emulator/server.js';
import { type Step, signalOn } from '../support/e2e.js';
import { ROOT, type RunnerOptions, runPostStep } from '../support/runner.js';
import { KEY, SHA, lifeTest as test, launchInputs, pr, stopInputs } from './life.js';
import { startFakeGithub } from './tools.js';

type StepFn = (o: RunnerOptions) => Promise<Step>;

const saved = new WeakMap<Emulator, string[]>();

/** Plants two checkpoints of a run (trainer and sampler weights), as its training would have saved them. */
function saveCheckpoints(emulator: Emulator, runId: string | undefined): void {
  const paths = [...(saved.get(emulator) ?? []), `bt://loops:${runId ?? ''}/weights/step-1`, `bt://loops:${runId ?? ''}/sampler_weights/step-1`];
  saved.set(emulator, paths);
  emulator.configure({ checkpoints: paths });
}

let legs = 0;

/** One launch (a leg of its own: none adopts another's run), its checkpoints saved once it has a run. */
async function launch(
  emulator: Emulator,
  step: StepFn,
  extra: Record<string, string | number | boolean>,
  options: Partial<RunnerOptions> = {},
): Promise<Step> {
  const inputs = launchInputs(emulator, { wait_for: 'sampler', wait_timeout_seconds: 10, leg_key: `leg ${++legs}`, ...extra });
  const result = await step({ inputs, ...options });
  saveCheckpoints(emulator, result.outputs.run_id);
  return result;
}

/** What each entry of src/entry/ is run through. */
const SCENARIOS: Record<string, (emulator: Emulator, step: StepFn) => Promise<void>> = {
  main: async (emulator, step) => {
    expect((await launch(emulator, step, {})).outputs.status).toBe('ready');
    expect((await launch(emulator, step, { scope: 'deployment', wait_for: 'all' })).outputs.status).toBe('ready');
    // Failure: the wait times out and the run is deactivated (deactivate_on_failure).
    emulator.configure({ samplerTimeline: [{ status: 'DEPLOYING' }], serverlessSampler: { timeline: [{ status: 'LOADING_MODEL' }] } });
    const failed = await launch(emulator, step, { wait_timeout_seconds: 1 });
    expect([failed.code, failed.outputs.status]).toEqual([1, 'timed_out']);
    // Cancellation while waiting.
    const cancelled = await launch(emulator, step, { scope: 'deployment' }, signalOn('Waiting up to', 'SIGINT'));
    expect(cancelled.outputs.status).toBe('cancelled');
    emulator.configure({ samplerTimeline: [{ status: 'ACTIVE' }], serverlessSampler: { timeline: [{ status: 'ACTIVE' }] } });
    // Supersede on a pull request: push B stops push A's run.
    await launch(emulator, step, { wait_for: 'none' }, pr(3, SHA.A));
    const b = await launch(emulator, step, { wait_for: 'none' }, pr(3, SHA.B));
    expect(b.outputs.superseded_run_ids).not.toBe('');
  },
  post: async (emulator, step) => {
    for (const scope of ['auto', 'deployment']) {
      const main = await launch(emulator, step, { deactivate_at_job_end: true, scope });
      const post = await runPostStep(main, { inputs: launchInputs(emulator, { deactivate_at_job_end: true, scope }) });
      expect(post.code, post.stdout).toBe(0);
      expect(post.stdout).toContain(`Deactivated run ${main.outputs.run_id ?? ''}`);
    }
  },
  // The eval report talks to GitHub only: after two launches (serverless and dedicated) on a pull
  // request, it reports each run's scores; neither the Loops emulator nor GitHub receives a DELETE.
  report: async (emulator, step) => {
    const gh = await startFakeGithub();
    const dir = mkdtempSync(join(tmpdir(), 'no-delete-report-'));
    try {
      writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ accuracy: 0.9 }));
      for (const scope of ['auto', 'deployment']) {
        const ctx = pr(9, SHA.A, { github: gh });
        const launched = await launch(emulator, step, { wait_for: 'none', scope, comment_on_pr: true }, ctx);
        const inputs = { metrics: 'metrics.json', run_id: launched.outputs.run_id ?? '', thresholds: 'accuracy >= 0.5', leg_key: scope };
        const report = await step({ action: 'report', inputs, env: { ...ctx.env, GITHUB_WORKSPACE: dir }, event: ctx.event });
        expect([report.code, report.outputs.passed], report.stdout).toEqual([0, 'true']);
      }
      expect(gh.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
      expect(gh.checkRuns).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await gh.close();
    }
  },
  stop: async (emulator, step) => {
    const a = await launch(emulator, step, { wait_for: 'none' }, pr(5, SHA.A));
    const b = await launch(emulator, step, { wait_for: 'none', scope: 'deployment' });
    const byId = await step({ action: 'stop', inputs: stopInputs(emulator, { run_ids: b.outputs.run_id ?? '' }) });
    const byPr = await step({ action: 'stop', inputs: stopInputs(emulator, { pull_request: 5 }) });
    const janitor = await step({ action: 'stop', inputs: stopInputs(emulator, { older_than_minutes: 0 }) });
    expect([byId.outputs.status, byPr.outputs.stopped_run_ids, janitor.code]).toEqual(['stopped', a.outputs.run_id, 0]);
  },
};

const ENTRIES = readdirSync(join(ROOT, 'src', 'entry'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

describe('no entry ever calls a DELETE route', () => {
  test('every entry in src/entry/ has a scenario in this test', () => {
    const missing = ENTRIES.filter((e) => !(e in SCENARIOS));
    expect(missing, `add a scenario running dist/<entry>/index.js for: ${missing.join(', ')}`).toEqual([]);
  });

  for (const entry of ENTRIES.filter((e) => e in SCENARIOS)) {
    test.concurrent(`${entry}: no DELETE sent, serverless and dedicated, and every checkpoint still there`, async ({ loops, step }) => {
      const emulator = await loops({ serverlessAccess: 'all' });
      await (SCENARIOS[entry] as (e: Emulator, s: StepFn) => Promise<void>)(emulator, step);
      expect(emulator.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
      expect(emulator.requests.length).toBeGreaterThan(10);
      const runs = emulator.runs().map((r) => r.id);
      expect(new Set(emulator.checkpoints().map((c) => c.run_id))).toEqual(new Set(runs));
      expect(emulator.runs().map((r) => r.deployment_id === null)).toContain(true); // serverless runs took part
      expect(emulator.runs().map((r) => r.deployment_id === null)).toContain(false); // and dedicated ones
    });
  }

  test.concurrent('control: the emulator records a DELETE and it really deletes the run’s checkpoints', async ({ loops }) => {
    const emulator = await loops({ serverlessAccess: 'all' });
    const run = emulator.createRun({ session_id: emulator.createSession(), base_model: 'Qwen/Qwen3-8B' });
    saveCheckpoints(emulator, run.id);
    const response = await fetch(`${emulator.url}/v1/loops/runs/${run.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    expect(await response.json()).toEqual({ id: run.id, kept_checkpoints: [] });
    expect(emulator.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(emulator.checkpoints()).toEqual([]);
  });

  test('and no source file names the method: the client takes GET or POST only', () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(join(dir, d.name)) : [join(dir, d.name)]));
    const offenders = sources(join(ROOT, 'src')).filter((file) => /['"`]DELETE['"`]|\.del\(/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
    expect(readFileSync(join(ROOT, 'src', 'loops', 'client.ts'), 'utf8')).toContain("method: 'GET' | 'POST';");
  });
});
