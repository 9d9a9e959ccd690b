// A run's life in a pull request, around the create: before it, adopt an earlier attempt's live
// run (a re-run) or start warm from the newest live run of the same leg on another commit;
// after it, supersede older live runs of the same place and slot from another commit. A run's
// continuation (a live run on its deployment whose name this action did not write, typically
// the training script's) counts as part of that run. Names this action cannot parse as this
// repository's are never touched.

import { ApiError, errorMessage } from './core/errors.js';
import type { Log } from './core/log.js';
import type { CallOptions, LoopsClient } from './loops/client.js';
import type { Run } from './loops/types.js';
import type { RunRow } from './report/comment.js';
import { type RunIdentity, ownIdentity, parseRunName } from './run-name.js';
import { type StopOutcome, stopRun } from './shared.js';
import { SAMPLER_TERMINAL } from './readiness.js';

export interface OurRun {
  run: Run;
  id: RunIdentity;
}

/** Live: not INACTIVE (a run from an API without statuses counts as live). */
export const isLive = (run: Run): boolean => run.status !== 'INACTIVE';

const newestFirst = (a: OurRun, b: OurRun): number => Date.parse(b.run.createdAt) - Date.parse(a.run.createdAt);

/** The runs of this repository, with the identity their names carry. */
export function ourRuns(runs: Run[], me: Pick<RunIdentity, 'owner' | 'repo'>): OurRun[] {
  return runs.flatMap((run) => {
    const id = ownIdentity(run.name, me);
    return id ? [{ run, id }] : [];
  });
}

/**
 * The live run that continues `run` on its deployment, when `run` itself is INACTIVE: one named by
 * someone else (typically the training script), created after `run` — and only when no newer run of
 * ours came to that deployment since (a warm start), for then the continuation is that one's.
 */
export function continuationOf(run: Run, runs: Run[]): Run | undefined {
  if (isLive(run) || !run.deploymentId) return undefined;
  const created = Date.parse(run.createdAt);
  const here = runs.filter((r) => r.deploymentId === run.deploymentId && r.id !== run.id && Date.parse(r.createdAt) > created);
  if (here.some((r) => parseRunName(r.name) !== undefined)) return undefined;
  return here.filter((c) => isLive(c) && parseRunName(c.name) === undefined).sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
}

/** The run that holds `ours`'s GPUs now: itself when live, else its continuation, else none. */
export function holderOf(ours: Run, runs: Run[]): Run | undefined {
  return isLive(ours) ? ours : continuationOf(ours, runs);
}

/**
 * Stops what holds a run's GPUs: the run itself when live, else its continuation (the training
 * script's run on its deployment); "already stopped" when nothing does. Returns what was stopped.
 */
export async function stopHolder(client: LoopsClient, runId: string, call: CallOptions = {}): Promise<{ outcome: StopOutcome; holder: string }> {
  let run: Run;
  try {
    run = await client.getRun(runId, call);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 409)) return { outcome: 'already_stopped', holder: runId };
    throw error; // Not blind: the run may have been replaced by a newer one since.
  }
  if (isLive(run)) return { outcome: await stopRun(client, runId, call), holder: runId };
  const continuation = continuationOf(run, await client.listRuns({}, call));
  if (!continuation) return { outcome: 'already_stopped', holder: runId };
  return { outcome: await stopRun(client, continuation.id, { ...call, check: true }), holder: continuation.id };
}

export interface LaunchPlan {
  /** An earlier attempt's live run of this leg and commit (a re-run): adopt it, create nothing. */
  adopt?: Run;
  /** The run to send as reuse_from_run_id (warm start). */
  reuseFrom?: Run;
}

export interface PlanOptions {
  adoptOnRerun: boolean;
  warmStart: boolean;
  log: Log;
  call?: CallOptions;
}

/** One look at the runs before the create. */
export async function planLaunch(client: LoopsClient, me: RunIdentity, opts: PlanOptions): Promise<LaunchPlan> {
  const runs = await client.listRuns({}, opts.call);
  const mine = ourRuns(runs, me).filter((o) => o.id.place === me.place && o.id.leg === me.leg);
  const plan: LaunchPlan = {};
  if (opts.adoptOnRerun && me.attempt > 1) {
    const alive = (o: OurRun): boolean => isLive(o.run) && !SAMPLER_TERMINAL.has(o.run.sampler?.status ?? '');
    const earlier = mine.filter((o) => o.id.sha7 === me.sha7 && o.id.attempt < me.attempt && alive(o)).sort(newestFirst);
    if (sharedLeg(earlier)) {
      opts.log.warning(
        `adopt_on_rerun: several live runs share this leg (${earlier.map((o) => o.run.id).join(', ')}); set leg_key to tell them apart. Creating a new run.`,
      );
    } else plan.adopt = earlier[0]?.run;
  }
  if (!plan.adopt && opts.warmStart) {
    const others = mine.filter((o) => o.id.sha7 !== me.sha7).sort(newestFirst);
    const newest = others.find((o) => holderOf(o.run, runs));
    if (newest && sharedLeg(others.filter((o) => o.id.sha7 === newest.id.sha7 && o.id.attempt === newest.id.attempt && isLive(o.run)))) {
      opts.log.warning(
        `warm_start: several live runs share this leg on commit ${newest.id.sha7}; set leg_key to tell them apart. Starting cold.`,
      );
    } else if (newest) plan.reuseFrom = holderOf(newest.run, runs);
  }
  return plan;
}

