// The whole step, as SPEC.md tells it: inputs → preflight → (adopt an earlier attempt's run, or
// warm start) → session → run, exactly once → supersede older runs → wait → outputs, summary and
// comment. What the step learns goes into one record (step.ts), which also says how it ends.

import * as core from '@actions/core';
import { readContext } from './context.js';
import { CancelledError, RunFailure, UserError } from './core/errors.js';
import { type Log, actionsLog } from './core/log.js';
import { type Clock, realClock } from './core/retry.js';
import { plannedRequests, renderPlan } from './dry-run.js';
import { type Settings, parseInputs } from './inputs.js';
import { buildRunBody, createRunOnce, createdAfterNow, ensureSession } from './launch.js';
import { type Lifecycle, afterCreate, checkHead, gateWarmStart, lifecycleOf, lookAround, supersedeOthers } from './lifecycle-step.js';
import type { CreateRunBody, LoopsClient } from './loops/client.js';
import type { Run } from './loops/types.js';
import { detectMode, modeLogger } from './modes.js';
import { preflight } from './preflight.js';
import { OUTPUT_NAMES, Outputs } from './report/outputs.js';
import { identityOf, writeRunName } from './run-name.js';
import { samplerAsker } from './sampler.js';
import { type CreateIntent, type LaunchState, USER_AGENT, makeClient, maskSecrets, policyOf, redact, saveLaunchState } from './shared.js';
import { streamLogs } from './forensics/investigate.js';
import { type Deps, type StepRecord, describeWith, fail, finish } from './step.js';
import { waitForReady } from './wait.js';

