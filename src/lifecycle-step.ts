// The launch step's side of the run's life (the rules are lifecycle.ts's): which of adoption, warm
// start and supersede this event turns on, whether this commit is still the pull request's head,
// the look before the create, and the sweeps after it. What the step learns goes into its record.

import { CancelledError, errorMessage } from './core/errors.js';
import type { Log } from './core/log.js';
import type { GithubContext } from './context.js';
import { listRunsView } from './holders.js';
import { type Settings, isOn } from './inputs.js';
import { type LaunchPlan, planLaunch, rivalOf, slotRows, stopLeftovers, supersede } from './lifecycle.js';
import type { LoopsClient } from './loops/client.js';
import type { Run } from './loops/types.js';
import { type Prediction, warmStartGate } from './modes.js';
import { type Freshness, freshnessOf, readPullHead } from './pull-head.js';
import { UNKNOWN_HEAD } from './run-name.js';
import { stopRun } from './shared.js';
import type { Deps, StepRecord } from './step.js';

/** A line for the summary, once. */
function note(step: StepRecord, line: string): void {
  if (!step.notes.includes(line)) step.notes.push(line);
}

/** What the step learned about its commit being the head (unknown off pull requests). */
const freshnessIn = (step: StepRecord): Freshness => step.freshness ?? { state: 'unknown', why: 'not a pull request event' };

export interface Lifecycle {
  supersede: boolean;
  warmStart: boolean;
  adopt: boolean;
}

/**
 * Supersede, warm start and adoption need the default run name (it says where a run comes from)
 * and, on a pull request, its head commit: without it they are off, never guessed. A stale step
 * (a newer commit is the head) neither warm-starts nor supersedes.
 */
export function lifecycleOf(settings: Settings, ctx: GithubContext, freshness?: Freshness): Lifecycle {
  const onPr = ctx.pullRequest !== undefined;
  const on = settings.runName === undefined && !(onPr && ctx.pullRequest?.headSha === undefined);
  const fresh = freshness?.state !== 'stale';
  return {
    supersede: on && fresh && isOn(settings.supersede, onPr),
    warmStart: on && fresh && isOn(settings.warmStart, onPr) && !settings.reuseFromRunId && !settings.reuseFromSessionId,
    adopt: on && settings.adoptOnRerun,
  };
}

/** Warm start only when the run will be dedicated anyway (modes.ts): a reuse makes a run dedicated. */
export function gateWarmStart(step: StepRecord, log: Log, settings: Settings, life: Lifecycle, prediction?: Prediction): Lifecycle {
  const gate = life.warmStart && prediction ? warmStartGate(settings, prediction) : { allowed: true as const };
  if (gate.allowed) return life;
  step.warmStart = `skipped: ${gate.why}`;
  log.info(`warm_start: skipped: ${gate.why}`);
  return { ...life, warmStart: false };
}

/**
 * On an event about a pull request: its current head, read with github_token (not in a dry run,
 * which sends nothing). It fills in the head of an event that does not name one (an issue comment),
 * and tells a stale step from a current one. Said in the log and the summary when it matters.
 */
export async function checkHead(step: StepRecord, deps: Deps, ctx: GithubContext, settings: Settings): Promise<Freshness | undefined> {
  const pr = ctx.pullRequest;
  if (!pr || settings.dryRun) return undefined;
  // Needed to name the run when the event does not name the head; else only before a warm start or a supersede.
  const wanted = lifecycleOf(settings, ctx);
  if (pr.headSha && !wanted.warmStart && !wanted.supersede) return undefined;
  const read = await readPullHead(ctx, settings.githubToken, settings.requestTimeoutSeconds * 1000);
  const freshness = freshnessOf(pr.headSha, read);
  const say = (line: string, warn = true): void => {
    if (warn) deps.log.warning(line);
    else deps.log.info(line);
    note(step, line);
  };
  if (freshness.state === 'stale') {
    say(
      `This step is stale: commit ${freshness.head.slice(0, 7)} is the head of pull request #${pr.number} now, not ` +
        `${(pr.headSha ?? '').slice(0, 7)}; so no warm start and no supersede (a newer push's runs are left alone).`,
    );
  } else if (freshness.state === 'unknown' && !pr.headSha) {
    say(
      `The head commit of pull request #${pr.number} could not be learned (${freshness.why}), so adoption, warm start and supersede are off; ` +
        `the run is named with commit ${UNKNOWN_HEAD}.`,
    );
  } else if (freshness.state === 'unknown') {
    say(
      `Could not check that commit ${(pr.headSha ?? '').slice(0, 7)} is still the head of pull request #${pr.number} (${freshness.why}); ` +
        "runs of other commits created after this commit's first run are taken for a newer push's and left alone.",
      !/no github_token/.test(freshness.why),
    );
  }
  if (!pr.headSha && freshness.state === 'current') pr.headSha = freshness.head;
  return freshness;
}

