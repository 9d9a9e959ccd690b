// Entry for both the main and the post step (one bundle): the runner sets STATE_isPost
// for the post step because main saved it.

import * as core from '@actions/core';
import { run } from './main.js';
import { runPost } from './post.js';

async function main(): Promise<void> {
  if (core.getState('isPost') === 'true') {
    await runPost();
    return;
  }
  core.saveState('isPost', 'true');
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) core.info(`Received ${signal}: stopping`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await run({ signal: controller.signal });
}

// Exit as soon as the step is done, whatever sockets a timed-out request left open.
main().then(
  () => process.exit(),
  (error: unknown) => {
    core.setFailed(error instanceof Error ? error.message : String(error));
    process.exit();
  },
);
