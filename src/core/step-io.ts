// What every entry does with the runner whatever it talks to: redact secrets from a message,
// append to the job summary, and exit once the step is done. Kept apart from shared.ts (which
// builds the Loops client) so that an entry that never talks to Loops (the eval report) does not
// carry the client.

import * as core from '@actions/core';
import { errorMessage } from './errors.js';

export function redact(text: string, secrets: string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('***'), text);
}

/** Appends to the job summary; a summary that cannot be written is not worth failing the step. */
export async function writeSummary(text: string): Promise<void> {
  try {
    await core.summary.addRaw(text).write();
  } catch (error) {
    core.debug(`job summary not written: ${errorMessage(error)}`);
  }
}

/** Exits as soon as the step is done, whatever sockets a timed-out request left open. */
export function runToEnd(task: Promise<void>): void {
  task.then(
    () => process.exit(),
    (error: unknown) => {
      core.setFailed(errorMessage(error));
      process.exit();
    },
  );
}
