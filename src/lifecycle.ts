// A run's life in a pull request, around the create. Before it: adopt a live, healthy run of this
// leg and commit (an earlier attempt's, or an earlier workflow run's at the same commit), or start
// warm from the newest live run of this leg from an older push. After it: yield to such a run made
// meanwhile by a concurrent workflow run, stop what else holds GPUs for this leg and commit, and
// supersede older pushes' live runs of the same place and slot. A run of another commit counts as
// an older push only when this step is not stale (pull-head.ts); when that is unknown, a run made
// after this commit's earliest run is a newer push's, and is never touched. Names this action cannot
// parse as this repository's are never touched.

import { errorMessage } from './core/errors.js';
import type { Log } from './core/log.js';
import { type RunsView, holderOf, isHealthy, isLive, listRunsView, unchecked, uncheckedNote } from './holders.js';
import type { CallOptions, LoopsClient } from './loops/client.js';
import type { Run } from './loops/types.js';
import type { Freshness } from './pull-head.js';
import type { RunRow } from './report/comment.js';
import { type RunIdentity, ownIdentity, parseRunName } from './run-name.js';
import { stopRun } from './shared.js';

export interface OurRun {
  run: Run;
  id: RunIdentity;
}

const created = (run: Run): number => Date.parse(run.createdAt);
const newestFirst = (a: OurRun, b: OurRun): number => created(b.run) - created(a.run);
/** Earliest first; ties by id, so that every step orders the same runs the same way. */
const earliestFirst = (a: OurRun, b: OurRun): number => created(a.run) - created(b.run) || (a.run.id < b.run.id ? -1 : 1);

/** The runs of this repository, with the identity their names carry. */
export function ourRuns(runs: Run[], me: Pick<RunIdentity, 'owner' | 'repo'>): OurRun[] {
  return runs.flatMap((run) => {
    const id = ownIdentity(run.name, me);
    return id ? [{ run, id }] : [];
  });
}

/**
 * Which runs of another commit are from an older push (may be warm-started from or superseded):
 * none when this step is stale; all when this commit is the head; when that is unknown, those made
 * before this commit's earliest run in this place (any slot, leg or attempt) — a run made after it
 * belongs to a newer push. A run whose time cannot be read is never taken for an older push's.
 */
export function olderPush(place: OurRun[], me: RunIdentity, freshness: Freshness): (o: OurRun) => boolean {
  if (freshness.state !== 'unknown') return () => freshness.state === 'current';
  const times = place.filter((o) => o.id.sha7 === me.sha7).map((o) => created(o.run));
  const earliest = times.length ? Math.min(...times) : Infinity;
  return (o) => created(o.run) < earliest;
}

export interface LaunchPlan {
  /** A live, healthy run of this leg and commit: adopt it, create nothing. */
  adopt?: Run;
  /** The run to send as reuse_from_run_id (warm start). */
  reuseFrom?: Run;
  /** What else holds GPUs for this leg and commit (older attempts' runs, their continuations): stopped once this step has its run. */
  leftovers: Run[];
  /** Lines for the log and the summary (continuations that could not be checked, a skipped warm start). */
  notes: string[];
}

export interface PlanOptions {
  /** adopt_on_rerun: one run per leg and commit. */
  adopt: boolean;
  warmStart: boolean;
  freshness: Freshness;
  log: Log;
  call?: CallOptions;
}

/** One look at the runs before the create. */
export async function planLaunch(client: LoopsClient, me: RunIdentity, opts: PlanOptions): Promise<LaunchPlan> {
  const view = await listRunsView(client, opts.call);
  const place = ourRuns(view.runs, me).filter((o) => o.id.place === me.place);
  const leg = place.filter((o) => o.id.leg === me.leg);
  const plan: LaunchPlan = { leftovers: [], notes: [] };
  const thisCommit = leg.filter((o) => o.id.sha7 === me.sha7).sort(earliestFirst);
  if (opts.adopt) {
    plan.adopt = thisCommit.find((o) => isHealthy(o.run))?.run;
    const holders = thisCommit.filter((o) => o.run !== plan.adopt).map((o) => holderOf(o.run, view.runs));
    plan.leftovers = [...new Map(holders.flatMap((h) => (h && h !== plan.adopt ? [[h.id, h] as const] : []))).values()];
  }
  if (!plan.adopt && opts.warmStart) plan.reuseFrom = warmSource(me, { place, leg }, view, plan, opts);
  if (plan.reuseFrom) plan.leftovers = plan.leftovers.filter((r) => r.id !== plan.reuseFrom?.id);
  const note = uncheckedNote(
    unchecked(
      leg.map((o) => o.run),
      view,
    ),
    view,
  );
  if (note) plan.notes.push(note);
  return plan;
}

/**
 * The warm start's source: this leg and commit's own leftover first (it must go anyway), else the
 * newest older push's run. Which push is older is judged across the whole place (every slot and
 * leg), as supersede judges it: a late leg of an old push must not take a newer push's run.
 */
function warmSource(
  me: RunIdentity,
  runs: { place: OurRun[]; leg: OurRun[] },
  view: RunsView,
  plan: LaunchPlan,
  opts: PlanOptions,
): Run | undefined {
  const own = plan.leftovers.find(isHealthy);
  if (own) return own;
  const { place, leg } = runs;
  const older = olderPush(place, me, opts.freshness);
  const others = leg.filter((o) => o.id.sha7 !== me.sha7 && older(o)).sort(newestFirst);
  const newest = others.find((o) => holderOf(o.run, view.runs));
  if (!newest) return undefined;
  const twins = others.filter((o) => o.id.sha7 === newest.id.sha7 && o.id.attempt === newest.id.attempt && isLive(o.run));
  if (new Set(twins.map((o) => o.run.name)).size < twins.length) {
    opts.log.warning(`warm_start: several live runs share this leg on commit ${newest.id.sha7}; set leg_key to tell them apart. Starting cold.`);
    return undefined;
  }
  return holderOf(newest.run, view.runs);
}