/** Two live runs with one name: matrix legs that the inputs cannot tell apart. */
function sharedLeg(runs: OurRun[]): boolean {
  const names = runs.map((o) => o.run.name);
  return new Set(names).size < names.length;
}

export interface Superseded {
  /** The runs (or continuations) deactivated. */
  stopped: string[];
  /** Our runs whose GPUs that freed (a run itself, or the run a stopped continuation continued). */
  ours: string[];
  /** This repository's runs after the sweep, for the pull-request comment. */
  runs: Run[];
}

/**
 * Deactivates the live runs of the same place and slot from another commit created before `mine`
 * (or the continuation of such a run), in two passes: `this` leg's right after the create, the
 * slot's `other` legs at the end of the step — so that matrix siblings still launching can warm-
 * start from them, and no sweep tears down a deployment a sibling is taking over. Never a run of
 * this commit (matrix siblings), never one on `mine`'s deployment, never an INACTIVE one. Never
 * throws: a failure is a warning.
 */
export async function supersede(
  client: LoopsClient,
  me: RunIdentity,
  mine: Run,
  legs: 'this' | 'others',
  log: Log,
  call: CallOptions = {},
  /** Left to the second pass: the warm start's source, which may still be handing its deployment over. */
  deferred: ReadonlySet<string> = new Set(),
): Promise<Superseded> {
  let runs: Run[];
  try {
    runs = await client.listRuns({}, call);
  } catch (error) {
    log.warning(`supersede: could not list runs, so older runs of this pull request were left alone: ${errorMessage(error)}`);
    return { stopped: [], ours: [], runs: [] };
  }
  const twins = runs.filter((r) => r.name === mine.name && r.id !== mine.id && isLive(r));
  if (legs === 'this' && twins.length > 0) {
    log.warning(
      `Live runs ${twins.map((r) => r.id).join(', ')} share this run's name (leg and commit): matrix legs the inputs cannot ` +
        'tell apart. Set leg_key (e.g. ${{ toJSON(matrix) }}) so that each leg is superseded, warm-started and adopted on its own.',
    );
  }
  const older = ourRuns(runs, me).filter(
    (o) => o.id.place === me.place && o.id.slot === me.slot && o.id.sha7 !== me.sha7 && Date.parse(o.run.createdAt) < Date.parse(mine.createdAt),
  );
  const stopped: string[] = [];
  const ours: string[] = [];
  for (const o of older) {
    const holder = holderOf(o.run, runs);
    if (!holder || (holder.deploymentId && holder.deploymentId === mine.deploymentId)) continue;
    // This pass: this leg's runs first; other legs, and the warm start's source (a run or its continuation), at the end.
    const late = o.id.leg !== me.leg || deferred.has(o.run.id) || deferred.has(holder.id);
    if (late !== (legs === 'others')) continue;
    const what = holder === o.run ? `run ${o.run.id}` : `run ${holder.id} (continuing run ${o.run.id})`;
    try {
      const outcome = await stopRun(client, holder.id, { ...call, check: true });
      if (outcome === 'stopped') {
        stopped.push(holder.id);
        ours.push(o.run.id);
      }
      log.info(
        `supersede: ${what} of commit ${o.id.sha7} is superseded by run ${mine.id}; ${outcome === 'stopped' ? 'deactivated' : 'already stopped'}`,
      );
    } catch (error) {
      log.warning(`supersede: could not deactivate ${what}: ${errorMessage(error)}`);
    }
  }
  return { stopped, ours, runs };
}

/** This place's runs of this slot for the pull-request comment, newest first; `superseded`: our runs this step superseded. */
export function slotRows(runs: Run[], me: RunIdentity, mine: Run, superseded: string[]): RunRow[] {
  const rows = ourRuns(runs.some((r) => r.id === mine.id) ? runs : [mine, ...runs], me)
    .filter((o) => o.id.place === me.place && o.id.slot === me.slot)
    .sort(newestFirst);
  return rows.map(({ run, id }): RunRow => {
    const holder = holderOf(run, runs);
    let state: RunRow['state'] = holder ? 'live' : 'stopped';
    if (superseded.includes(run.id)) state = 'superseded';
    if (run.id === mine.id) state = 'this run';
    return { id: run.id, sha7: id.sha7, state };
  });
}
