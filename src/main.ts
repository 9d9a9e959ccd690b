// The whole step: inputs → preflight → session → run (exactly once) → wait → outputs,
// summary and comment. One try covers it; the single setFailed is in the outer catch.

import * as core from '@actions/core';
import { type GithubContext, defaultRunName, readContext } from './context.js';
import { type Settings, parseInputs } from './inputs.js';
import { UserError, buildRunBody, createRunOnce, ensureSession } from './launch.js';
import type { Hurry, LoopsClient } from './loops/client.js';
import { errorMessage, makeClient, maskSecrets, redact } from './shared.js';
import type { Run } from './loops/types.js';
import { plannedRequests, renderPlan } from './plan.js';
import { preflight } from './preflight.js';
import { upsertComment } from './report/comment.js';
import { Outputs, type Status, runOutputs } from './report/outputs.js';
import { renderErrorSummary, renderSummary } from './report/summary.js';
import { CancelledError, type Clock, realClock } from './retry.js';
import { type WaitResult, waitForReady } from './wait.js';

export interface RunOptions {
  env?: Record<string, string | undefined>;
  clock?: Clock;
  /** Aborted when the runner cancels the workflow (SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

export async function run(options: RunOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? realClock;
  const signal = options.signal;
  const startedAt = clock.now();
  const secrets = maskSecrets(env);

  const outputs = new Outputs((name, value) => core.setOutput(name, value));
  let status: Status = 'error';
  let settings: Settings | undefined;
  let client: LoopsClient | undefined;
  let ctx: GithubContext | undefined;
  let run: Run | undefined;
  let waited: WaitResult | undefined;
  let sessionCreated: boolean | undefined;
  let checkDuplicates: (() => Promise<void>) | undefined;
  let message: string | undefined;

  try {
    const parsed = parseInputs((name) => core.getInput(name), env);
    for (const warning of parsed.warnings) core.warning(warning);
    if (!parsed.ok) {
      throw new UserError(`Invalid inputs; nothing was sent:\n${parsed.errors.map((e) => `- ${e}`).join('\n')}`);
    }
    settings = parsed.settings;
    ctx = readContext(env);
    const runName = settings.runName ?? defaultRunName(ctx, clock.random);
    outputs.set({ run_name: runName, base_model: settings.baseModel });

    if (settings.dryRun) {
      core.info(renderPlan(settings, plannedRequests(settings, runName)));
      status = 'dry_run';
      return;
    }

    client = makeClient(settings, clock);
    const call = { signal };
    if (settings.preflight) await preflight(client, settings, core, call);
    if (signal?.aborted) throw new CancelledError('preflight');

    const session = await ensureSession(client, settings, call);
    sessionCreated = session.created;
    outputs.set({ session_id: session.id, session_created: String(session.created) });
    core.info(`${session.created ? 'Created' : 'Reusing'} session ${session.id}`);
    if (signal?.aborted) throw new CancelledError('create run');

    const created = await createRunOnce(client, buildRunBody(settings, session.id, runName), {
      startedAt,
      clock,
      timeoutMs: settings.requestTimeoutSeconds * 1000,
      sessionCreated: session.created,
      signal,
      log: (l) => core.info(l),
      warn: (l) => core.warning(l),
    });
    run = created.run;
    checkDuplicates = created.checkDuplicates;
    core.saveState('run_id', run.id);
    // trainer_status stays empty unless the trainer is polled (wait_for trainer or all).
    outputs.set({ ...runOutputs(run), trainer_status: '' });
    if (created.problem) throw new RunFailure('failed', `${created.problem}. Run ${run.id} was created all the same`);
    status = 'launched';
    core.info(`${created.adopted ? 'Adopted' : 'Created'} run ${run.id} (${run.name ?? runName}); sampler ${run.sampler?.baseUrl || '(none yet)'}`);

    if (signal?.aborted) throw new RunFailure('cancelled', `The workflow was cancelled while run ${run.id} was being created`);
    if (settings.waitFor === 'none') return;

    core.info(`Waiting up to ${settings.waitTimeoutSeconds}s for ${describeWait(settings)}`);
    waited = await waitForReady({
      client,
      waitFor: settings.waitFor,
      initial: run,
      timeoutMs: settings.waitTimeoutSeconds * 1000,
      intervalMs: settings.pollIntervalSeconds * 1000,
      clock,
      signal,
      log: (l) => core.info(l),
      onObservation: (obs) =>
        outputs.set({
          ...runOutputs(obs.run),
          ...(obs.trainerStatus !== undefined ? { trainer_status: obs.trainerStatus } : {}),
        }),
    });
    run = waited.run;
    if (waited.outcome === 'ready') {
      status = 'ready';
      core.info(`Run ${run.id} is ready after ${Math.round(waited.elapsedMs / 1000)}s; sampler ${run.sampler?.baseUrl ?? ''}`);
      return;
    }
    const verb = { failed: 'failed', timed_out: 'timed out', cancelled: 'was cancelled' }[waited.outcome];
    throw new RunFailure(waited.outcome, `Run ${run.id} ${verb}: ${waited.reason}`);
  } catch (error) {
    let text = errorMessage(error);
    if (error instanceof RunFailure) status = error.status;
    else if (error instanceof CancelledError) status = 'cancelled';
    // Once a run exists, a step that does not end launched or ready must not leave it running.
    if (run && client && settings && status !== 'launched' && status !== 'ready') {
      text += `. ${await stopRun(client, settings, run.id, status)}`;
    }
    message = redact(text, secrets);
    core.setFailed(message);
  } finally {
    outputs.set({ status });
    // For the post step: a run whose main step never got here (killed while cancelling) is stopped there.
    core.saveState('status', status);
    await checkDuplicates?.();
    if (settings) {
      const data = {
        settings,
        status,
        runId: run?.id,
        runName: run?.name ?? outputs.get('run_name'),
        sessionId: outputs.get('session_id'),
        sessionCreated,
        samplerBaseUrl: run?.sampler?.baseUrl,
        samplerStatus: waited?.samplerStatus ?? run?.sampler?.status,
        trainerStatus: waited?.trainerStatus,
        message: message ? firstLine(message) : undefined,
      };
      await writeSummary(renderSummary({ ...data, timeToReadyMs: status === 'ready' ? waited?.elapsedMs : undefined }));
      if (settings.commentOnPr && !settings.dryRun && ctx) {
        await upsertComment(ctx, settings.githubToken, data, core, settings.requestTimeoutSeconds * 1000);
      }
    } else if (message) {
      await writeSummary(renderErrorSummary(message));
    }
    client?.dispose();
  }
}

/** A run exists but the step ends without it launched or ready. */
class RunFailure extends Error {
  constructor(
    readonly status: 'failed' | 'timed_out' | 'cancelled',
    message: string,
  ) {
    super(message);
  }
}

/** The runner kills a cancelled step about 10 s after SIGINT: deactivation then gets seconds, not minutes. */
export const HURRY: Hurry = { maxRetries: 1, timeoutMs: 4000, maxRetryAfterMs: 1000 };

/** Deactivates the run when deactivate_on_failure is on; returns a sentence for the error. */
async function stopRun(client: LoopsClient, settings: Settings, runId: string, status: Status): Promise<string> {
  if (!settings.deactivateOnFailure) {
    core.warning(`Run ${runId} is still running (deactivate_on_failure is false).`);
    return `The run was left running (deactivate_on_failure: false).`;
  }
  try {
    await client.deactivateRun(runId, status === 'cancelled' ? HURRY : undefined);
    core.saveState('deactivated', 'true');
    core.info(`Deactivated run ${runId} (status ${status}) so that no GPU is left running`);
    return 'The run was deactivated.';
  } catch (error) {
    const text = `Could not deactivate run ${runId}: ${errorMessage(error)}. Deactivate it by hand (POST /v1/loops/runs/${runId}/deactivate).`;
    core.error(text);
    return text;
  }
}

function describeWait(settings: Settings): string {
  return {
    none: '',
    sampler: 'the sampler to be ACTIVE',
    trainer: 'the trainer to be RUNNING',
    all: 'the sampler to be ACTIVE and the trainer RUNNING',
  }[settings.waitFor];
}

async function writeSummary(html: string): Promise<void> {
  try {
    await core.summary.addRaw(html).write();
  } catch (error) {
    core.debug(`job summary not written: ${errorMessage(error)}`);
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
