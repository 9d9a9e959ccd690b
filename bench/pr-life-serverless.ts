// 6b. A pull request's life on a serverless-capable model: dedicated GPU-minutes per pull
// request, the action before availability modes against this one, in one run. Five pushes of
// one pull request, each: launch (wait_for sampler, supersede and warm start on their pull-request
// defaults) → eval (section 6's) → next push; then the pull request closes and the stop action
// stops what is left. The workspace has serverless access to the model (Qwen/Qwen3-8B), so with
// the default scope a run is serverless — unless it reuses another run's infrastructure, which
// makes it dedicated. Played three times side by side, each on a fresh emulator:
// - old: the bundles of the last commit before availability modes (its committed dist/, taken
//   with `git archive`), whose warm start reuses the previous push's run from the second push on;
// - new: this checkout's bundles, default scope;
// - new, scope deployment: this checkout, a workflow that asks for dedicated runs (reported).
// Time is scaled as in section 6; GPU time comes from emulator.deployments().

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../test/emulator/server.js';
import { ROOT, entries, runStep } from '../test/support/runner.js';
import { API_KEY, BASE_MODEL, type Check, type Section, ratio, seconds, verdict } from './common.js';
import { EVAL_MS, MS_PER_SIM_S, POLL_S, PUSHES, SCALE_DOWN_MS, context, evaluate, failure, ids, shaOf } from './pr-life.js';

/** The last commit before availability modes: its committed dist/ is the old action. */
const BEFORE_MODES = '2968ebd';

interface Bundles {
  main: string;
  stop: string;
}

