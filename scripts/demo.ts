// npm run demo: start the local Loops emulator and run the committed bundle against it exactly as
// a runner would, then show the step's outputs (what an eval job uses first) and job summary.
//   npm run demo                          a serverless run (the workspace has serverless access)
//   npm run demo -- --scope deployment    a dedicated one (GPU time until stopped)
//   npm run demo -- --fail <story>        a dedicated run that fails as the story tells it (oom,
//                                         preempted, checkpoint, sampler_crash; see
//                                         test/emulator/stories.ts): its logs and classified cause
//   npm run demo -- --report              the eval report instead (scripts/demo-report.ts)
// Flags: scripts/demo-main.ts; the launch demo: scripts/demo-launch.ts; what it prints of the
// outputs: scripts/demo-outputs.ts. test/demo.test.ts runs each of them.

import { runDemo } from './demo-main.js';

process.exitCode = await runDemo(process.argv.slice(2), {
  write: (text) => process.stdout.write(text),
  error: (text) => process.stderr.write(text),
});
