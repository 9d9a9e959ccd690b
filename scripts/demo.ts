// npm run demo: start the local Loops emulator and run the committed bundle against it
// exactly as a runner would, then show the step's outputs and job summary.
// npm run demo -- --report: the eval report instead (scripts/demo-report.ts).

import { startEmulator } from '../test/emulator/server.js';
import { runStep } from '../test/support/runner.js';

if (process.argv.includes('--report')) {
  await import('./demo-report.js');
  process.exit(process.exitCode ?? 0);
}

const emulator = await startEmulator({
  apiKeys: ['demo-key'],
  samplerTimeline: [
    { status: 'BUILDING', ms: 400 },
    { status: 'DEPLOYING', ms: 600 },
    { status: 'LOADING_MODEL', ms: 800 },
    { status: 'ACTIVE' },
  ],
});
console.log(`Loops emulator listening on ${emulator.url}\n`);

const inputs = {
  api_key: 'demo-key',
  api_base_url: emulator.url,
  base_model: 'Qwen/Qwen3-8B',
  lora_rank: 32,
  wait_for: 'sampler',
  poll_interval_seconds: 0.5,
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
  process.exitCode = step.code ?? 1;
} finally {
  await emulator.close();
}
