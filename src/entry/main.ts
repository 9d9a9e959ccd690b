// Entry of the main step (dist/main/index.js). The runner cancels a step with SIGINT, then
// SIGTERM, then SIGKILL a few seconds later: the first two become an AbortSignal.

import { run } from '../main.js';
import { runToEnd } from '../shared.js';

const controller = new AbortController();
const onSignal = (signal: NodeJS.Signals): void => {
  if (!controller.signal.aborted) console.log(`Received ${signal}: stopping`);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
runToEnd(run({ signal: controller.signal }));
