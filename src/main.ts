// The whole step, as SPEC.md tells it: inputs → preflight → session → run (exactly once) →
// wait → outputs, summary and comment. What the step learns goes into one record; a failure
// once the run exists stops the run (deactivate_on_failure); the report is written from the record.

import * as core from '@actions/core';
import { type GithubContext, defaultRunName, readContext } from './context.js';
import { CancelledError, RunFailure, UserError, errorMessage } from './core/errors.js';
import { type Log, actionsLog } from './core/log.js';
import { type Clock, realClock } from './core/retry.js';
import { neutralise } from './core/text.js';
import { plannedRequests, renderPlan } from './dry-run.js';
import { type Settings, parseInputs } from './inputs.js';
import { type CreatedRun, type SessionChoice, buildRunBody, createRunOnce, createdAfterNow, ensureSession, sweepDuplicates } from './launch.js';
import type { CreateRunBody, LoopsClient } from './loops/client.js';
import type { Run } from './loops/types.js';
import { preflight } from './preflight.js';
import { upsertComment } from './report/comment.js';
import { Outputs, type Status, runOutputs } from './report/outputs.js';
import { renderErrorSummary, renderSummary } from './report/summary.js';
import { legOf } from './run-name.js';
import { type CreateIntent, HURRY, makeClient, maskSecrets, policyOf, redact, saveLaunchState, stopRun } from './shared.js';
import { type WaitResult, waitForReady } from './wait.js';

