// npm run demo: start the local Loops emulator and run the committed bundle against it
// exactly as a runner would, then show the step's outputs and job summary.
//   npm run demo                          a serverless run (the workspace has serverless access)
//   npm run demo -- --scope deployment    a dedicated one (GPU time until stopped)
//   npm run demo -- --fail <story>        a dedicated run that fails as the story tells it (oom,
//                                         preempted, checkpoint, sampler_crash; see
//                                         test/emulator/stories.ts): its logs and classified cause
//   npm run demo -- --report              the eval report instead (scripts/demo-report.ts)
// Each flag is one line in `options` below and one in `inputs`.

import { parseArgs } from 'node:util';
import { STORY_NAMES, startEmulator } from '../test/emulator/server.js';
import { runStep } from '../test/support/runner.js';

if (process.argv.includes('--report')) {
  await import('./demo-report.js');
  process.exit(process.exitCode ?? 0);
}

const { values: flags } = parseArgs({
  options: {
    scope: { type: 'string', default: 'auto' },
    fail: { type: 'string' },
  },
});
const story = STORY_NAMES.find((name) => name === flags.fail);
if (flags.fail !== undefined && !story) {
  console.error(`--fail: one of ${STORY_NAMES.filter((name) => name !== 'chatty').join(', ')} (got ${flags.fail})`);
  process.exit(2);
}

const emulator = await startEmulator({
  apiKeys: ['demo-key'],
  // Serverless access to the demo's model, as a workspace with serverless Loops has it.
  serverlessAccess: 'all',
  samplerTimeline: [
    { status: 'BUILDING', ms: 400 },
    { status: 'DEPLOYING', ms: 600 },
    { status: 'LOADING_MODEL', ms: 800 },
    { status: 'ACTIVE' },
  ],
  story,
});
console.log(`Loops emulator listening on ${emulator.url}${story ? ` (failure story: ${story})` : ''}\n`);

const inputs = {
  api_key: 'demo-key',
  api_base_url: emulator.url,
  base_model: 'Qwen/Qwen3-8B',
  lora_rank: 32,
  // A failing trainer ends the wait only when the trainer is waited for; a story is a deployment's.
  wait_for: story ? 'all' : 'sampler',
  poll_interval_seconds: story ? 0.2 : 0.5,
  scope: story ? 'deployment' : flags.scope,
  ...(story === 'sampler_crash' ? { wait_for: 'sampler', wait_timeout_seconds: 3 } : {}),
  ...(story === 'checkpoint' ? { checkpoint_path: 'bt://loops:oldrun1/weights/step-9', preflight: false } : {}),
};
console.log('Step inputs (with: …):');
for (const [name, value] of Object.entries(inputs)) console.log(`  ${name}: ${name === 'api_key' ? '***' : value}`);
console.log('\n--- step log (node dist/main/index.js) ---');

try {
  const step = await runStep({ inputs, onStdout: (text) => process.stdout.write(text) });
  console.log(`--- exit code ${step.code} ---\n`);
  console.log('Outputs ($GITHUB_OUTPUT):');
  for (const [name, value] of Object.entries(step.outputs)) {
    console.log(`  ${name} = ${name === 'run_json' ? `${value.slice(0, 100)}…` : value}`);
  }
  console.log('\nJob summary ($GITHUB_STEP_SUMMARY):');
  console.log(step.summary.replace(/<\/tr>/g, '</tr>\n'));
  console.log(`Requests the emulator received: ${emulator.requests.map((r) => `${r.method} ${r.path} → ${r.status}`).join(', ')}`);
  step.workspace.remove();
  // A failure story is meant to fail: the demo succeeds when it did, with a cause.
  process.exitCode = story ? (step.code !== 0 && step.outputs.failure_reason ? 0 : 1) : (step.code ?? 1);
} finally {
  await emulator.close();
}
