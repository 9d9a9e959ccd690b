// The post step: deactivate the run at job end when deactivate_at_job_end is on, and also
// (with deactivate_on_failure) when the main step never got to end cleanly — the runner kills a
// cancelled step a few seconds after SIGINT, possibly before its own deactivation went through.

import * as core from '@actions/core';
import { parseInputs } from './inputs.js';
import { errorMessage, makeClient, maskSecrets, redact } from './shared.js';
import { realClock } from './retry.js';

export async function runPost(env: Record<string, string | undefined> = process.env): Promise<void> {
  const secrets = maskSecrets(env);
  const runId = core.getState('run_id');
  if (!runId) return;
  if (core.getState('deactivated') === 'true') {
    core.info(`Run ${runId} was already deactivated`);
    return;
  }
  const parsed = parseInputs((name) => core.getInput(name), env);
  if (!parsed.ok) return;
  const settings = parsed.settings;
  const status = core.getState('status');
  const unfinished = status !== 'launched' && status !== 'ready';
  let done: string;
  let failed: string;
  if (settings.deactivateAtJobEnd) {
    done = 'at the end of the job (deactivate_at_job_end)';
    failed = 'at job end';
  } else if (settings.deactivateOnFailure && unfinished) {
    const how = status ? `with status ${status}` : 'before it finished';
    done = `because the main step ended ${how} (deactivate_on_failure)`;
    failed = `after the main step ended ${how}`;
  } else return;

  const client = makeClient(settings, realClock);
  try {
    await client.deactivateRun(runId);
    core.info(`Deactivated run ${runId} ${done}`);
  } catch (error) {
    core.setFailed(redact(`Could not deactivate run ${runId} ${failed}: ${errorMessage(error)}. Deactivate it by hand.`, secrets));
  } finally {
    client.dispose();
  }
}
