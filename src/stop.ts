// The stop action (its own bundle): select → stop → report. It stops the runs its selectors
// choose (run_ids, pull_request, older_than_minutes), each with its continuation, and never a run
// whose name is not this repository's unless run_ids names it. Idempotent: a run already stopped
// (404, 409, INACTIVE) is reported as such, so two stop steps on the same runs never fail each other.

import * as core from '@actions/core';
import { type GithubContext, readContext } from './context.js';
import { ApiError, RetriesExhaustedError, UserError, errorMessage } from './core/errors.js';
import { type Log, actionsLog } from './core/log.js';
import { type Clock, realClock } from './core/retry.js';
import { formatDuration, neutralise } from './core/text.js';
import { type RunsView, holderOf, listRunsView, unchecked, uncheckedNote } from './holders.js';
import { ourRuns } from './lifecycle.js';
import { CLOCK_SKEW_MS, type LoopsClient } from './loops/client.js';
import type { Run } from './loops/types.js';
import { Outputs, STOP_OUTPUT_NAMES, type StopOutputName } from './report/outputs.js';
import { markRunsStopped } from './report/pull-request.js';
import { type StopRow, renderStopSummary } from './report/summary.js';
import { makeClient, maskSecrets, redact, stopRun, writeSummary } from './shared.js';
import { type StopSettings, parseStopInputs } from './stop-inputs.js';

export interface StopOptions {
  env?: Record<string, string | undefined>;
  clock?: Clock;
  log?: Log;
}

type StopStatus = 'stopped' | 'nothing_to_stop' | 'partial' | 'dry_run' | 'error';

interface Selectors {
  runIds: string[];
  pullRequest?: number;
  olderThanMinutes?: number;
}

/** A run the selectors chose, and what holds its GPUs now (itself, its continuation, or nothing). */
interface Choice {
  id: string;
  run?: Run;
  why: string;
  holder?: Run;
  /** A run named in run_ids that could not be looked up (not a 404): reported as failed, the rest goes on. */
  lookup?: string;
}

export async function runStop(options: StopOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? realClock;
  const log = options.log ?? actionsLog;
  const secrets = maskSecrets(env);
  const outputs = new Outputs<StopOutputName>(STOP_OUTPUT_NAMES, (name, value) => core.setOutput(name, value));
  let status: StopStatus = 'error';
  let rows: StopRow[] = [];
  let client: LoopsClient | undefined;
  let message: string | undefined;
  try {
    const settings = checkedInputs(env, log);
    const ctx = readContext(env);
    const selectors = selectorsOf(settings, ctx);
    client = makeClient(settings, clock, log);
    const choices = await select(client, selectors, ctx, log);
    const selected = [...new Map(choices.flatMap((c) => (c.holder ? [[c.holder.id, c.holder] as const] : []))).values()];
    outputs.set({ selected_run_ids: selected.map((r) => r.id).join(' ') });
    if (settings.dryRun) {
      status = 'dry_run';
      rows = choices.map((c) => row(c, c.holder ? 'would stop' : 'not live: nothing to stop', undefined));
      log.info(`Dry run: would stop ${selected.length ? selected.map((r) => r.id).join(', ') : 'nothing'}`);
      return;
    }
    const results = await stopAll(client, selected, log);
    for (const c of choices) if (c.lookup) results.set(c.id, `failed: could not look it up: ${c.lookup}`);
    const outcome = (c: Choice): string =>
      c.lookup
        ? (results.get(c.id) ?? '')
        : c.holder
          ? (results.get(c.holder.id) ?? '')
          : c.run
            ? 'not live: nothing to stop'
            : 'not found: already gone';
    const now = client.serverNow().ms;
    rows = choices.map((c) => row(c, outcome(c), now));
    const { stopped, already, failed } = sortOut(choices, results);
    outputs.set({ stopped_run_ids: stopped.join(' '), already_stopped_run_ids: already.join(' '), failed_run_ids: failed.join(' ') });
    status = failed.length ? 'partial' : stopped.length ? 'stopped' : 'nothing_to_stop';
    const done = new Set(choices.filter((c) => c.holder && !failed.includes(c.holder.id)).flatMap((c) => [c.id, c.holder?.id ?? c.id]));
    const pr = selectors.pullRequest ?? ctx.pullRequest?.number;
    if (settings.commentOnPr && pr !== undefined && done.size > 0) {
      await markRunsStopped({ ...ctx, pullRequest: { number: pr } }, settings.githubToken, done, log, settings.requestTimeoutSeconds * 1000);
    }
    if (failed.length) throw new Error(`Could not stop ${failed.join(', ')}: ${failed.map((id) => results.get(id)).join('; ')}`);
  } catch (error) {
    message = redact(errorMessage(error), secrets);
    core.setFailed(neutralise(message));
  } finally {
    outputs.set({ status });
    await writeSummary(renderStopSummary(status, rows, message));
    client?.dispose();
  }
}

function checkedInputs(env: Record<string, string | undefined>, log: Log): StopSettings {
  const parsed = parseStopInputs((name) => core.getInput(name), env);
  for (const warning of parsed.warnings) log.warning(warning);
  if (!parsed.ok) throw new UserError(`Invalid inputs; nothing was sent:\n${parsed.errors.map((e) => `- ${e}`).join('\n')}`);
  return parsed.settings;
}

