// What the launch step learned (one record, filled in as it goes), and how the step ends: the
// failure path (a run that exists is stopped when deactivate_on_failure says so, then its logs
// are read and the cause named), the duplicate sweep after a re-send, and the report (status and
// failure_reason outputs, summary, comment).

import * as core from '@actions/core';
import type { GithubContext } from './context.js';
import { CancelledError, CapacityError, RunFailure, errorMessage } from './core/errors.js';
import type { Log } from './core/log.js';
import type { Clock } from './core/retry.js';
import { neutralise } from './core/text.js';
import { classify } from './forensics/causes.js';
import { type Findings, actionsPrinter, investigate } from './forensics/investigate.js';
import { causeText, renderFindings } from './forensics/render.js';
import type { LogStream } from './forensics/stream.js';
import type { Settings } from './inputs.js';
import { type CreatedRun, type SessionChoice, sweepDuplicates } from './launch.js';
import type { CreateRunBody, LoopsClient } from './loops/client.js';
import type { Run } from './loops/types.js';
import { describeMode, detectMode } from './modes.js';
import type { RunRow } from './report/comment.js';
import { type OutputName, type Outputs, type Status, openaiBaseUrl, runOutputs } from './report/outputs.js';
import { upsertComment } from './report/pull-request.js';
import { renderErrorSummary, renderSummary } from './report/summary.js';
import type { Freshness } from './pull-head.js';
import type { RunIdentity } from './run-name.js';
import { type CreateIntent, HURRY, policyOf, redact, saveLaunchState, stopRun, writeSummary } from './shared.js';
import type { WaitResult } from './wait.js';

export interface StepRecord {
  status: Status;
  settings?: Settings;
  ctx?: GithubContext;
  identity?: RunIdentity;
  client?: LoopsClient;
  session?: SessionChoice;
  body?: CreateRunBody;
  intent?: CreateIntent;
  created?: CreatedRun;
  run?: Run;
  /** Set when supersede is on: the runs (or continuations) it deactivated so far, and which of ours they were. */
  supersede?: { stopped: string[]; ours: string[]; deferred: ReadonlySet<string> };
  /** This pull request's runs of this slot, for the comment. */
  runs?: RunRow[];
  /** Whether this commit is still the pull request's head (pull-head.ts); undefined off pull requests. */
  freshness?: Freshness;
  /** What the log said that the summary must say too (a stale step, a head or continuations not known). */
  notes: string[];
  waited?: WaitResult;
  /** What warm start did: asked to reuse a run, or why it was skipped (for the summary and comment). */
  warmStart?: string;
  /** show_logs: always — the trainer's lines streamed while waiting. */
  stream?: LogStream;
  message?: string;
  /** Set by the failure path: the cause, and the logs read. */
  findings?: Findings;
}

export interface Deps {
  env: Record<string, string | undefined>;
  clock: Clock;
  signal?: AbortSignal;
  log: Log;
  outputs: Outputs<OutputName>;
  secrets: string[];
  /** The outputs that describe a run, `mode` included (its changes logged). */
  describe: (run: Run) => Partial<Record<OutputName, string>>;
  /** Our clock (ms) when the step began: capacity refusals are retried for wait_timeout_seconds from then. */
  startedAt: number;
}

/** The outputs of a run: what runOutputs reads of it, and the mode its answer shows (re-read on every answer). */
export function describeWith(seeMode: (run: Run) => string): Deps['describe'] {
  return (run) => ({ ...runOutputs(run), mode: seeMode(run) });
}

export async function fail(step: StepRecord, error: unknown, deps: Deps): Promise<void> {
  const began = deps.clock.now();
  let text = errorMessage(error);
  if (error instanceof RunFailure) step.status = error.status;
  else if (error instanceof CancelledError) step.status = 'cancelled';
  else if (step.run || error instanceof CapacityError) step.status = 'failed';
  // Once a run exists, a step that does not end launched or ready must not leave it running.
  if (step.run && step.client && step.settings && step.status !== 'launched' && step.status !== 'ready') {
    text += `. ${await stopAfterFailure(step, deps.log, step.client, step.settings, step.run)}`;
  }
  step.message = redact(text, deps.secrets);
  step.findings = await findOut(step, error, deps, began);
  core.setFailed(neutralise(`${step.message}\n${redact(causeText(step.findings.cause), deps.secrets)}`));
}

/**
 * The cause, with the run's logs when show_logs asks for them: one request timeout for both
 * logs routes; after a cancellation (the runner kills the step about 10 s after SIGINT), what is
 * left of HURRY's time once the run was stopped.
 */