/** The old action's committed bundles, extracted into `dir`. */
function oldBundles(dir: string): Bundles & { commit: string } {
  const commit = execFileSync('git', ['rev-parse', BEFORE_MODES], { cwd: ROOT, encoding: 'utf8' }).trim();
  const archive = execFileSync('git', ['archive', commit, 'dist/main', 'dist/stop'], { cwd: ROOT, maxBuffer: 64 * 2 ** 20 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  return { commit, main: join(dir, 'dist/main/index.js'), stop: join(dir, 'dist/stop/index.js') };
}

interface Pattern {
  label: string;
  bundles: Bundles;
  scope: string;
}

/** The server clock of the emulators: the runner's, moved on by `skew` once the play is over. */
const clock = { skew: 0 };

class Play {
  readonly reused: string[] = [];
  readonly modes: string[] = [];
  closeStopped: string[] = [];

  private constructor(
    readonly pattern: Pattern,
    readonly emulator: Emulator,
  ) {}

  static async start(pattern: Pattern): Promise<Play> {
    const emulator = await startEmulator({
      apiKeys: [API_KEY],
      serverlessAccess: 'all',
      // A serverless sampler that shows its status: without one, the old action's wait_for sampler
      // would never end on a serverless run (a defect of its own), and the old play would stop there.
      serverlessSampler: { status: 'shown' },
      scaleDownMsPerSecond: MS_PER_SIM_S,
      now: () => Date.now() + clock.skew,
    });
    return new Play(pattern, emulator);
  }

  async push(n: number): Promise<void> {
    const sha = shaOf(n);
    const inputs = { api_key: API_KEY, api_base_url: this.emulator.url, base_model: BASE_MODEL, lora_rank: 32, poll_interval_seconds: POLL_S };
    const launch = await runStep({
      entry: this.pattern.bundles.main,
      inputs: { ...inputs, wait_for: 'sampler', scope: this.pattern.scope },
      ...context(sha, 'launch', 'loops', 'pr-finetune.yml', n === 1 ? 'opened' : 'synchronize'),
      timeoutMs: 60_000,
    });
    launch.workspace.remove();
    if (launch.outputs.status !== 'ready') throw failure(`${this.pattern.label} push ${n}: launch`, launch);
    this.reused.push(launch.outputs.reused_from_run_id ?? '');
    await evaluate(launch.outputs.openai_base_url ?? '');
  }

  async close(): Promise<void> {
    const stop = await runStep({
      action: 'stop',
      entry: this.pattern.bundles.stop,
      inputs: { api_key: API_KEY, api_base_url: this.emulator.url },
      ...context(shaOf(PUSHES), 'cleanup', 'stop', 'pr-closed-cleanup.yml', 'closed'),
    });
    stop.workspace.remove();
    if (stop.code !== 0) throw failure(`${this.pattern.label}: stop on close`, stop);
    this.closeStopped = ids(stop.outputs.stopped_run_ids);
  }

  /** Once everything that will stop has stopped. */
  outcome(): { runs: number; serverless: number; warm: number; deployments: number; gpuMs: number; alive: number } {
    const now = Date.now() + clock.skew;
    const runs = this.emulator.runs();
    const usage = this.emulator.deployments();
    return {
      runs: runs.length,
      serverless: runs.filter((r) => r.deployment_id === null && r.sampler?.model_id === undefined).length,
      warm: this.reused.filter(Boolean).length,
      deployments: usage.length,
      gpuMs: usage.reduce((sum, d) => sum + d.gpu.reduce((s, i) => s + ((i.to ?? now) - i.from), 0), 0),
      alive: runs.filter((r) => r.status.name === 'ACTIVE').length,
    };
  }
}

/** Real ms of GPU time as simulated GPU-minutes. */
const minutes = (ms: number): number => ms / MS_PER_SIM_S / 60;

export async function prLifeServerless(): Promise<Section> {
  clock.skew = 0;
  const dir = mkdtempSync(join(tmpdir(), 'bench-before-modes-'));
  const old = oldBundles(dir);
  const current = entries();
  const patterns: Pattern[] = [
    { label: 'old (before availability modes)', bundles: old, scope: 'auto' },
    { label: 'new', bundles: current, scope: 'auto' },
    { label: 'new, scope: deployment', bundles: current, scope: 'deployment' },
  ];
  const plays = await Promise.all(patterns.map((p) => Play.start(p)));
  try {
    const started = Date.now();
    for (let n = 1; n <= PUSHES; n++) await Promise.all(plays.map((p) => p.push(n)));
    await Promise.all(plays.map((p) => p.close()));
    const playedMs = Date.now() - started;
    clock.skew = SCALE_DOWN_MS + 10 * POLL_S * 1000;
    const outcomes = plays.map((p) => p.outcome());
    const [o, n] = outcomes as [ReturnType<Play['outcome']>, ReturnType<Play['outcome']>];
    const checks: Check[] = [
      {
        target: `dedicated GPU-minutes per pull request, default scope, new: 0 (got ${minutes(n.gpuMs).toFixed(1)})`,
        pass: n.gpuMs === 0,
      },
    ];
    const table = [
      [
        'pattern',
        'runs',
        'serverless runs',
        'warm starts asked',
        'dedicated deployments',
        'dedicated GPU-minutes per PR',
        'runs alive at end',
        'target',
        '',
      ],
      ...plays.map((p, i) => {
        const x = outcomes[i] as ReturnType<Play['outcome']>;
        const target = i === 1 ? ['0 GPU-minutes', verdict(x.gpuMs === 0)] : ['(reported)', ''];
        return [
          p.pattern.label,
          String(x.runs),
          String(x.serverless),
          String(x.warm),
          String(x.deployments),
          minutes(x.gpuMs).toFixed(1),
          String(x.alive),
          ...target,
        ];
      }),
      ['new ÷ old', '', '', '', '', o.gpuMs > 0 ? ratio(n.gpuMs / o.gpuMs) : '—', '', '(reported)', ''],
    ];
    return {
      title: "6b. A pull request's life on a serverless-capable model",
      about:
        `${PUSHES} pushes of one pull request on ${BASE_MODEL}, to which the workspace has serverless access; each: launch (wait_for sampler; supersede and ` +
        'warm start on their pull-request defaults) → eval (as in section 6) → next push; then the stop action on `pull_request: closed`. ' +
        `**old**: the bundles of commit ${old.commit.slice(0, 7)} (the last before availability modes, its committed dist/); **new**: this checkout's; ` +
        '**new, scope: deployment**: a workflow that asks for dedicated runs. Each on a fresh emulator, side by side push by push. ' +
        'Dedicated GPU-minutes: the time the trainers of dedicated deployments held GPUs, in simulated minutes, once everything that will stop has stopped.',
      table,
      checks,
      notes: [
        'Serverless samplers show a status (ACTIVE) in this play: the old action waits for that status, and with it absent (which the unpublished shape allows) ' +
          'its wait_for sampler never ends on a serverless run, so the old play could not get past its first launch.',
        `Time scale as in section 6: ${MS_PER_SIM_S} ms per simulated second; the eval lasts ${seconds(EVAL_MS)}; the emulators' clock was moved on by ` +
          `${seconds(clock.skew)} after the close instead of waiting it out. The play took ${seconds(playedMs)} of real time.`,
        `Old: from the second push on, warm start asks to reuse the previous push's run, and a reuse makes a run dedicated: ${o.warm} of ${PUSHES} launches ` +
          `did, ${o.runs - o.serverless} of ${o.runs} runs were dedicated, on GPUs until the stop on close (${o.alive} alive at the end).`,
        `New: warm start skipped on every push (the model can run serverless here), ${n.serverless} of ${n.runs} runs serverless; nothing holds GPUs.`,
        'New, scope: deployment: the workflow asks for dedicated runs, so warm start reuses the previous push’s deployment from the second push on: that is the GPU time it asked for.',
      ],
    };
  } finally {
    await Promise.all(plays.map((p) => p.emulator.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}
