// The post step: deactivate the run at job end when deactivate_at_job_end is on.

import * as core from '@actions/core';
import { parseInputs } from './inputs.js';
import { errorMessage, makeClient, maskSecrets, redact } from './main.js';
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
  if (!parsed.ok || !parsed.settings.deactivateAtJobEnd) return;
  const client = makeClient(parsed.settings, realClock);
  try {
    await client.deactivateRun(runId);
    core.info(`Deactivated run ${runId} at the end of the job (deactivate_at_job_end)`);
  } catch (error) {
    core.setFailed(
      redact(`Could not deactivate run ${runId} at job end: ${errorMessage(error)}. Deactivate it by hand.`, secrets),
    );
  } finally {
    client.dispose();
  }
}