/** The selectors, with the event's pull request when none is given; refused (before any request) when there are none. */
function selectorsOf(settings: StopSettings, ctx: GithubContext): Selectors {
  const pullRequest = settings.pullRequest ?? (settings.runIds.length === 0 ? ctx.pullRequest?.number : undefined);
  if (settings.runIds.length === 0 && pullRequest === undefined && settings.olderThanMinutes === undefined) {
    throw new UserError(
      'No selector: set run_ids, pull_request or older_than_minutes (on a pull_request event, an empty selector means ' +
        "the event's pull request). Nothing was sent; stopping every run was not what you meant.",
    );
  }
  return { runIds: settings.runIds, pullRequest, olderThanMinutes: settings.olderThanMinutes };
}

const NAMED = 'named in run_ids';

/**
 * Every run named in run_ids ends in exactly one of stopped, already stopped (found INACTIVE with
 * nothing holding its GPUs, or gone) and failed, after what holds its GPUs; the holders themselves
 * are listed as they fared.
 */
function sortOut(choices: Choice[], results: Map<string, string>): Record<'stopped' | 'already' | 'failed', string[]> {
  const out = { stopped: new Set<string>(), already: new Set<string>(), failed: new Set<string>() };
  const put = (id: string, result: string): void => {
    const list = result.startsWith('stopped') ? out.stopped : result.startsWith('failed') ? out.failed : out.already;
    if (![out.stopped, out.already, out.failed].some((l) => l.has(id))) list.add(id);
  };
  for (const c of choices) if (c.lookup) put(c.id, 'failed');
  for (const [id, result] of results) put(id, result);
  for (const c of choices) if (c.why === NAMED) put(c.id, c.holder ? (results.get(c.holder.id) ?? 'failed') : 'already stopped');
  return { stopped: [...out.stopped], already: [...out.already], failed: [...out.failed] };
}

async function select(client: LoopsClient, selectors: Selectors, ctx: GithubContext, log: Log): Promise<Choice[]> {
  const view = await listRuns(client);
  const runs = view.runs;
  const [owner = '', repo = ''] = ctx.repository.split('/');
  const choices = new Map<string, Choice>();
  for (const id of selectors.runIds) {
    const listed = runs.find((r) => r.id === id);
    choices.set(id, { id, why: NAMED, ...(listed ? { run: listed } : await lookUp(client, id)) });
  }
  const { pullRequest: pr, olderThanMinutes } = selectors;
  // older_than_minutes narrows what the pull request or the repository selects, never a run named in run_ids.
  // Without the server's clock, ours may run ahead of it: move the cutoff back, so that a fresh run is never taken for an old one.
  const now = client.serverNow();
  const cutoff = olderThanMinutes === undefined ? Infinity : now.ms - (now.known ? 0 : CLOCK_SKEW_MS) - olderThanMinutes * 60_000;
  if (pr !== undefined || (olderThanMinutes !== undefined && selectors.runIds.length === 0)) {
    for (const o of ourRuns(runs, { owner, repo })) {
      if ((pr === undefined || o.id.place === `pr${pr}`) && !choices.has(o.run.id) && Date.parse(o.run.createdAt) <= cutoff)
        choices.set(o.run.id, { id: o.run.id, run: o.run, why: pr ? `pull request #${pr}` : 'this repository' });
    }
  }
  const chosen = [...choices.values()];
  const note = uncheckedNote(
    unchecked(
      chosen.flatMap((c) => (c.run ? [c.run] : [])),
      view,
    ),
    view,
  );
  if (note) log.warning(note);
  return chosen.map((c) => ({ ...c, holder: c.run ? holderOf(c.run, runs) : undefined }));
}

async function listRuns(client: LoopsClient): Promise<RunsView> {
  try {
    return await listRunsView(client);
  } catch (error) {
    const last = error instanceof RetriesExhaustedError ? error.last : error;
    if (last instanceof ApiError && (last.status === 401 || last.status === 403)) {
      throw new Error(`${last.message} The runs to stop cannot be found without listing them, so nothing was stopped.`);
    }
    throw error;
  }
}

/** A run not in the caller's list: looked up by id (404: gone; another failure: said, not fatal). */
async function lookUp(client: LoopsClient, id: string): Promise<{ run?: Run; lookup?: string }> {
  try {
    return { run: await client.getRun(id) };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return {};
    return { lookup: errorMessage(error) };
  }
}

/** Stops each run once; the result per run: "stopped", "already stopped" or "failed: …". */
async function stopAll(client: LoopsClient, runs: Run[], log: Log): Promise<Map<string, string>> {
  const results = new Map<string, string>();
  for (const run of runs) {
    try {
      const outcome = await stopRun(client, run.id, { check: true });
      results.set(run.id, outcome === 'stopped' ? 'stopped' : 'already stopped');
      log.info(outcome === 'stopped' ? `Deactivated run ${run.id} (${run.name ?? ''})` : `Run ${run.id} was already stopped`);
    } catch (error) {
      results.set(run.id, `failed: ${errorMessage(error)}`);
      log.error(`Could not deactivate run ${run.id}: ${errorMessage(error)}`);
    }
  }
  return results;
}

/** A row of the summary; `now` (the server's clock, ms) is given once runs were stopped, for how long each stopped one was up. */
function row(choice: Choice, did: string, now: number | undefined): StopRow {
  const via = choice.holder && choice.holder.id !== choice.id ? ` (its continuation ${choice.holder.id})` : '';
  const createdAt = choice.run?.createdAt ?? '';
  const created = Date.parse(createdAt);
  const upFor = now !== undefined && did.startsWith('stopped') && !Number.isNaN(created) ? formatDuration(now - created) : '';
  return { runId: choice.id, name: choice.run?.name ?? '', createdAt, upFor, why: choice.why, did: `${did}${via}` };
}