/** One look at this repository's runs before creating anything (skipped when nothing needs it). */
export async function lookAround(client: LoopsClient, step: StepRecord, deps: Deps, life: Lifecycle): Promise<LaunchPlan> {
  const empty: LaunchPlan = { leftovers: [], notes: [] };
  if ((!life.adopt && !life.warmStart) || !step.identity) return empty;
  try {
    const plan = await planLaunch(client, step.identity, { ...life, freshness: freshnessIn(step), log: deps.log, call: { signal: deps.signal } });
    for (const line of plan.notes) {
      deps.log.info(line);
      note(step, line);
    }
    return plan;
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    deps.log.warning(`Could not list runs, so warm_start and adopt_on_rerun were skipped: ${errorMessage(error)}`);
    return empty;
  }
}

/**
 * Right after the create: yield to a run of this leg and commit that a concurrent workflow run
 * made first (then this step adopts it), stop what else holds GPUs for this leg and commit, and
 * supersede this leg's runs from older pushes. Returns the run this step ends up with.
 */
export async function afterCreate(
  client: LoopsClient,
  step: StepRecord,
  deps: Deps,
  plan: LaunchPlan,
  life: Lifecycle,
): Promise<Run | undefined> {
  const { identity: me, run: mine } = step;
  if (!me || !mine) return undefined;
  const { log, signal } = deps;
  let kept = mine;
  // One look at the runs serves both the yield and supersede's first pass.
  const created = life.adopt && step.created && !step.created.adopted;
  const view = created || life.supersede ? await listRunsView(client, { signal }).catch(() => undefined) : undefined;
  if (created && view) {
    const rival = rivalOf(view, me, mine);
    if (rival && (await stopRun(client, mine.id, { signal, check: true }).catch(() => undefined))) {
      log.warning(
        `Run ${rival.id} of this leg and commit was created by another workflow run just before this step's run ${mine.id}; ` +
          `${mine.id} was deactivated and ${rival.id} adopted (one run per leg and commit). Matrix legs that share a name need leg_key.`,
      );
      kept = rival;
    }
  }
  const stopped = await stopLeftovers(client, plan.leftovers, kept, log, { signal });
  step.supersede = { stopped, ours: [...stopped], deferred: new Set(plan.reuseFrom ? [plan.reuseFrom.id] : []) };
  if (life.supersede) {
    const first = await supersede(client, me, kept, {
      // The look is stale once this step stopped a run of its own (a yield, a leftover): read again.
      view: kept === mine && stopped.length === 0 ? view : undefined,
      legs: 'this',
      freshness: freshnessIn(step),
      log,
      call: { signal },
      deferred: step.supersede.deferred,
    });
    step.supersede.stopped.push(...first.stopped);
    step.supersede.ours.push(...first.ours);
    if (first.note) note(step, first.note);
  }
  deps.outputs.set({ superseded_run_ids: step.supersede.stopped.join(' ') });
  return kept === mine ? undefined : kept;
}

/** The second pass of supersede: the slot's other legs, once this step's wait is over (the head read again first). */
export async function supersedeOthers(step: StepRecord, deps: Deps, life: Lifecycle | undefined): Promise<void> {
  const { client, identity, run, supersede: first, ctx, settings } = step;
  if (!client || !identity || !run || !first || !life?.supersede) return;
  if (step.freshness?.state === 'current' && ctx && settings) {
    const again = freshnessOf(ctx.pullRequest?.headSha, await readPullHead(ctx, settings.githubToken, settings.requestTimeoutSeconds * 1000));
    if (again.state === 'stale') {
      deps.log.warning(
        `supersede: commit ${again.head.slice(0, 7)} became the pull request's head while this step ran; the slot's other legs are left to it`,
      );
      return;
    }
  }
  const { stopped, ours, runs } = await supersede(client, identity, run, {
    legs: 'others',
    freshness: freshnessIn(step),
    log: deps.log,
    deferred: first.deferred,
  });
  first.stopped.push(...stopped);
  first.ours.push(...ours);
  deps.outputs.set({ superseded_run_ids: first.stopped.join(' ') });
  step.runs = slotRows(runs, identity, run, first.ours);
}
