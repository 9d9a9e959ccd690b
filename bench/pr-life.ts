// 6. A pull request's life: five pushes of one pull request, each a launch (wait_for sampler),
// then an eval that uses the sampler for a fixed time (GET /v1/models every poll interval, so
// idle scale-down does not count it as idle), then the next push; then the pull request closes.
// Played twice, each on a fresh emulator, push by push side by side (both patterns' push N run
// at the same time, so they share the machine's load):
// - old: the README's old example, launch only, supersede and warm_start false (the old action
//   had neither), no stop job, nothing on close: runs idle until they scale down;
// - new: the new examples, launch → eval → the stop action with run_ids (the `if: always()` stop
//   job), and the stop action on `pull_request: closed`; supersede and warm start on their
//   pull-request defaults.
// Time is scaled: the emulator's scaleDownMsPerSecond turns scale_down_delay_seconds (3600 by
// default) into MS_PER_SIM_S real ms per simulated second, and the launches poll every
// POLL_S real seconds, the action's default 10 s at that scale. GPU time comes from
// emulator.deployments() (server-clock ms).

import { createHash } from 'node:crypto';
import { type Emulator, type LoopsRun, startEmulator } from '../test/emulator/server.js';
import { type RunnerOptions, runStep } from '../test/support/runner.js';
import { API_KEY, BASE_MODEL, type Check, type Section, median, ratio, seconds, verdict } from './common.js';

/**
 * Real ms per simulated second (the emulator's scaleDownMsPerSecond). Process start-up is not
 * scaled (node, the bundle, its first requests: 0.1–0.4 s here): at 50 ms per second it stays
 * under one scaled poll interval, so the stop job's idle measures the action, not node.
 */
export const MS_PER_SIM_S = 50;
/** The action's default poll interval (10 s), scaled: the launches' poll_interval_seconds and the eval's request cadence. */
export const POLL_S = (10 * MS_PER_SIM_S) / 1000;
const POLL_MS = POLL_S * 1000;
/** scale_down_delay_seconds, the action's default, in real ms at this scale. */
export const SCALE_DOWN_MS = 3600 * MS_PER_SIM_S;
/** How long each push's eval uses the sampler (real ms): one simulated minute. */
export const EVAL_MS = 60 * MS_PER_SIM_S;
export const PUSHES = 5;
const PR = 7;
const REPO = 'acme/finetune';

type Pattern = 'old' | 'new';

interface Push {
  sha: string;
  runId: string;
  /** Server-clock ms of the eval's last request to the sampler (the run's last use). */
  evalEnd: number;
  evalRequests: number;
  /** Eval requests that were not answered 200. */
  evalMisses: number;
  reusedFrom: string;
  superseded: string[];
  /** The stop job's outcome (new pattern). */
  stopStatus?: string;
  stopped: string[];
  /** The stop job (new pattern), server-clock ms: spawned, its first request, its deactivate request. */
  stopTimes?: { spawn: number; first: number; deactivate: number };
}

interface Deployment {
  id: string;
  runIds: string[];
  lastUse: number;
  /** Server-clock ms; undefined while it still holds GPUs at the end. */
  gpuEnd?: number;
  gpuMs: number;
  idleMs: number;
  endedBy: string;
}

interface Outcome {
  pattern: Pattern;
  pushes: Push[];
  closeStatus: string;
  closeStopped: string[];
  deployments: Deployment[];
  runs: LoopsRun[];
  aliveRuns: LoopsRun[];
  /** Deployments some live run is on: they would wake on a request. */
  aliveDeployments: number;
  holding: number;
}

/** The server clock of both emulators: the runner's, moved on by `skew` once the play is over. */
const clock = { skew: 0 };

export const shaOf = (n: number): string => createHash('sha1').update(`push ${n}`).digest('hex');

/** A pull_request event of PR `PR` at head `sha`, as the runner describes it to job `job`, step `action`. */
export function context(sha: string, job: string, action: string, workflow: string, what: string): Pick<RunnerOptions, 'env' | 'event'> {
  return {
    env: {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: `refs/pull/${PR}/merge`,
      GITHUB_SHA: 'f00d000000000000000000000000000000000000',
      GITHUB_REPOSITORY: REPO,
      GITHUB_JOB: job,
      GITHUB_ACTION: action,
      GITHUB_RUN_ID: String(Number.parseInt(sha.slice(0, 6), 16)),
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKFLOW_REF: `${REPO}/.github/workflows/${workflow}@refs/pull/${PR}/merge`,
    },
    event: {
      action: what,
      number: PR,
      pull_request: { number: PR, state: what === 'closed' ? 'closed' : 'open', head: { sha, ref: 'feature', repo: { fork: false } } },
    },
  };
}

export const ids = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter(Boolean);