async function findOut(step: StepRecord, error: unknown, deps: Deps, began: number): Promise<Findings> {
  const { settings, run, waited } = step;
  const timeoutMs = (settings?.requestTimeoutSeconds ?? 0) * 1000;
  const deadline = step.status === 'cancelled' ? began + Math.min(HURRY.timeoutMs, timeoutMs) : deps.clock.now() + timeoutMs;
  const lookInto = investigate({
    status: step.status,
    error,
    run,
    client: step.client,
    showLogs: settings?.showLogs ?? 'never',
    trainerStatus: waited?.trainerStatus,
    samplerStatus: waited?.samplerStatus ?? run?.sampler?.status,
    stream: step.stream,
    deadline,
    clock: deps.clock,
    redact: (text) => redact(text, deps.secrets),
    printer: actionsPrinter(deps.log),
  });
  // A fault in reading the evidence must not take the real error's place.
  return lookInto.catch((fault: unknown) => {
    deps.log.debug(`failure forensics: ${errorMessage(fault)}`);
    return { cause: classify({ status: step.status, error }), gathered: [] };
  });
}

/**
 * Deactivates the run when deactivate_on_failure is on; returns a sentence for the error. It looks
 * at the run first: one that went INACTIVE meanwhile may have handed its deployment to a newer
 * push's run (a warm start), which deactivating it would tear down. Blind only if that look fails
 * (or the wait's own reading of the run just failed).
 */
async function stopAfterFailure(step: StepRecord, log: Log, client: LoopsClient, settings: Settings, run: Run): Promise<string> {
  if (!settings.deactivateOnFailure) {
    log.warning(`Run ${run.id} is still running (deactivate_on_failure is false).`);
    return 'The run was left running (deactivate_on_failure: false).';
  }
  try {
    const hurry = step.status === 'cancelled' ? { hurry: HURRY } : {};
    // When the wait ended because reading the run failed or hung, that was the look, and it failed.
    const look = step.waited?.readFailed !== true;
    const outcome = await stopRun(client, run.id, { ...hurry, check: look, blindIfLookFails: true });
    saveLaunchState({ stopped: true });
    if (outcome === 'already_stopped') {
      log.info(`Run ${run.id} was already stopped (status ${step.status}); not deactivated again`);
      return 'The run was already stopped.';
    }
    log.info(`Deactivated run ${run.id} (status ${step.status}) so that no GPU is left running`);
    return 'The run was deactivated.';
  } catch (error) {
    const text = `Could not deactivate run ${run.id}: ${errorMessage(error)}. Deactivate it by hand (POST /v1/loops/runs/${run.id}/deactivate).`;
    log.error(text);
    return text;
  }
}

export async function finish(step: StepRecord, deps: Deps): Promise<void> {
  deps.outputs.set({ status: step.status, failure_reason: step.findings?.cause.reason ?? '' });
  // For the post step: a run whose main step never got here (killed while cancelling) is stopped there.
  saveLaunchState({ status: step.status });
  const { client, run, body, created, settings, intent } = step;
  if (client && run && body && intent && settings && created?.resentAt !== undefined) {
    const timeoutMs = settings.requestTimeoutSeconds * 1000;
    await sweepDuplicates(client, run, body, { ...deps, intent, policy: policyOf(settings), resentAt: created.resentAt, timeoutMs });
  }
  await report(step, deps);
  client?.dispose();
}

async function report(step: StepRecord, { log, secrets }: Deps): Promise<void> {
  const { settings, ctx, run, findings } = step;
  const forensics = (where: 'summary' | 'comment'): string | undefined =>
    findings && renderFindings(findings.cause, findings.gathered, where, (text) => redact(text, secrets));
  if (!settings) {
    if (step.message) await writeSummary(renderErrorSummary(step.message, forensics('summary')));
    return;
  }
  const data = {
    settings,
    status: step.status,
    runId: run?.id,
    runName: run?.name ?? step.body?.name,
    sessionId: step.session?.id,
    sessionCreated: step.session?.created,
    samplerBaseUrl: run?.sampler?.baseUrl,
    openaiBaseUrl: openaiBaseUrl(run?.sampler?.baseUrl),
    samplerModel: step.waited?.model,
    samplerStatus: step.waited?.samplerStatus ?? run?.sampler?.status,
    trainerStatus: step.waited?.trainerStatus,
    mode: run ? describeMode(detectMode(run)) : undefined,
    warmStart: step.warmStart,
    message: step.message,
    notes: step.notes,
  };
  const timeToReadyMs = step.status === 'ready' ? step.waited?.elapsedMs : undefined;
  await writeSummary(renderSummary({ ...data, timeToReadyMs, forensics: forensics('summary') }));
  if (settings.commentOnPr && !settings.dryRun && ctx && step.identity) {
    const comment = { ...data, leg: step.identity.leg, runs: step.runs, forensics: forensics('comment') };
    await upsertComment(ctx, settings.githubToken, comment, log, settings.requestTimeoutSeconds * 1000);
  }
}
