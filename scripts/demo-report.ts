// npm run demo -- --report: the eval report over a base commit and two pushes of a pull request,
// against the local Loops emulator and the emulator's GitHub side, every step the committed bundle
// run as a runner runs it. Prints what a reviewer would see: each report step's outputs (what a
// later job or a branch rule uses), the check runs and the comment. The GitHub side serves the web
// pages those links point at (GITHUB_SERVER_URL is its origin), so every URL printed answers.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeGithub, addWorkflowRun, startFakeGithub } from '../test/emulator/github/server.js';
import { startEmulator } from '../test/emulator/server.js';
import { type StepResult, runStep } from '../test/support/runner.js';
import { type DemoIO, lines } from './demo-io.js';

const TOKEN = 'ghs_demoToken0123456789';
const REPOSITORY = 'acme/finetune';
const PR = 7;
const RUN_ID = '4242';
const BASE = `0ba5e00${'4'.repeat(33)}`;
const PUSHES = [
  { sha: `aaaaaaa${'1'.repeat(33)}`, scores: { accuracy: 0.82, loss: 0.48, f1: 0.71 } },
  { sha: `bbbbbbb${'2'.repeat(33)}`, scores: { accuracy: 0.79, loss: 0.47, f1: 0.74 } },
];
const THRESHOLDS = 'accuracy >= baseline - 0.005\nloss <= baseline + 0.05\nf1 >= 0.7';
/** The report steps' exit codes the story expects: the base commit and push 1 pass, push 2 fails a rule. */
const EXPECTED_CODES = [0, 0, 1];

/** The report's outputs, each with what a later job or a branch rule does with it. */
export const REPORT_OUTPUTS: ReadonlyArray<readonly [name: string, meaning: string]> = [
  ['passed', 'true when every rule held, false when one failed (the step fails too), empty without thresholds'],
  ['failed_rules', 'the failing rules, one a line, each with what it got and what it needed'],
  ['baseline_sha', 'the commit whose stored scores were the baseline (the base commit); empty when there was none'],
  ['check_run_url', "the check run's page: the verdict on the commit, which branch protection can require"],
];

interface Where {
  env: Record<string, string>;
  event?: unknown;
}

/** What every step of the demo runs in: this repository, on the fake GitHub, in the runner's workflow run. */
function baseEnv(github: FakeGithub, dir: string): Record<string, string> {
  return {
    GITHUB_API_URL: github.url,
    GITHUB_SERVER_URL: github.serverUrl,
    GITHUB_RUN_ID: RUN_ID,
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_WORKSPACE: dir,
  };
}

function pullRequest(env: Record<string, string>, sha: string, job: string): Where {
  const side = (commit: string) => ({ sha: commit, repo: { full_name: REPOSITORY } });
  return {
    env: {
      ...env,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: `refs/pull/${PR}/merge`,
      GITHUB_JOB: job,
      GITHUB_ACTION: job,
      GITHUB_WORKFLOW_REF: `${REPOSITORY}/.github/workflows/pr-finetune-eval.yml@refs/pull/${PR}/merge`,
    },
    event: { number: PR, pull_request: { number: PR, head: side(sha), base: side(BASE) } },
  };
}

function showOutputs(say: (text?: string) => void, outputs: Record<string, string>): void {
  say('outputs:');
  for (const [name, meaning] of REPORT_OUTPUTS) {
    const [first = '', ...more] = (outputs[name] ?? '').split('\n');
    say(`  ${name} = ${first === '' && more.length === 0 ? '(empty)' : first}`);
    for (const line of more) say(`    ${line}`);
    say(`      ${meaning}`);
  }
}

async function report(io: DemoIO, dir: string, title: string, scores: Record<string, number>, runId: string, where: Where): Promise<StepResult> {
  const say = lines(io);
  writeFileSync(join(dir, 'metrics.json'), JSON.stringify(scores));
  const step = await runStep({
    action: 'report',
    inputs: { metrics: 'metrics.json', run_id: runId, thresholds: THRESHOLDS, github_token: TOKEN },
    ...where,
  });
  step.workspace.remove();
  say(`\n--- ${title}: report step, exit code ${step.code} ---`);
  say(step.stdout.replace(/^::add-mask::.*\n/gm, '').trimEnd());
  showOutputs(say, step.outputs);
  return step;
}

async function story(io: DemoIO, loopsUrl: string, github: FakeGithub, dir: string): Promise<number> {
  const say = lines(io);
  const env = baseEnv(github, dir);
  say(`Loops emulator on ${loopsUrl}, GitHub API on ${github.url}`);
  say(`Thresholds:\n${THRESHOLDS.replace(/^/gm, '  ')}`);
  const base = { env: { ...env, GITHUB_EVENT_NAME: 'push', GITHUB_SHA: BASE } };
  const steps = [await report(io, dir, 'Push to main (the base commit)', { accuracy: 0.8, loss: 0.5, f1: 0.7 }, '', base)];
  for (const [i, push] of PUSHES.entries()) {
    const inputs = {
      api_key: 'demo-key',
      api_base_url: loopsUrl,
      base_model: 'Qwen/Qwen3-8B',
      wait_for: 'none',
      comment_on_pr: true,
      github_token: TOKEN,
    };
    const launch = await runStep({ inputs, ...pullRequest(env, push.sha, 'launch') });
    launch.workspace.remove();
    const title = `Push ${i + 1} (${push.sha.slice(0, 7)})`;
    say(`\n--- ${title}: launch step, exit code ${launch.code}, run ${launch.outputs.run_id} ---`);
    steps.push(await report(io, dir, title, push.scores, launch.outputs.run_id ?? '', pullRequest(env, push.sha, 'report')));
  }
  say('\n=== Check runs on GitHub ===');
  for (const c of github.checkRuns) say(`${c.head_sha.slice(0, 7)}  ${c.name}  ${c.conclusion}  "${c.output.title}"  ${c.html_url}`);
  say('\n=== The pull request comment (Markdown source) ===');
  for (const comment of github.comments.get(`${REPOSITORY}#${PR}`) ?? []) say(comment.body);
  say('=== The last report step’s job summary ===');
  say(steps.at(-1)?.summary);
  return steps.every((step, i) => step.code === EXPECTED_CODES[i]) ? 0 : 1;
}

/** Runs the report demo; the exit code: 0 when every report step ended as the story expects. */
export async function reportDemo(io: DemoIO): Promise<number> {
  const emulator = await startEmulator({
    apiKeys: ['demo-key'],
    samplerTimeline: [{ status: 'DEPLOYING', ms: 100 }, { status: 'ACTIVE' }],
    trainerBaseUrl: 'emulator',
  });
  const github = await startFakeGithub();
  addWorkflowRun(github, REPOSITORY, RUN_ID);
  const dir = mkdtempSync(join(tmpdir(), 'loops-demo-report-'));
  try {
    const code = await story(io, emulator.url, github, dir);
    await io.beforeClose?.({ loops: emulator, github });
    return code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await github.close();
    await emulator.close();
  }
}
