// npm run demo -- --report: the eval report over a base commit and two pushes of a pull request,
// against the local Loops emulator and the emulator's GitHub side, every step the committed bundle
// run as a runner runs it. Prints what a reviewer would see: the check runs and the comment.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeGithub } from '../test/emulator/github/server.js';
import { startEmulator } from '../test/emulator/server.js';
import { runStep } from '../test/support/runner.js';

const TOKEN = 'ghs_demoToken0123456789';
const PR = 7;
const BASE = `0ba5e00${'4'.repeat(33)}`;
const PUSHES = [
  { sha: `aaaaaaa${'1'.repeat(33)}`, scores: { accuracy: 0.82, loss: 0.48, f1: 0.71 } },
  { sha: `bbbbbbb${'2'.repeat(33)}`, scores: { accuracy: 0.79, loss: 0.47, f1: 0.74 } },
];
const THRESHOLDS = 'accuracy >= baseline - 0.005\nloss <= baseline + 0.05\nf1 >= 0.7';

const emulator = await startEmulator({ apiKeys: ['demo-key'], samplerTimeline: [{ status: 'DEPLOYING', ms: 100 }, { status: 'ACTIVE' }] });
const github = await startFakeGithub();
const dir = mkdtempSync(join(tmpdir(), 'loops-demo-report-'));

function pullRequest(sha: string, job: string) {
  const side = (commit: string) => ({ sha: commit, repo: { full_name: 'acme/finetune' } });
  return {
    env: {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: `refs/pull/${PR}/merge`,
      GITHUB_JOB: job,
      GITHUB_ACTION: job,
      GITHUB_API_URL: github.url,
      GITHUB_WORKSPACE: dir,
      GITHUB_WORKFLOW_REF: 'acme/finetune/.github/workflows/pr-finetune-eval.yml@refs/pull/7/merge',
    },
    event: { number: PR, pull_request: { number: PR, head: side(sha), base: side(BASE) } },
  };
}

async function report(title: string, scores: Record<string, number>, runId: string, where: { env: Record<string, string>; event?: unknown }) {
  writeFileSync(join(dir, 'metrics.json'), JSON.stringify(scores));
  const step = await runStep({
    action: 'report',
    inputs: { metrics: 'metrics.json', run_id: runId, thresholds: THRESHOLDS, github_token: TOKEN },
    ...where,
  });
  console.log(`\n--- ${title}: report step, exit code ${step.code} ---`);
  console.log(step.stdout.replace(/^::add-mask::.*\n/gm, '').trimEnd());
  console.log(`outputs: ${JSON.stringify(step.outputs)}`);
  step.workspace.remove();
  return step;
}

try {
  console.log(`Loops emulator on ${emulator.url}, GitHub API on ${github.url}`);
  console.log(`Thresholds:\n${THRESHOLDS.replace(/^/gm, '  ')}`);
  await report('Push to main (the base commit)', { accuracy: 0.8, loss: 0.5, f1: 0.7 }, '', {
    env: { GITHUB_EVENT_NAME: 'push', GITHUB_SHA: BASE, GITHUB_API_URL: github.url, GITHUB_WORKSPACE: dir },
  });
  let last = undefined as Awaited<ReturnType<typeof report>> | undefined;
  for (const [i, push] of PUSHES.entries()) {
    const inputs = {
      api_key: 'demo-key',
      api_base_url: emulator.url,
      base_model: 'Qwen/Qwen3-8B',
      wait_for: 'none',
      comment_on_pr: true,
      github_token: TOKEN,
    };
    const launch = await runStep({ inputs, ...pullRequest(push.sha, 'launch') });
    console.log(`\n--- Push ${i + 1} (${push.sha.slice(0, 7)}): launch step, exit code ${launch.code}, run ${launch.outputs.run_id} ---`);
    launch.workspace.remove();
    last = await report(`Push ${i + 1} (${push.sha.slice(0, 7)})`, push.scores, launch.outputs.run_id ?? '', pullRequest(push.sha, 'report'));
  }
  console.log('\n=== Check runs on GitHub ===');
  for (const c of github.checkRuns) console.log(`${c.head_sha.slice(0, 7)}  ${c.name}  ${c.conclusion}  "${c.output.title}"`);
  console.log('\n=== The pull request comment (Markdown source) ===');
  for (const comment of github.comments.get(`acme/finetune#${PR}`) ?? []) console.log(comment.body);
  console.log('=== The last report step’s job summary ===');
  console.log(last?.summary);
} finally {
  rmSync(dir, { recursive: true, force: true });
  await github.close();
  await emulator.close();
}
