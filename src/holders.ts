// What holds a run's GPUs: the run itself while live, else its continuation — a live run on its
// deployment whose name this action did not write (typically the training script's, made by the
// SDK's reuse). Runs may leave deployment_id null (API since 2026-08-21): their deployment is then
// found in the deployments list by their sampler, and a run whose deployment stays unknown is never
// taken to share one with another (two unknowns are not the same deployment): its continuation
// "could not be checked", which the caller says.

import { ApiError, CancelledError, RetriesExhaustedError, errorMessage } from './core/errors.js';
import { type CallOptions, type LoopsClient, deploymentOf } from './loops/client.js';
import type { Run } from './loops/types.js';
import { detectMode } from './modes.js';
import { parseRunName } from './run-name.js';
import { type StopOutcome, stopRun } from './shared.js';
import { SAMPLER_TERMINAL } from './readiness.js';

/** Live: not INACTIVE (a run from an API without statuses counts as live). */
export const isLive = (run: Run): boolean => run.status !== 'INACTIVE';

/** Live, and its sampler has not failed: a run an eval job could still use. */
export const isHealthy = (run: Run): boolean => isLive(run) && !SAMPLER_TERMINAL.has(run.sampler?.status ?? '');

/** Runs with every deployment that could be learned, and the ids of those whose deployment stays unknown. */
export interface RunsView {
  runs: Run[];
  /** Runs with no deployment_id that the deployments list did not place either. */
  unresolved: Set<string>;
  /** Why the deployments list could not be read, when it could not. */
  why?: string;
}

/**
 * Fills in the deployment of runs that do not name theirs, from one GET /v1/loops/deployments
 * (only when some run needs it). A list that cannot be read leaves them unresolved, with why.
 */
export async function resolveDeployments(client: LoopsClient, runs: Run[], call: CallOptions = {}): Promise<RunsView> {
  // A serverless run has no deployment to look for (modes.ts), and so no continuation on one.
  const missing = runs.filter((r) => !r.deploymentId && detectMode(r) !== 'serverless');
  if (missing.length === 0) return { runs, unresolved: new Set() };
  let deployments;
  try {
    deployments = await client.listDeployments(call);
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    return { runs, unresolved: new Set(missing.map((r) => r.id)), why: errorMessage(error) };
  }
  const filled = runs.map((r) => (missing.includes(r) ? { ...r, deploymentId: deploymentOf(r, deployments)?.id } : r));
  const unresolved = new Set(filled.filter((r) => !r.deploymentId && detectMode(r) !== 'serverless').map((r) => r.id));
  return { runs: filled, unresolved, ...(unresolved.size ? { why: 'not in GET /v1/loops/deployments' } : {}) };
}

/** GET /v1/loops/runs, with deployments resolved. */
export async function listRunsView(client: LoopsClient, call: CallOptions = {}): Promise<RunsView> {
  return resolveDeployments(client, await client.listRuns({}, call), call);
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

/** Our INACTIVE runs whose continuation could not be looked for: their deployment is unknown. */
export function unchecked(ours: Run[], view: RunsView): Run[] {
  return ours.filter((r) => !isLive(r) && view.unresolved.has(r.id));
}

/** The sentence the log and summary give when continuations could not be checked. */
export function uncheckedNote(runs: Run[], view: Pick<RunsView, 'why'>): string | undefined {
  if (runs.length === 0) return undefined;
  return (
    `Continuations could not be checked for run${runs.length === 1 ? '' : 's'} ${runs.map((r) => r.id).join(', ')}: ` +
    `${runs.length === 1 ? 'its' : 'their'} deployment is unknown (deployment_id null, and ${view.why ?? 'not found in the deployments list'}); ` +
    'a training script still running on it would not be stopped here.'
  );
}

export interface HolderStop {
  outcome: StopOutcome;
  /** What was stopped (or found stopped): the run, or its continuation. */
  holder: string;
  /** The run could not be looked at, so it was deactivated without looking. */
  blind?: boolean;
  /** The run is INACTIVE and its deployment unknown: a continuation could not be looked for. */
  note?: string;
}

/**
 * Stops what holds a run's GPUs: the run itself when live, else its continuation; "already
 * stopped" when nothing does. The run's status is looked at first: a run that a newer one replaced
 * is never deactivated (that would tear the newer run's deployment down). Only when that look
 * fails, and `blindIfLookFails` says so (the failure path, the post step), is it deactivated blind.
 */
export async function stopHolder(
  client: LoopsClient,
  runId: string,
  call: CallOptions = {},
  opts: { blindIfLookFails?: boolean } = {},
): Promise<HolderStop> {
  let run: Run;
  try {
    run = await client.getRun(runId, call);
  } catch (error) {
    const last = error instanceof RetriesExhaustedError ? error.last : error;
    if (last instanceof ApiError && (last.status === 404 || last.status === 409)) return { outcome: 'already_stopped', holder: runId };
    if (!opts.blindIfLookFails || last instanceof CancelledError) throw error;
    return { outcome: await stopRun(client, runId, call), holder: runId, blind: true };
  }
  if (isLive(run)) return { outcome: await stopRun(client, runId, call), holder: runId };
  const view = await resolveDeployments(client, [run, ...(await client.listRuns({}, call)).filter((r) => r.id !== run.id)], call);
  const resolved = view.runs[0] ?? run;
  const continuation = continuationOf(resolved, view.runs);
  if (!continuation) return { outcome: 'already_stopped', holder: runId, note: uncheckedNote(unchecked([resolved], view), view) };
  return { outcome: await stopRun(client, continuation.id, { ...call, check: true }), holder: continuation.id };
}