export interface RunOptions {
  env?: Record<string, string | undefined>;
  clock?: Clock;
  /** Aborted when the runner cancels the workflow (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  log?: Log;
}

export async function run(options: RunOptions = {}): Promise<void> {
  const { env = process.env, clock = realClock, log = actionsLog } = options;
  const deps: Deps = {
    env,
    clock,
    signal: options.signal,
    log,
    outputs: new Outputs(OUTPUT_NAMES, (name, value) => core.setOutput(name, value)),
    secrets: maskSecrets(env),
    describe: describeWith(modeLogger(log)),
    startedAt: clock.now(),
  };
  const step: StepRecord = { status: 'error', notes: [] };
  let life: Lifecycle | undefined;
  try {
    life = await launch(step, deps);
    if (step.status === 'launched' && step.run && deps.signal?.aborted) {
      throw new RunFailure('cancelled', `The workflow was cancelled once run ${step.run.id} existed`);
    }
    if (step.status === 'launched' && step.client && step.settings && step.run) {
      await waitUntilReady(step, deps, step.client, step.settings, step.run);
    }
  } catch (error) {
    await fail(step, error, deps);
  } finally {
    if (step.status !== 'cancelled') await supersedeOthers(step, deps, life);
    await finish(step, deps);
  }
}

async function launch(step: StepRecord, deps: Deps): Promise<Lifecycle | undefined> {
  const { env, clock, signal, log, outputs } = deps;
  const settings = (step.settings = checkedInputs(env, log));
  const ctx = (step.ctx = readContext(env));
  step.freshness = await checkHead(step, deps, ctx, settings);
  const me = (step.identity = identityOf(ctx, settings, settings.legKey));
  const runName = settings.runName ?? writeRunName(me);
  outputs.set({
    run_name: runName,
    base_model: settings.baseModel,
    adopted: 'false',
    reused_from_run_id: '',
    superseded_run_ids: '',
    sampler_model: '',
  });
  const wanted = lifecycleOf(settings, ctx, step.freshness);
  if (settings.dryRun) {
    log.info(renderPlan(settings, plannedRequests(settings, runName, wanted)));
    step.status = 'dry_run';
    return undefined;
  }
  const client = (step.client = makeClient(settings, clock, log));
  const prediction = await preflight(client, settings, log, { signal }, wanted.warmStart);
  if (signal?.aborted) throw new CancelledError('preflight');
  const life = gateWarmStart(step, log, settings, wanted, prediction);
  const plan = await lookAround(client, step, deps, life);
  if (plan.adopt) adopt(step, deps, settings, plan.adopt, runName);
  else {
    const session = (step.session = await ensureSession(client, settings, { signal }));
    outputs.set({ session_id: session.id, session_created: String(session.created) });
    log.info(`${session.created ? 'Created' : 'Reusing'} session ${session.id}`);
    if (signal?.aborted) throw new CancelledError('create run');
    const body = buildRunBody(settings, session.id, runName);
    if (plan.reuseFrom) {
      body.reuse_from_run_id = plan.reuseFrom.id;
      step.warmStart = `asked to reuse run ${plan.reuseFrom.id} (best effort)`;
      outputs.set({ reused_from_run_id: plan.reuseFrom.id });
      log.info(`warm_start: asking to reuse the infrastructure of run ${plan.reuseFrom.id} (${plan.reuseFrom.name ?? ''}); best effort`);
    }
    await createTheRun(step, deps, client, settings, body);
  }
  const rival = await afterCreate(client, step, deps, plan, life);
  if (rival) adopt(step, deps, settings, rival, runName);
  return life;
}

function stopPolicy(settings: Settings): LaunchState['stop'] {
  return settings.deactivateAtJobEnd ? 'job_end' : settings.deactivateOnFailure ? 'failure' : 'never';
}

/**
 * A live, healthy run of this leg and commit becomes this step's run (one run per leg and commit).
 * One with this step's own name came from a second workflow run at this commit — or from a matrix
 * leg that the inputs cannot tell apart, which would then share the run: that is said.
 */
function adopt(step: StepRecord, deps: Deps, settings: Settings, run: Run, runName: string): void {
  step.run = run;
  step.created = { run, adopted: true };
  step.session = { id: run.sessionId, created: false };
  saveLaunchState({ stop: stopPolicy(settings), runId: run.id });
  deps.outputs.set({ session_id: run.sessionId, session_created: 'false', ...deps.describe(run), trainer_status: '', adopted: 'true' });
  step.status = 'launched';
  deps.log.info(`adopt_on_rerun: adopted run ${run.id} (${run.name ?? ''}), a live run of this leg and commit; nothing more was created`);
  if (run.name === runName) {
    deps.log.warning(
      `adopt_on_rerun: run ${run.id} has this step's own name: another workflow run at this commit made it, or a matrix leg ` +
        'whose inputs are the same as this one; matrix legs must not share a run: set leg_key (e.g. ${{ toJSON(matrix) }}).',
    );
  }
}

async function createTheRun(step: StepRecord, deps: Deps, client: LoopsClient, settings: Settings, body: CreateRunBody): Promise<void> {
  const { clock, signal, log, outputs } = deps;
  const sessionCreated = step.session?.created ?? false;
  const intent: CreateIntent = { sessionId: body.session_id, sessionCreated, name: body.name, createdAfter: createdAfterNow(client) };
  step.body = body;
  step.intent = intent;
  // Saved before the request: if the runner kills this step mid-create, the post step finds the run by listing.
  saveLaunchState({
    stop: stopPolicy(settings),
    sessionId: body.session_id,
    sessionCreated,
    runName: body.name,
    baseModel: body.base_model,
    createdAfter: new Date(intent.createdAfter).toISOString(),
  });
  let sends = 0;
  const onSend = (): void => saveLaunchState({ sentAt: clock.now(), ...(++sends > 1 ? { resent: true } : {}) });
  // A capacity refusal is retried until wait_timeout_seconds have passed since the step began (capacity.ts).
  const [policy, capacity] = [policyOf(settings), { startedAt: deps.startedAt, windowMs: settings.waitTimeoutSeconds * 1000 }];
  const created = (step.created = await createRunOnce(client, body, { intent, policy, clock, log, signal, onSend, capacity }));
  const run = (step.run = created.run);
  saveLaunchState({ runId: run.id });
  // trainer_status stays empty unless the trainer is polled (wait_for trainer or all).
  outputs.set({ ...deps.describe(run), trainer_status: '' });
  if (created.problem) throw new RunFailure('failed', `${created.problem}. Run ${run.id} was created all the same`);
  step.status = 'launched';
  log.info(
    `${created.adopted ? 'Adopted' : 'Created'} run ${run.id} (${run.name ?? body.name}); sampler ${run.sampler?.baseUrl || '(none yet)'}`,
  );
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
  const answers = settings.verifySampler && settings.waitFor !== 'trainer' ? ', and the sampler to answer GET /v1/models' : '';
  const noTrainer = settings.waitFor !== 'sampler' && detectMode(run) === 'serverless' ? ' (a serverless run has no trainer to wait for)' : '';
  log.info(`Waiting up to ${settings.waitTimeoutSeconds}s for ${what}${answers}${noTrainer}`);
  const timeoutMs = settings.requestTimeoutSeconds * 1000;
  const redactIt = (text: string): string => redact(text, deps.secrets);
  const stream = settings.showLogs === 'always' ? streamLogs({ client, run, clock, timeoutMs, log, redact: redactIt }) : undefined;
  step.stream = stream;
  const waited = (step.waited = await waitForReady({
    client,
    waitFor: settings.waitFor,
    initial: run,
    timeoutMs: settings.waitTimeoutSeconds * 1000,
    intervalMs: settings.pollIntervalSeconds * 1000,
    clock,
    signal,
    log,
    onObservation: (obs) => {
      outputs.set({ ...deps.describe(obs.run), ...(obs.trainerStatus !== undefined ? { trainer_status: obs.trainerStatus } : {}) });
      stream?.observe(obs.run);
    },
    askSampler: settings.verifySampler
      ? samplerAsker({ ...settings, timeoutMs: settings.requestTimeoutSeconds * 1000, userAgent: USER_AGENT, log })
      : undefined,
  }));
  step.run = waited.run;
  if (waited.model) outputs.set({ sampler_model: waited.model });
  if (waited.outcome === 'ready') {
    await stream?.finish(clock.now() + timeoutMs);
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