/**
 * After the create: a live, healthy run of this leg and commit made before `mine` by another step
 * (a second workflow run at this commit, started at the same time as this one). The later run
 * yields to the earlier, so that both steps keep the same one.
 */
export function rivalOf(view: RunsView, me: RunIdentity, mine: Run): Run | undefined {
  const runs = view.runs.some((r) => r.id === mine.id) ? view.runs : [mine, ...view.runs];
  const same = ourRuns(runs, me).filter((o) => o.id.place === me.place && o.id.leg === me.leg && o.id.sha7 === me.sha7);
  const first = same.filter((o) => isHealthy(o.run) || o.run.id === mine.id).sort(earliestFirst)[0];
  return first && first.run.id !== mine.id ? first.run : undefined;
}

/** Stops what else held GPUs for this leg and commit (never what runs on `mine`'s deployment). Returns what it stopped. */
export async function stopLeftovers(client: LoopsClient, leftovers: Run[], mine: Run, log: Log, call: CallOptions = {}): Promise<string[]> {
  const stopped: string[] = [];
  for (const run of leftovers) {
    if (run.id === mine.id || (run.deploymentId && run.deploymentId === mine.deploymentId)) continue;
    try {
      const outcome = await stopRun(client, run.id, { ...call, check: true });
      if (outcome === 'stopped') stopped.push(run.id);
      const what = parseRunName(run.name) ? `an earlier run, ${run.name ?? ''}` : "a continuation of an earlier run's";
      log.info(
        `One run per leg and commit: run ${run.id} (${what}) also served this leg and commit; ${outcome === 'stopped' ? 'deactivated' : 'already stopped'}`,
      );
    } catch (error) {
      log.warning(`Could not deactivate run ${run.id}, which also served this leg and commit: ${errorMessage(error)}`);
    }
  }
  return stopped;
}

export interface Superseded {
  /** The runs (or continuations) deactivated. */
  stopped: string[];
  /** Our runs whose GPUs that freed (a run itself, or the run a stopped continuation continued). */
  ours: string[];
  /** This repository's runs after the sweep, for the pull-request comment. */
  runs: Run[];
  /** Continuations that could not be checked. */
  note?: string;
}

export interface SupersedeOptions {
  legs: 'this' | 'others';
  freshness: Freshness;
  log: Log;
  call?: CallOptions;
  /** Left to the second pass: the warm start's source, which may still be handing its deployment over. */
  deferred?: ReadonlySet<string>;
  /** The runs as a list just read showed them (this step's own look after its create), to save a request. */
  view?: RunsView;
}

/**
 * Deactivates the live runs of the same place and slot from an older push created before `mine`
 * (or the continuation of such a run), in two passes: `this` leg's right after the create, the
 * slot's `other` legs at the end of the step — so that matrix siblings still launching can warm-
 * start from them, and no sweep tears down a deployment a sibling is taking over. Never a run of
 * this commit (matrix siblings), never one on `mine`'s deployment, never an INACTIVE one. Never
 * throws: a failure is a warning.
 */
export async function supersede(client: LoopsClient, me: RunIdentity, mine: Run, opts: SupersedeOptions): Promise<Superseded> {
  const { log, legs, deferred = new Set<string>() } = opts;
  let view: RunsView;
  try {
    view = opts.view ?? (await listRunsView(client, opts.call));
  } catch (error) {
    log.warning(`supersede: could not list runs, so older runs of this pull request were left alone: ${errorMessage(error)}`);
    return { stopped: [], ours: [], runs: [] };
  }
  const place = ourRuns(view.runs.some((r) => r.id === mine.id) ? view.runs : [mine, ...view.runs], me).filter((o) => o.id.place === me.place);
  const older = olderPush(place, me, opts.freshness);
  const candidates = place.filter((o) => o.id.slot === me.slot && o.id.sha7 !== me.sha7 && created(o.run) < created(mine) && older(o));
  const result: Superseded = {
    stopped: [],
    ours: [],
    runs: view.runs,
    note: uncheckedNote(
      unchecked(
        candidates.map((o) => o.run),
        view,
      ),
      view,
    ),
  };
  for (const o of candidates) {
    const holder = holderOf(o.run, view.runs);
    if (!holder || (holder.deploymentId && holder.deploymentId === mine.deploymentId)) continue;
    // This pass: this leg's runs first; other legs, and the warm start's source (a run or its continuation), at the end.
    const late = o.id.leg !== me.leg || deferred.has(o.run.id) || deferred.has(holder.id);
    if (late !== (legs === 'others')) continue;
    const what = holder === o.run ? `run ${o.run.id}` : `run ${holder.id} (continuing run ${o.run.id})`;
    try {
      const outcome = await stopRun(client, holder.id, { ...opts.call, check: true });
      if (outcome === 'stopped') {
        result.stopped.push(holder.id);
        result.ours.push(o.run.id);
      }
      log.info(
        `supersede: ${what} of commit ${o.id.sha7} is superseded by run ${mine.id}; ${outcome === 'stopped' ? 'deactivated' : 'already stopped'}`,
      );
    } catch (error) {
      log.warning(`supersede: could not deactivate ${what}: ${errorMessage(error)}`);
    }
  }
  return result;
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
