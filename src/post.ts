// The post step (its own bundle): it can only stop, never create. It stops what the main step
// launched at job end (deactivate_at_job_end), or when the main step did not end launched or
// ready (deactivate_on_failure) — including a main step killed in the middle of its create
// request, whose run it finds by listing with what the main step saved before sending it.

import * as core from '@actions/core';
import { errorMessage } from './core/errors.js';
import { type Log, actionsLog } from './core/log.js';
import { type Clock, realClock } from './core/retry.js';
import { neutralise } from './core/text.js';
import { FieldReader } from './fields.js';
import { type Connection, DEFAULTS, readConnection } from './inputs.js';
import type { LoopsClient } from './loops/client.js';
import { stopHolder } from './holders.js';
import { type LaunchState, describeStop, makeClient, maskSecrets, ownRuns, readLaunchState, redact } from './shared.js';

export interface PostOptions {
  env?: Record<string, string | undefined>;
  clock?: Clock;
  log?: Log;
}

interface Reason {
  done: string;
  failed: string;
}

export async function runPost(options: PostOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? realClock;
  const log = options.log ?? actionsLog;
  const secrets = maskSecrets(env);
  const saved = readLaunchState();
  const why = reasonToStop(saved);
  if (!why) return;
  // After a re-send, the abandoned request may still have made a run: look for it even then.
  if (saved.stopped && !saved.resent) {
    log.info(`Run ${saved.runId ?? '(unknown)'} was already deactivated`);
    return;
  }
  const f = new FieldReader((name) => core.getInput(name), DEFAULTS);
  const connection = readConnection(f, env, true);
  if (f.errors.length > 0) return; // The main step refused the same inputs: it created nothing.
  const client = makeClient(connection, clock, log);
  let current = saved.runId ?? `named "${saved.runName ?? ''}"`;
  try {
    const targets = await runsToStop(client, saved, connection, clock, log);
    if (targets.length === 0) {
      log.info(
        saved.runId
          ? `No duplicate of run ${saved.runId} was found; nothing more to stop`
          : `No run was created (session ${saved.sessionId ?? '?'}, name "${saved.runName ?? ''}"); nothing to stop`,
      );
    }
    for (const id of targets) {
      current = id;
      const { outcome, holder, blind, note } = await stopHolder(client, id, {}, { blindIfLookFails: true });
      const what = holder === id ? describeStop(id, outcome) : `${describeStop(holder, outcome)} (continuing run ${id})`;
      log.info(
        outcome === 'stopped'
          ? `${what} ${why.done}${blind ? ' (without looking first: the run could not be read)' : ''}`
          : `${what}; nothing to do ${why.done}`,
      );
      if (note) log.warning(note);
    }
  } catch (error) {
    const text = `Could not deactivate run ${current} ${why.failed}: ${errorMessage(error)}. Deactivate it by hand.`;
    core.setFailed(neutralise(redact(text, secrets)));
  } finally {
    client.dispose();
  }
}

/** Why the post step must stop the run, or undefined when it must not (or nothing was ever sent). */
export function reasonToStop(saved: LaunchState): Reason | undefined {
  if (!saved.runId && !saved.createdAfter) return undefined;
  if (saved.stop === 'job_end') return { done: 'at the end of the job (deactivate_at_job_end)', failed: 'at job end' };
  const finished = saved.status === 'launched' || saved.status === 'ready';
  if (saved.stop !== 'failure' || finished) return undefined;
  const how = saved.status ? `with status ${saved.status}` : 'before it finished';
  return { done: `because the main step ended ${how} (deactivate_on_failure)`, failed: `after the main step ended ${how}` };
}

/**
 * The run the main step reported (unless it stopped it itself), and — when it never learned its
 * run's id, never finished, or re-sent its create (so a duplicate may land after its own sweep) —
 * the runs it could have made, found by listing. When nothing is listed yet, a create request may
 * still land: the list is read once more after that request's timeout has passed.
 */
async function runsToStop(client: LoopsClient, saved: LaunchState, connection: Connection, clock: Clock, log: Log): Promise<string[]> {
  const ids = saved.runId && !saved.stopped ? [saved.runId] : [];
  const { sessionId, runName, baseModel, createdAfter } = saved;
  const unsure = !saved.runId || !saved.status || saved.resent;
  if (!sessionId || !runName || !baseModel || !createdAfter || !unsure) return ids;
  const intent = { sessionId, sessionCreated: saved.sessionCreated ?? false, name: runName, createdAfter: Date.parse(createdAfter) };
  const list = async (): Promise<string[]> =>
    ownRuns(await client.listRuns({ baseModel }), intent)
      .runs.filter((run) => run.status !== 'INACTIVE' && run.id !== saved.runId)
      .map((run) => run.id);
  let found = await list();
  const windowMs = (saved.sentAt ?? 0) + connection.requestTimeoutSeconds * 1000 + 1000 - clock.now();
  if ((!saved.runId || saved.resent) && found.length === 0 && windowMs > 0) {
    log.info(`No run named "${runName}" yet; the create request may still land: looking again in ${Math.ceil(windowMs / 1000)}s`);
    await clock.sleep(Math.min(windowMs, connection.requestTimeoutSeconds * 1000 + 1000));
    found = await list();
  }
  return [...ids, ...found];
}
