// The launch demo (npm run demo, with --scope and --fail): start the local Loops emulator, run the
// committed bundle against it exactly as a runner would, then show the step's outputs (what an
// eval job uses first, scripts/demo-outputs.ts), its job summary and the requests the emulator
// received. The emulator hands out trainer URLs it serves itself (trainerBaseUrl 'emulator'), so
// every URL the demo prints answers.

import { STORY_NAMES, type StoryName, startEmulator } from '../test/emulator/server.js';
import { runStep } from '../test/support/runner.js';
import { type DemoIO, lines } from './demo-io.js';
import { outputLines } from './demo-outputs.js';

export interface LaunchFlags {
  scope: string;
  fail?: string;
}

/** The stories --fail takes (chatty is a log-volume story, not a failure). */
export const FAIL_STORIES = STORY_NAMES.filter((name) => name !== 'chatty');

function stepInputs(url: string, story: StoryName | undefined, scope: string): Record<string, string | number | boolean> {
  return {
    api_key: 'demo-key',
    api_base_url: url,
    base_model: 'Qwen/Qwen3-8B',
    lora_rank: 32,
    // A failing trainer ends the wait only when the trainer is waited for; a story is a deployment's.
    wait_for: story ? 'all' : 'sampler',
    poll_interval_seconds: story ? 0.2 : 0.5,
    scope: story ? 'deployment' : scope,
    ...(story === 'sampler_crash' ? { wait_for: 'sampler', wait_timeout_seconds: 3 } : {}),
    ...(story === 'checkpoint' ? { checkpoint_path: 'bt://loops:oldrun1/weights/step-9', preflight: false } : {}),
  };
}

/** Runs the launch demo; the exit code: the step's, or for a failure story 0 when it failed with a cause. */
export async function launchDemo(flags: LaunchFlags, io: DemoIO): Promise<number> {
  const say = lines(io);
  const story = FAIL_STORIES.find((name) => name === flags.fail);
  if (flags.fail !== undefined && !story) {
    io.error(`--fail: one of ${FAIL_STORIES.join(', ')} (got ${flags.fail})\n`);
    return 2;
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
    trainerBaseUrl: 'emulator',
    story,
  });
  try {
    say(`Loops emulator listening on ${emulator.url}${story ? ` (failure story: ${story})` : ''}\n`);
    const inputs = stepInputs(emulator.url, story, flags.scope);
    say('Step inputs (with: …):');
    for (const [name, value] of Object.entries(inputs)) say(`  ${name}: ${name === 'api_key' ? '***' : value}`);
    say('\n--- step log (node dist/main/index.js) ---');
    const step = await runStep({ inputs, onStdout: (text) => io.write(text) });
    step.workspace.remove();
    say(`--- exit code ${step.code} ---\n`);
    for (const line of outputLines(step.outputs)) say(line);
    say('\nJob summary ($GITHUB_STEP_SUMMARY):');
    say(step.summary.replace(/<\/tr>/g, '</tr>\n'));
    say(`Requests the emulator received: ${emulator.requests.map((r) => `${r.method} ${r.path} → ${r.status}`).join(', ')}`);
    await io.beforeClose?.({ loops: emulator });
    // A failure story is meant to fail: the demo succeeds when it did, with a cause.
    if (story) return step.code !== 0 && step.outputs.failure_reason ? 0 : 1;
    return step.code ?? 1;
  } finally {
    await emulator.close();
  }
}
