// Smoke run: the committed bundle on Node 24 (the runtime action.yml declares), against the
// emulator, through the runner's file protocol; then the eval report's bundle against the
// emulator's GitHub side. Node 24 comes from the npm registry.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeGithub } from '../test/emulator/github/server.js';
import { startEmulator } from '../test/emulator/server.js';
import { runStep } from '../test/support/runner.js';

const node24 = execFileSync('npx', ['-y', '-p', 'node@24', 'node', '-p', 'process.execPath'], {
  encoding: 'utf8',
  env: { ...process.env, npm_config_update_notifier: 'false' },
}).trim();
const version = execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim();
if (!version.startsWith('v24.')) throw new Error(`expected Node 24, got ${version} at ${node24}`);

const emulator = await startEmulator({ samplerTimeline: [{ status: 'DEPLOYING', ms: 300 }, { status: 'ACTIVE' }] });
try {
  const step = await runStep({
    node: node24,
    inputs: { api_key: 'test-key', api_base_url: emulator.url, base_model: 'Qwen/Qwen3-8B', poll_interval_seconds: 0.2 },
  });
  const problems: string[] = [];
  if (step.code !== 0) problems.push(`exit code ${step.code}`);
  if (step.outputs.status !== 'ready') problems.push(`status=${step.outputs.status}`);
  if (!step.outputs.run_id || !emulator.runs().some((r) => r.id === step.outputs.run_id)) problems.push('run_id not a real run');
  if (!step.outputs.sampler_base_url?.startsWith(`${emulator.url}/sampler/`)) problems.push('no sampler_base_url');
  if (!step.summary.includes('Baseten Loops run')) problems.push('no job summary');
  if (problems.length) {
    console.error(step.stdout, step.stderr);
    throw new Error(`smoke run on ${version} failed: ${problems.join(', ')}`);
  }
  console.log(
    `smoke: ${version} ran dist/main/index.js in ${Math.round(step.durationMs)} ms: status=${step.outputs.status} run_id=${step.outputs.run_id}`,
  );
  step.workspace.remove();
} finally {
  await emulator.close();
}

const github = await startFakeGithub();
const workspace = mkdtempSync(join(tmpdir(), 'smoke-report-'));
try {
  writeFileSync(join(workspace, 'metrics.json'), '{"accuracy": 0.9}');
  const step = await runStep({
    node: node24,
    action: 'report',
    inputs: { metrics: 'metrics.json', thresholds: 'accuracy >= 0.8', github_token: 'ghs_smokeToken0123' },
    env: { GITHUB_API_URL: github.url, GITHUB_WORKSPACE: workspace },
  });
  const [check] = github.checkRuns;
  if (step.code !== 0 || step.outputs.passed !== 'true' || check?.conclusion !== 'success') {
    console.error(step.stdout, step.stderr);
    throw new Error(
      `smoke run of dist/report on ${version} failed: exit ${step.code}, passed=${step.outputs.passed}, check ${check?.conclusion}`,
    );
  }
  console.log(`smoke: ${version} ran dist/report/index.js in ${Math.round(step.durationMs)} ms: check run ${check.conclusion}`);
  step.workspace.remove();
} finally {
  rmSync(workspace, { recursive: true, force: true });
  await github.close();
}