export interface RunOptions {
  env?: Record<string, string | undefined>;
  clock?: Clock;
  /** Aborted when the runner cancels the workflow (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  log?: Log;
}

/** What the step learned, in the order it learned it. */
interface StepRecord {
  status: Status;
  settings?: Settings;
  ctx?: GithubContext;
  client?: LoopsClient;
  session?: SessionChoice;
  body?: CreateRunBody;
  intent?: CreateIntent;
  created?: CreatedRun;
  run?: Run;
  waited?: WaitResult;
  message?: string;
}

interface Deps {
  env: Record<string, string | undefined>;
  clock: Clock;
  signal?: AbortSignal;
  log: Log;
  outputs: Outputs;
  secrets: string[];
}

export async function run(options: RunOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const deps: Deps = {
    env,
    clock: options.clock ?? realClock,
    signal: options.signal,
    log: options.log ?? actionsLog,
    outputs: new Outputs((name, value) => core.setOutput(name, value)),
    secrets: maskSecrets(env),
  };
  const step: StepRecord = { status: 'error' };
  try {
    await launch(step, deps);
    if (step.status === 'launched' && step.client && step.settings && step.run && step.settings.waitFor !== 'none') {
      await waitUntilReady(step, deps, step.client, step.settings, step.run);
    }
  } catch (error) {
    await fail(step, error, deps);
  } finally {
    await finish(step, deps);
  }
}

async function launch(step: StepRecord, deps: Deps): Promise<void> {
  const { env, clock, signal, log, outputs } = deps;
  const settings = (step.settings = checkedInputs(env, log));
  const ctx = (step.ctx = readContext(env));
  const runName = settings.runName ?? defaultRunName(ctx, clock.random);
  outputs.set({ run_name: runName, base_model: settings.baseModel });
  if (settings.dryRun) {
    log.info(renderPlan(settings, plannedRequests(settings, runName)));
    step.status = 'dry_run';
    return;
  }
  const client = (step.client = makeClient(settings, clock, log));
  if (settings.preflight) await preflight(client, settings, log, { signal });
  if (signal?.aborted) throw new CancelledError('preflight');
  const session = (step.session = await ensureSession(client, settings, { signal }));
  outputs.set({ session_id: session.id, session_created: String(session.created) });
  log.info(`${session.created ? 'Created' : 'Reusing'} session ${session.id}`);
  if (signal?.aborted) throw new CancelledError('create run');
  await createTheRun(step, deps, client, settings, buildRunBody(settings, session.id, runName));
}

async function createTheRun(step: StepRecord, deps: Deps, client: LoopsClient, settings: Settings, body: CreateRunBody): Promise<void> {
  const { clock, signal, log, outputs } = deps;
  const sessionCreated = step.session?.created ?? false;
  const intent: CreateIntent = { sessionId: body.session_id, sessionCreated, name: body.name, createdAfter: createdAfterNow(client) };
  step.body = body;
  step.intent = intent;
  // Saved before the request: if the runner kills this step mid-create, the post step finds the run by listing.
  saveLaunchState({
    stop: settings.deactivateAtJobEnd ? 'job_end' : settings.deactivateOnFailure ? 'failure' : 'never',
    sessionId: body.session_id,
    sessionCreated,
    runName: body.name,
    baseModel: body.base_model,
    createdAfter: new Date(intent.createdAfter).toISOString(),
  });
  const onSend = (): void => saveLaunchState({ sentAt: clock.now() });
  const created = (step.created = await createRunOnce(client, body, { intent, policy: policyOf(settings), clock, log, signal, onSend }));
  const run = (step.run = created.run);
  saveLaunchState({ runId: run.id });
  // trainer_status stays empty unless the trainer is polled (wait_for trainer or all).
  outputs.set({ ...runOutputs(run), trainer_status: '' });
  if (created.problem) throw new RunFailure('failed', `${created.problem}. Run ${run.id} was created all the same`);
  step.status = 'launched';
  log.info(`${created.adopted ? 'Adopted' : 'Created'} run ${run.id} (${run.name ?? body.name}); sampler ${run.sampler?.baseUrl || '(none yet)'}`);
  if (signal?.aborted) throw new RunFailure('cancelled', `The workflow was cancelled while run ${run.id} was being created`);
}

async function waitUntilReady(step: StepRecord, deps: Deps, client: LoopsClient, settings: Settings, run: Run): Promise<void> {
  const { clock, signal, log, outputs } = deps;
  if (settings.waitFor === 'none') return;
  const what = {
    sampler: 'the sampler to be ACTIVE',
    trainer: 'the trainer to be RUNNING',
    all: 'the sampler to be ACTIVE and the trainer RUNNING',
  }[settings.waitFor];
  log.info(`Waiting up to ${settings.waitTimeoutSeconds}s for ${what}`);
  const waited = (step.waited = await waitForReady({
    client,
    waitFor: settings.waitFor,
    initial: run,
    timeoutMs: settings.waitTimeoutSeconds * 1000,
    intervalMs: settings.pollIntervalSeconds * 1000,
    clock,
    signal,
    log,
    onObservation: (obs) =>
      outputs.set({ ...runOutputs(obs.run), ...(obs.trainerStatus !== undefined ? { trainer_status: obs.trainerStatus } : {}) }),
  }));
  step.run = waited.run;
  if (waited.outcome === 'ready') {
    step.status = 'ready';
    log.info(`Run ${run.id} is ready after ${Math.round(waited.elapsedMs / 1000)}s; sampler ${waited.run.sampler?.baseUrl ?? ''}`);
    return;
  }
  const verb = { failed: 'failed', timed_out: 'timed out', cancelled: 'was cancelled' }[waited.outcome];
  throw new RunFailure(waited.outcome, `Run ${run.id} ${verb}: ${waited.reason}`);
}

function checkedInputs(env: Record<string, string | undefined>, log: Log): Settings {
  const parsed = parseInputs((name) => core.getInput(name), env);
  for (const warning of parsed.warnings) log.warning(warning);
  if (!parsed.ok) throw new UserError(`Invalid inputs; nothing was sent:\n${parsed.errors.map((e) => `- ${e}`).join('\n')}`);
  return parsed.settings;
}

async function fail(step: StepRecord, error: unknown, deps: Deps): Promise<void> {
  let text = errorMessage(error);
  if (error instanceof RunFailure) step.status = error.status;
  else if (error instanceof CancelledError) step.status = 'cancelled';
  else if (step.run) step.status = 'failed';
  // Once a run exists, a step that does not end launched or ready must not leave it running.
  if (step.run && step.client && step.settings && step.status !== 'launched' && step.status !== 'ready') {
    text += `. ${await stopAfterFailure(step, deps.log, step.client, step.settings, step.run)}`;
  }
  step.message = redact(text, deps.secrets);
  core.setFailed(neutralise(step.message));
}

/** Deactivates the run when deactivate_on_failure is on; returns a sentence for the error. */
async function stopAfterFailure(step: StepRecord, log: Log, client: LoopsClient, settings: Settings, run: Run): Promise<string> {
  if (!settings.deactivateOnFailure) {
    log.warning(`Run ${run.id} is still running (deactivate_on_failure is false).`);
    return 'The run was left running (deactivate_on_failure: false).';
  }
  try {
    const outcome = run.status === 'INACTIVE' ? 'already_stopped' : await stopRun(client, run.id, step.status === 'cancelled' ? { hurry: HURRY } : {});
    saveLaunchState({ stopped: true });
    if (outcome === 'already_stopped') {
      log.info(`Run ${run.id} was already stopped (status ${step.status})`);
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

async function finish(step: StepRecord, deps: Deps): Promise<void> {
  const { outputs, log } = deps;
  outputs.set({ status: step.status });
  // For the post step: a run whose main step never got here (killed while cancelling) is stopped there.
  saveLaunchState({ status: step.status });
  const { client, run, body, created, settings } = step;
  if (client && run && body && step.intent && settings && created?.resentAt !== undefined) {
    const timeoutMs = settings.requestTimeoutSeconds * 1000;
    await sweepDuplicates(client, run, body, { ...deps, intent: step.intent, policy: policyOf(settings), resentAt: created.resentAt, timeoutMs });
  }
  await report(step, log);
  client?.dispose();
}

async function report(step: StepRecord, log: Log): Promise<void> {
  const { settings, ctx, run } = step;
  if (!settings) {
    if (step.message) await writeSummary(renderErrorSummary(step.message));
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
    samplerStatus: step.waited?.samplerStatus ?? run?.sampler?.status,
    trainerStatus: step.waited?.trainerStatus,
    message: step.message,
  };
  await writeSummary(renderSummary({ ...data, timeToReadyMs: step.status === 'ready' ? step.waited?.elapsedMs : undefined }));
  if (settings.commentOnPr && !settings.dryRun && ctx) {
    await upsertComment(ctx, settings.githubToken, { ...data, leg: legOf(ctx, settings) }, log, settings.requestTimeoutSeconds * 1000);
  }
}

async function writeSummary(html: string): Promise<void> {
  try {
    await core.summary.addRaw(html).write();
  } catch (error) {
    core.debug(`job summary not written: ${errorMessage(error)}`);
  }
}