export function failure(what: string, step: { code: number | null; stdout: string; outputs: Record<string, string> }): Error {
  const error = step.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? `exit ${step.code}`;
  return new Error(`pr-life: ${what}: status ${step.outputs.status ?? '(none)'}: ${error.slice(0, 300)}`);
}

/** The eval job: GET {openai_base_url}/models every poll interval for EVAL_MS, with the key. */
export async function evaluate(openaiBaseUrl: string): Promise<{ requests: number; misses: number }> {
  const url = `${openaiBaseUrl}/models`;
  const until = Date.now() + EVAL_MS;
  let requests = 0;
  let misses = 0;
  for (;;) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${API_KEY}` } });
    await response.arrayBuffer();
    requests++;
    if (response.status !== 200) misses++;
    if (Date.now() + POLL_MS > until) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return { requests, misses };
}

class Play {
  readonly pushes: Push[] = [];
  closeStatus = 'nothing on close';
  closeStopped: string[] = [];

  private constructor(
    readonly pattern: Pattern,
    readonly emulator: Emulator,
  ) {}

  static async start(pattern: Pattern): Promise<Play> {
    const emulator = await startEmulator({ apiKeys: [API_KEY], scaleDownMsPerSecond: MS_PER_SIM_S, now: () => Date.now() + clock.skew });
    return new Play(pattern, emulator);
  }

  private inputs(extra: Record<string, string | number>): Record<string, string | number> {
    return { api_key: API_KEY, api_base_url: this.emulator.url, ...extra };
  }

  /** One push: launch, eval, and (new) the stop job. */
  async push(n: number): Promise<void> {
    const sha = shaOf(n);
    const old: Record<string, string> = this.pattern === 'old' ? { supersede: 'false', warm_start: 'false' } : {};
    const launch = await runStep({
      inputs: this.inputs({ base_model: BASE_MODEL, lora_rank: 32, wait_for: 'sampler', poll_interval_seconds: POLL_S, ...old }),
      ...context(sha, 'launch', 'loops', 'pr-finetune-eval.yml', n === 1 ? 'opened' : 'synchronize'),
      timeoutMs: 60_000,
    });
    launch.workspace.remove();
    if (launch.outputs.status !== 'ready') throw failure(`${this.pattern} push ${n}: launch`, launch);
    const runId = launch.outputs.run_id as string;
    const evaluated = await this.evaluate(launch.outputs.openai_base_url as string);
    const push: Push = {
      sha,
      runId,
      ...evaluated,
      reusedFrom: launch.outputs.reused_from_run_id ?? '',
      superseded: ids(launch.outputs.superseded_run_ids),
      stopped: [],
    };
    if (this.pattern === 'new') {
      // The stop job: `if: always()`, run_ids from the launch's outputs.
      const spawn = Date.now() + clock.skew;
      const seen = this.emulator.requests.length;
      const stop = await runStep({
        action: 'stop',
        inputs: this.inputs({ run_ids: runId }),
        ...context(sha, 'stop', '__run', 'pr-finetune-eval.yml', 'synchronize'),
      });
      stop.workspace.remove();
      if (stop.code !== 0) throw failure(`new push ${n}: stop job`, stop);
      push.stopStatus = stop.outputs.status;
      push.stopped = ids(stop.outputs.stopped_run_ids);
      const requests = this.emulator.requests.slice(seen);
      const deactivate = requests.find((r) => r.method === 'POST' && r.path === `/v1/loops/runs/${runId}/deactivate`);
      push.stopTimes = { spawn, first: requests[0]?.at ?? Number.NaN, deactivate: deactivate?.at ?? Number.NaN };
    }
    this.pushes.push(push);
  }

  /** The eval job, and when its last request reached this emulator. */
  private async evaluate(openaiBaseUrl: string): Promise<Pick<Push, 'evalEnd' | 'evalRequests' | 'evalMisses'>> {
    const { requests, misses } = await evaluate(openaiBaseUrl);
    const path = new URL(`${openaiBaseUrl}/models`).pathname;
    const seen = this.emulator.requests.filter((r) => r.method === 'GET' && r.path === path);
    return { evalEnd: Math.max(...seen.map((r) => r.at)), evalRequests: requests, evalMisses: misses };
  }

  /** The pull request closes: (new) the stop action on `pull_request: closed`, no selector; (old) nothing. */
  async close(): Promise<void> {
    if (this.pattern === 'old') return;
    const last = this.pushes.at(-1)?.sha ?? shaOf(PUSHES);
    const stop = await runStep({
      action: 'stop',
      inputs: this.inputs({}),
      ...context(last, 'cleanup', 'stop', 'pr-closed-cleanup.yml', 'closed'),
    });
    stop.workspace.remove();
    if (stop.code !== 0) throw failure('new: stop on close', stop);
    this.closeStatus = stop.outputs.status ?? '';
    this.closeStopped = ids(stop.outputs.stopped_run_ids);
  }

  /** GPU accounting, once everything that will stop has stopped. */
  outcome(): Outcome {
    const now = Date.now() + clock.skew;
    const runs = this.emulator.runs();
    const aliveRuns = runs.filter((r) => r.status.name === 'ACTIVE');
    const stoppedBy = new Map<string, string>();
    for (const p of this.pushes) {
      for (const id of p.superseded) stoppedBy.set(id, 'superseded');
      for (const id of p.stopped) stoppedBy.set(id, 'stop job');
    }
    for (const id of this.closeStopped) stoppedBy.set(id, 'stop on close');
    const usage = this.emulator.deployments();
    const deployments = usage.map((d): Deployment => {
      const uses = this.pushes.filter((p) => d.runIds.includes(p.runId)).map((p) => p.evalEnd);
      const lastUse = Math.max(...uses);
      const last = d.gpu.at(-1);
      const gpuEnd = last ? last.to : d.createdAt;
      const gpuMs = d.gpu.reduce((sum, i) => sum + ((i.to ?? now) - i.from), 0);
      const by = d.runIds.map((id) => stoppedBy.get(id)).find(Boolean);
      const endedBy = gpuEnd === undefined ? 'still holding' : (by ?? 'scaled to zero');
      return { id: d.id, runIds: d.runIds, lastUse, gpuEnd, gpuMs, idleMs: Math.max(0, (gpuEnd ?? now) - lastUse), endedBy };
    });
    const aliveDeployments = new Set(usage.filter((d) => d.runIds.some((id) => aliveRuns.some((r) => r.id === id))).map((d) => d.id)).size;
    return {
      pattern: this.pattern,
      pushes: this.pushes,
      closeStatus: this.closeStatus,
      closeStopped: this.closeStopped,
      deployments,
      runs,
      aliveRuns,
      aliveDeployments,
      holding: deployments.filter((d) => d.gpuEnd === undefined).length,
    };
  }
}

/** Real ms, with the simulated minutes they stand for. */
function both(valueMs: number): string {
  const minutes = valueMs / MS_PER_SIM_S / 60;
  return `${realMs(valueMs)} (${minutes.toFixed(minutes < 1 ? 2 : 1)} min)`;
}

function realMs(valueMs: number): string {
  return `${Math.round(valueMs).toLocaleString('en-US')} ms`;
}

/** A ratio, with two significant digits when it is small. */
function fraction(value: number): string {
  return value < 0.1 ? `${value.toPrecision(2)}×` : ratio(value);
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

function counts(values: string[]): string {
  const tally = new Map<string, number>();
  for (const v of values) tally.set(v, (tally.get(v) ?? 0) + 1);
  return [...tally].map(([v, n]) => `${v} ×${n}`).join(', ');
}

function row(o: Outcome): string[] {
  const idle = o.deployments.map((d) => d.idleMs);
  const samplers = counts(o.aliveRuns.map((r) => r.sampler?.status?.name ?? 'no sampler'));
  const stops = o.pushes.flatMap((p) => (p.stopTimes ? [p.stopTimes] : []));
  const stopJob = stops.length
    ? `${realMs(median(stops.map((t) => t.first - t.spawn)))}; ${realMs(median(stops.map((t) => t.deactivate - t.first)))}`
    : 'none';
  return [
    o.pattern,
    String(o.pushes.length),
    String(o.deployments.length),
    both(sum(o.deployments.map((d) => d.gpuMs))),
    idle.map(realMs).join(', '),
    `${both(median(idle))}; ${both(Math.max(...idle))}`,
    both(sum(idle)),
    stopJob,
    counts(o.deployments.map((d) => d.endedBy)),
    `${o.aliveRuns.length}${samplers ? ` (sampler ${samplers})` : ''}`,
    `${o.aliveDeployments} / ${o.holding}`,
  ];
}

export async function prLife(): Promise<Section> {
  clock.skew = 0;
  const plays = await Promise.all((['old', 'new'] as const).map((p) => Play.start(p)));
  try {
    const started = Date.now();
    for (let n = 1; n <= PUSHES; n++) await Promise.all(plays.map((p) => p.push(n)));
    await Promise.all(plays.map((p) => p.close()));
    const playedMs = Date.now() - started;
    // Everything that will stop has stopped one scale-down delay after the close: nothing runs in
    // that hour, so the emulators' clock is moved on by it (and a little) instead of waiting it out.
    clock.skew = SCALE_DOWN_MS + 10 * POLL_MS;
    const [old, neu] = plays.map((p) => p.outcome()) as [Outcome, Outcome];

    const idleNew = neu.deployments.map((d) => d.idleMs);
    const worstNew = Math.max(...idleNew);
    const noneAlive = neu.aliveRuns.length === 0 && neu.aliveDeployments === 0 && neu.holding === 0;
    const promptly = worstNew <= POLL_MS;
    const checks: Check[] = [
      {
        target: `no run alive after the pull request closes, new pattern (${neu.aliveRuns.length} runs, ${neu.holding} deployments holding GPUs)`,
        pass: noneAlive,
      },
      { target: `idle after last use ≤ one poll interval per run, new pattern (worst ${both(worstNew)})`, pass: promptly },
    ];
    const idleOld = old.deployments.map((d) => d.idleMs);
    const table = [
      [
        'pattern',
        'runs',
        'deployments',
        'GPU time',
        'idle after last use, each run',
        'idle per run: median; max',
        'idle total',
        'stop job, median: start-up; its requests',
        'GPUs released by',
        'runs alive at end',
        'deployments alive / holding GPUs at end',
        'target',
        '',
      ],
      [...row(old), '(reported)', ''],
      [...row(neu), 'no run alive; idle ≤ 1 poll interval per run', verdict(noneAlive && promptly)],
      [
        'new ÷ old',
        '',
        '',
        fraction(sum(neu.deployments.map((d) => d.gpuMs)) / sum(old.deployments.map((d) => d.gpuMs))),
        '',
        `${fraction(median(idleNew) / median(idleOld))}; ${fraction(worstNew / Math.max(...idleOld))}`,
        fraction(sum(idleNew) / sum(idleOld)),
        '',
        '',
        '',
        '',
        '(reported)',
        '',
      ],
    ];
    const warm = neu.pushes.filter((p) => p.reusedFrom).length;
    const superseded = sum(neu.pushes.map((p) => p.superseded.length));
    const misses = sum(plays.flatMap((p) => p.pushes.map((x) => x.evalMisses)));
    const notes = [
      `Time scale: ${MS_PER_SIM_S} ms per simulated second (scaleDownMsPerSecond), so scale_down_delay_seconds 3600 = ${seconds(SCALE_DOWN_MS)}, ` +
        `and poll_interval_seconds ${POLL_S} = the default 10 s; the eval lasts ${seconds(EVAL_MS)} (${EVAL_MS / MS_PER_SIM_S} s simulated). ` +
        `Process start-up is not scaled: the stop job's idle is node starting the stop bundle ("start-up": spawn → its first request) and its three requests ` +
        `(list runs, get the run, deactivate), ${seconds(1000)} of which counts as ${1000 / MS_PER_SIM_S} simulated seconds. On GitHub the stop job's own ` +
        'queueing and runner start-up (not simulated) come on top.',
      `The play took ${seconds(playedMs)} of real time; then the emulators' clock was moved on by ${seconds(clock.skew)} (one scale-down delay and 10 poll intervals) ` +
        'instead of waiting it out, since nothing runs after the close, and the GPU time was read.',
      `New pattern: warm start reused a run in ${warm} of ${PUSHES} launches and supersede stopped ${superseded} runs: each push's stop job had ` +
        `stopped its run before the next push, so every launch started cold. On close, the stop action answered ${neu.closeStatus}` +
        `${neu.closeStopped.length ? ` (stopped ${neu.closeStopped.join(', ')})` : ''}.`,
      `Old pattern: nothing stops a run; each one's deployment scaled to zero one scale-down delay after its eval's last request, and the runs stay ACTIVE: ` +
        'a request to their samplers (an eval re-run, anything with the key) wakes them onto GPUs again.',
      `Eval: ${sum(plays.flatMap((p) => p.pushes.map((x) => x.evalRequests)))} GET /v1/models requests over both patterns, ${misses} not answered 200.`,
      'Both patterns ran side by side in one process, push N of each at the same time, on 2 cores shared with other people’s test runs.',
    ];
    return {
      title: "6. A pull request's life",
      about:
        `${PUSHES} pushes of one pull request, each: launch (wait_for sampler) → eval (GET /v1/models every poll interval for a fixed time) → next push; then the pull request closes. ` +
        "**old**: launch only, supersede and warm_start false, nothing on close. **new**: the stop action with the launch's run_ids after each eval (the `if: always()` stop job), " +
        'the stop action on `pull_request: closed`, supersede and warm start on their defaults. Each pattern on a fresh emulator; bundles run as the runner runs them. ' +
        'Idle after last use = when the deployment released its GPUs − its eval\'s last request (real ms, simulated minutes in brackets); "alive" = run ACTIVE, ' +
        'or its deployment holding GPUs, once everything that will stop has stopped.',
      table,
      checks,
      notes,
    };
  } finally {
    await Promise.all(plays.map((p) => p.emulator.close()));
  }
}
