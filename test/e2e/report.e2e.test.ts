// End to end, the eval report action (SPEC "Eval report"): the committed bundle dist/report run as
// a runner runs it, real Octokit against the emulator's GitHub side (check runs, comments, a
// read-only token), and the launch's bundle for the sticky comment the report writes into.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { parseBlock, reportKey } from '../../src/eval/block.js';
import { parseHistory } from '../../src/eval/history.js';
import { appendicesOf, appendixOf, parseRuns } from '../../src/report/comment.js';
import { type Step, annotations } from '../support/e2e.js';
import type { RunnerOptions } from '../support/runner.js';
import { SHA, TOKEN, commentInputs, commentsOn, launchInputs, lifeTest as test, pr } from './life.js';
import { type FakeCheckRun, type FakeGithub, startFakeGithub } from './tools.js';

const BASE = `0ba5e00${'4'.repeat(33)}`;
const PR = 7;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A workspace holding the given files (JSON values are written as JSON, strings as they are). */
function workspace(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'report-ws-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

interface Where {
  /** A pull request's head; without it, a push to main at `sha`. */
  head?: string;
  sha?: string;
  /** The head repository, when not this one (a fork). */
  headRepo?: string;
  attempt?: number;
}

/** The runner's context for a report step: a pull request of this repository (base BASE), or a push. */
function context(gh: FakeGithub, where: Where): Pick<RunnerOptions, 'env' | 'event'> {
  if (!where.head) return { env: { GITHUB_EVENT_NAME: 'push', GITHUB_SHA: where.sha ?? BASE, GITHUB_API_URL: gh.url } };
  const { env } = pr(PR, where.head, { apiUrl: gh.url, job: 'report', action: 'report', attempt: where.attempt });
  const side = (sha: string, repo: string) => ({ sha, repo: { full_name: repo, fork: repo !== 'acme/finetune' } });
  return {
    env,
    event: {
      number: PR,
      pull_request: { number: PR, head: side(where.head, where.headRepo ?? 'acme/finetune'), base: side(BASE, 'acme/finetune') },
    },
  };
}

type Inputs = Record<string, string | number | boolean>;

/** Runs the report action on `metrics` (written to metrics.json in a fresh workspace, with `files`). */
function reportStep(
  step: (o: RunnerOptions) => Promise<Step>,
  gh: FakeGithub,
  metrics: unknown,
  inputs: Inputs = {},
  where: Where = {},
  files: Record<string, unknown> = {},
): Promise<Step> {
  const dir = workspace({ 'metrics.json': metrics, ...files });
  const ctx = context(gh, where);
  return step({
    action: 'report',
    inputs: { metrics: 'metrics.json', github_token: TOKEN, ...inputs },
    env: { ...ctx.env, GITHUB_WORKSPACE: dir },
    event: ctx.event,
  });
}

const checksOn = (gh: FakeGithub, sha: string): FakeCheckRun[] => gh.checkRuns.filter((c) => c.head_sha === sha);
const why = (s: Step): string => `--- stdout ---\n${s.stdout}\n--- stderr ---\n${s.stderr}`;
const charts = (text: string): string[] => [...text.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1] as string);
const writes = (gh: FakeGithub) => gh.requests.filter((r) => r.method !== 'GET' && r.path !== '(graphql)');

describe.concurrent('two pushes of a pull request and a base commit, with the launch commenting', () => {
  test('baseline from the base commit, the check on each head, the Eval section with history and charts in the launch comment, whatever the order of writes', async ({
    loops,
    step,
    github,
  }) => {
    const gh = await github();
    const emulator = await loops();
    // The base branch: the baseline workflow stores its scores on BASE.
    const base = await reportStep(step, gh, { accuracy: 0.8, loss: 0.5 }, { run_id: 'baserun1' }, { sha: BASE });
    expect(base.code, why(base)).toBe(0);
    expect(base.outputs).toEqual({ passed: '', failed_rules: '', baseline_sha: '', check_run_url: checksOn(gh, BASE)[0]?.html_url });
    expect(checksOn(gh, BASE).map((c) => [c.name, c.conclusion])).toEqual([['Loops eval', 'neutral']]);
    expect(parseBlock(checksOn(gh, BASE)[0]?.output.text)).toEqual({
      v: 1,
      metrics: { accuracy: 0.8, loss: 0.5 },
      run_id: 'baserun1',
      leg_key: '',
      sha: BASE,
    });
    expect(gh.comments.size).toBe(0);

    const thresholds = 'accuracy >= baseline\nloss <= baseline + 0.05';
    const launch = (sha: string, attempt = 1) =>
      step({ inputs: launchInputs(emulator, { ...commentInputs, warm_start: false }), ...pr(PR, sha, { apiUrl: gh.url, attempt }) });

    // Push 1: launch (comment), then report into that comment.
    const l1 = await launch(SHA.A);
    expect(l1.code, why(l1)).toBe(0);
    const r1 = await reportStep(step, gh, { accuracy: 0.82, loss: 0.48 }, { run_id: l1.outputs.run_id ?? '', thresholds }, { head: SHA.A });
    expect(r1.code, why(r1)).toBe(0);
    expect(r1.outputs).toMatchObject({ passed: 'true', failed_rules: '', baseline_sha: BASE });
    expect(r1.stdout).toContain('baseline: the scores of run baserun1 stored on the base commit 0ba5e00');
    expect(checksOn(gh, SHA.A).map((c) => [c.conclusion, c.output.title])).toEqual([['success', 'Every rule holds']]);
    let comments = commentsOn(gh, PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toMatch(/^<!-- baseten-loops-launch leg=/);
    expect(comments[0]).toContain('| `accuracy` | 0.82 | 0.8 | +0.02 | accuracy &gt;= baseline | ✓ |');
    expect(charts(comments[0] ?? '')).toEqual([]);

    // Push 2: the launch rewrites its comment and keeps the Eval section; the report adds push 2.
    const l2 = await launch(SHA.B);
    expect(l2.code, why(l2)).toBe(0);
    comments = commentsOn(gh, PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain('### Baseten Loops run for bbbbbbb');
    expect(comments[0]).toContain('| `accuracy` | 0.82 | 0.8 |');
    const r2 = await reportStep(step, gh, { accuracy: 0.79, loss: 0.47 }, { run_id: l2.outputs.run_id ?? '', thresholds }, { head: SHA.B });
    expect(r2.code).toBe(1);
    expect(r2.outputs).toMatchObject({
      passed: 'false',
      failed_rules: 'accuracy >= baseline — got 0.79, needed ≥ 0.8 (baseline 0.8)',
      baseline_sha: BASE,
    });
    expect(annotations(r2.stdout)).toBe('1 rule failed:\n- accuracy >= baseline — got 0.79, needed ≥ 0.8 (baseline 0.8)');
    expect(checksOn(gh, SHA.B).map((c) => [c.conclusion, c.output.title])).toEqual([['failure', '1 of 2 rules failed']]);
    expect(checksOn(gh, SHA.A)).toHaveLength(1);

    comments = commentsOn(gh, PR);
    expect(comments).toHaveLength(1);
    const body = comments[0] ?? '';
    expect(appendicesOf(body)).toHaveLength(1);
    const section = appendixOf(body, reportKey('Loops eval', '')) ?? '';
    expect(section).toContain('**✗ failure**: 1 of 2 rules failed.');
    expect(section).toContain(`| \`aaaaaaa\` | \`${l1.outputs.run_id}\` | 0.82 | 0.48 | ✓ |`);
    expect(section).toContain(`| \`bbbbbbb\` | \`${l2.outputs.run_id}\` | 0.79 | 0.47 | ✗ |`);
    expect(charts(section)).toEqual([
      'xychart-beta\n  title "accuracy"\n  x-axis ["aaaaaaa", "bbbbbbb"]\n  line [0.82, 0.79]',
      'xychart-beta\n  title "loss"\n  x-axis ["aaaaaaa", "bbbbbbb"]\n  line [0.48, 0.47]',
    ]);
    expect(parseHistory(section).map((p) => [p.sha, p.conclusion, p.values])).toEqual([
      [SHA.A, 'success', { accuracy: 0.82, loss: 0.48 }],
      [SHA.B, 'failure', { accuracy: 0.79, loss: 0.47 }],
    ]);
    // The job summary shows the same.
    expect(r2.summary).toContain('| `accuracy` | 0.79 | 0.8 | -0.01 | accuracy &gt;= baseline | ✗ |');
    expect(charts(r2.summary)).toEqual(charts(section));

    // A re-run of push 2's launch (the report wrote last): the section survives, whole.
    const again = await launch(SHA.B, 2);
    expect(again.code, why(again)).toBe(0);
    expect(again.outputs.adopted).toBe('true');
    expect(appendixOf(commentsOn(gh, PR)[0] ?? '', reportKey('Loops eval', ''))).toBe(section);
  });
});

describe.concurrent('thresholds', () => {
  test('every form, holding and failing, against a number and the base commit’s scores', async ({ step, github }) => {
    const gh = await github();
    const baseScores = { acc: 0.8, loss: 0.4, f1: 0.5, em: 0.6, latency: 100, cost: 2 };
    expect((await reportStep(step, gh, baseScores, {}, { sha: BASE })).code).toBe(0);
    const thresholds = [
      '# holding',
      'acc >= 0.8',
      'loss <= 0.45',
      'f1 > 0.4',
      'latency < 120',
      'em >= baseline',
      'loss <= baseline + 0.05',
      'acc >= baseline - 0.01',
      'cost<baseline',
      '',
      '# failing',
      'acc > 0.8',
      'f1 >= baseline + 0.1',
      'latency <= baseline - 10',
      'cost > 3',
    ].join('\n');
    const result = await reportStep(
      step,
      gh,
      { acc: 0.8, loss: 0.45, f1: 0.55, em: 0.6, latency: 95, cost: 1.5 },
      { thresholds },
      { head: SHA.A },
    );
    expect(result.code).toBe(1);
    expect(result.outputs.passed).toBe('false');
    expect((result.outputs.failed_rules ?? '').split('\n')).toEqual([
      'acc > 0.8 — got 0.8, needed > 0.8',
      'f1 >= baseline + 0.1 — got 0.55, needed ≥ 0.6 (baseline 0.5)',
      'latency <= baseline - 10 — got 95, needed ≤ 90 (baseline 100)',
      'cost > 3 — got 1.5, needed > 3',
    ]);
    const [check] = checksOn(gh, SHA.A);
    expect([check?.conclusion, check?.output.title]).toEqual(['failure', '4 of 12 rules failed']);
    expect(check?.output.summary?.split('\n').filter((l) => l.startsWith('| `'))).toEqual([
      '| `acc` | 0.8 | 0.8 | 0 | acc &gt;= 0.8<br>acc &gt;= baseline - 0.01<br>acc &gt; 0.8 | ✓<br>✓<br>✗ |',
      '| `loss` | 0.45 | 0.4 | +0.05 | loss &lt;= 0.45<br>loss &lt;= baseline + 0.05 | ✓<br>✓ |',
      '| `f1` | 0.55 | 0.5 | +0.05 | f1 &gt; 0.4<br>f1 &gt;= baseline + 0.1 | ✓<br>✗ |',
      '| `em` | 0.6 | 0.6 | 0 | em &gt;= baseline | ✓ |',
      '| `latency` | 95 | 100 | -5 | latency &lt; 120<br>latency &lt;= baseline - 10 | ✓<br>✗ |',
      '| `cost` | 1.5 | 2 | -0.5 | cost&lt;baseline<br>cost &gt; 3 | ✓<br>✗ |',
    ]);
  });

  test('every rule holds: success and passed true; no thresholds: neutral and passed empty', async ({ step, github }) => {
    const gh = await github();
    const ok = await reportStep(step, gh, [{ name: 'acc', value: 0.9 }], { thresholds: 'acc >= 0.8' }, { head: SHA.A });
    expect(ok.code, why(ok)).toBe(0);
    expect(ok.outputs).toMatchObject({ passed: 'true', failed_rules: '' });
    expect(checksOn(gh, SHA.A)[0]?.conclusion).toBe('success');
    const none = await reportStep(step, gh, [{ name: 'acc', value: 0.9 }], {}, { head: SHA.B });
    expect(none.code, why(none)).toBe(0);
    expect(none.outputs).toMatchObject({ passed: '', failed_rules: '' });
    expect(checksOn(gh, SHA.B)[0]?.conclusion).toBe('neutral');
  });
});

describe.concurrent('no baseline', () => {
  const thresholds = 'loss <= baseline + 0.05';

  test('no check run on the base commit: the rule is "no baseline", the check neutral, the step passes', async ({ step, github }) => {
    const gh = await github();
    const result = await reportStep(step, gh, { loss: 0.9 }, { thresholds }, { head: SHA.A });
    expect(result.code, why(result)).toBe(0);
    expect(result.outputs).toMatchObject({ passed: 'true', failed_rules: '', baseline_sha: '' });
    expect(result.stdout).toContain('baseline: no "Loops eval" check run with this leg_key on the base commit 0ba5e00');
    expect(checksOn(gh, SHA.A)[0]?.conclusion).toBe('neutral');
    expect(result.summary).toContain('| `loss` | 0.9 | — | — | loss &lt;= baseline + 0.05 | no baseline |');
  });

  test('thresholds_need_baseline: the same rule fails', async ({ step, github }) => {
    const gh = await github();
    const result = await reportStep(step, gh, { loss: 0.9 }, { thresholds, thresholds_need_baseline: true }, { head: SHA.A });
    expect(result.code).toBe(1);
    expect(result.outputs.failed_rules).toBe('loss <= baseline + 0.05 — got 0.9, no baseline (thresholds_need_baseline: true)');
    expect(checksOn(gh, SHA.A)[0]?.conclusion).toBe('failure');
  });

  test('baseline: none looks nothing up; a baseline file is used as is (baseline_sha empty)', async ({ step, github }) => {
    const gh = await github();
    expect((await reportStep(step, gh, { loss: 0.1 }, {}, { sha: BASE })).code).toBe(0);
    gh.requests.length = 0;
    const none = await reportStep(step, gh, { loss: 0.9 }, { thresholds, baseline: 'none' }, { head: SHA.A });
    expect(none.code, why(none)).toBe(0);
    expect(gh.requests.filter((r) => r.path.includes(`/commits/${BASE}/`))).toEqual([]);
    const file = await reportStep(step, gh, { loss: 0.9 }, { thresholds, baseline: 'eval/main.json' }, { head: SHA.B }, { 'main.json': {} });
    expect(file.code).toBe(1);
    expect(file.stderr + file.stdout).toContain('baseline: cannot read "eval/main.json": no such file');
    const used = await reportStep(
      step,
      gh,
      { loss: 0.9 },
      { thresholds, baseline: 'main.json' },
      { head: SHA.B },
      { 'main.json': [{ name: 'loss', value: 0.8 }] },
    );
    expect(used.code).toBe(1);
    expect(used.outputs).toMatchObject({ baseline_sha: '', failed_rules: 'loss <= baseline + 0.05 — got 0.9, needed ≤ 0.85 (baseline 0.8)' });
  });

  test('GitHub failing while looking it up: "no baseline" with a warning naming the error, not a failure', async ({ step, github }) => {
    const gh = await github();
    gh.failWith = 502;
    const result = await reportStep(step, gh, { loss: 0.9 }, { thresholds }, { head: SHA.A });
    expect(result.code, why(result)).toBe(0);
    const warnings = annotations(result.stdout, 'warning');
    expect(warnings).toMatch(
      /baseline: could not read the check runs of the base commit 0ba5e00: .*Resource not accessible by integration.*; no baseline/,
    );
    expect(warnings).toMatch(/No check run "Loops eval": GitHub refused it \(HTTP 502/);
    expect(result.outputs).toMatchObject({ passed: 'true', baseline_sha: '', check_run_url: '' });
  });

  test('GitHub answering the lookup with a 100 KB error page: the warning carries a line of it, the check run and the comment are still written', async ({
    step,
    github,
  }) => {
    const gh = await github();
    gh.failReads = {
      path: new RegExp(`/commits/${BASE}/check-runs`),
      status: 500,
      html: `<html><body>${'Internal error. '.repeat(6400)}</body></html>`,
    };
    const result = await reportStep(step, gh, { loss: 0.9 }, { thresholds }, { head: SHA.A });
    expect(result.code, why(result)).toBe(0);
    const warning = annotations(result.stdout, 'warning');
    expect(warning).toMatch(/baseline: could not read the check runs of the base commit 0ba5e00: .*Internal error.*…; no baseline/);
    expect(warning.length).toBeLessThan(1000);
    const [check] = checksOn(gh, SHA.A);
    expect(check?.conclusion).toBe('neutral');
    expect(check?.output?.summary).toContain('Internal error');
    expect((check?.output?.summary ?? '').length).toBeLessThan(5000);
    expect(result.outputs.check_run_url).toBe(check?.html_url);
    expect(commentsOn(gh, PR).join('\n')).toContain('Internal error');
  });
});

describe.concurrent('bad input: an error naming the file, metric or line, and nothing posted', () => {
  const cases: Array<[string, unknown, Inputs, RegExp]> = [
    ['a missing metrics file', undefined, { metrics: 'out/none.json' }, /metrics: cannot read "out\/none.json": no such file/],
    ['a directory', undefined, { metrics: '.' }, /metrics: cannot read ".": a directory, not a file/],
    ['no metrics input', undefined, { metrics: '' }, /metrics: required/],
    ['a file that is not JSON', '{"acc": 0.8,', {}, /metrics: "metrics.json": not JSON/],
    ['a non-numeric value', { acc: '0.8' }, {}, /metrics: "metrics.json": metric "acc" is not a number \(got "0.8"\)/],
    ['NaN', '{"acc": NaN}', {}, /metric "acc" is NaN/],
    ['Infinity', '[{"name": "loss", "value": Infinity}]', {}, /metric "loss" is Infinity/],
    ['a value out of range', '{"loss": 1e999}', {}, /metric "loss" is out of range/],
    [
      'duplicate names',
      [
        { name: 'acc', value: 1 },
        { name: 'acc', value: 2 },
      ],
      {},
      /metric "acc" appears more than once/,
    ],
    ['over 100 metrics', Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`m${i}`, i])), {}, /101 metrics; at most 100/],
    [
      'a rule that does not parse',
      { acc: 1 },
      { thresholds: '\n\n# the floor\nacc >= 0.5\nacc => 0.8' },
      /thresholds: line 5 \("acc => 0.8"\): => is not an operator/,
    ],
    [
      'a rule naming a metric not in the file',
      { acc: 1 },
      { thresholds: 'accuracy >= 0.8' },
      /thresholds: line 1 \("accuracy >= 0.8"\): no metric "accuracy" in "metrics.json"/,
    ],
    ['a baseline file that is not JSON', { acc: 1 }, { baseline: 'metrics.json.bak' }, /baseline: cannot read "metrics.json.bak": no such file/],
    ['a bad run_id', { acc: 1 }, { run_id: 'run 1; rm -rf' }, /run_id: must be a Loops ID/],
    ['a bad boolean', { acc: 1 }, { comment_on_pr: 'yes' }, /comment_on_pr: must be true or false/],
    ['a check name too long', { acc: 1 }, { check_name: 'c'.repeat(101) }, /check_name: at most 100 characters/],
  ];

  test.for(cases)('%s', async ([, metrics, inputs, expected], { step, github }) => {
    const gh = await github();
    const files = metrics === undefined ? {} : { 'metrics.json': metrics };
    const dir = workspace(files);
    const ctx = context(gh, { head: SHA.A });
    const result = await step({
      action: 'report',
      inputs: { metrics: 'metrics.json', github_token: TOKEN, run_id: 'run1', ...inputs },
      env: { ...ctx.env, GITHUB_WORKSPACE: dir },
      event: ctx.event,
    });
    expect(result.code).toBe(1);
    const error = annotations(result.stdout);
    expect(error).toMatch(/^Invalid inputs; nothing was posted:\n- /);
    expect(error).toMatch(expected);
    expect(gh.requests).toEqual([]);
    expect(result.outputs).toEqual({});
    expect(result.summary).toContain('**error**: Invalid inputs; nothing was posted:');
  });

  test('every problem at once', async ({ step, github }) => {
    const gh = await github();
    const result = await reportStep(step, gh, '{"a": NaN, "b": "x"}', { thresholds: 'a == 1\nb >= 2', comment_on_pr: 'maybe' }, { head: SHA.A });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout).split('\n').slice(1)).toEqual([
      '- metrics: "metrics.json": metric "a" is NaN; values must be finite numbers',
      '- metrics: "metrics.json": metric "b" is not a number (got "x")',
      '- thresholds: line 1 ("a == 1"): == is not an operator; expected NAME OP VALUE, OP one of >= <= > <, VALUE a number, baseline, baseline + N or baseline - N',
      '- comment_on_pr: must be true or false (got "maybe")',
    ]);
    expect(gh.requests).toEqual([]);
  });
});

describe.concurrent('hostile metric names', () => {
  const NAMES = [
    '</table></details><img src=x onerror=alert(1)> | @octocat',
    'line\nbreak | --- |',
    '```\n```mermaid\nxychart-beta\n  title "x" %%',
    '<!-- /baseten-loops-appendix 0123456789abcdef --><!-- baseten-loops-launch-runs-data [{"id":"evil","sha7":"abc1234","state":"this run"}] -->',
    '--> <!-- loops-eval {"v":1,"metrics":{"x":1},"run_id":"","leg_key":"","sha":""} -->',
    `${'@admin '.repeat(30)}end`,
  ];

  test('escaped everywhere, cut to 64 in the comment, stored whole in the check block, unable to break the table, the charts or the hidden data', async ({
    step,
    github,
  }) => {
    const gh = await github();
    const thresholds = NAMES.map((n) => `${JSON.stringify(n)} >= 0`).join('\n');
    for (const [head, shift] of [
      [SHA.A, 0],
      [SHA.B, 1],
    ] as const) {
      const metrics = NAMES.map((name, i) => ({ name, value: i + shift }));
      const result = await reportStep(step, gh, metrics, { thresholds }, { head });
      expect(result.code, why(result)).toBe(0);
    }
    const [comment, ...others] = commentsOn(gh, PR);
    expect(others).toEqual([]);
    const body = comment ?? '';
    // One appendix, one hidden history, no runs data: nothing of theirs became a marker.
    expect(appendicesOf(body)).toHaveLength(1);
    expect(body.match(/<!--/g)).toHaveLength(4);
    expect(parseRuns(body)).toBeUndefined();
    expect(parseHistory(body)).toHaveLength(2);
    // The table: a header, a rule, a row per name, each of six cells.
    const table = body.split('\n').filter((l) => l.startsWith('| `') && !/^\| `[0-9a-f]{7}` \|/.test(l));
    expect(table).toHaveLength(NAMES.length);
    // GitHub splits a row at each | that no backslash escapes.
    for (const row of table) expect(row.split(/(?<!\\)\|/).length).toBe(8);
    // No mention outside code, charts from a plain character set.
    expect(body.replace(/`+[^`]*`+/g, '')).not.toMatch(/@\w/);
    expect(charts(body).length).toBeGreaterThan(0);
    for (const chart of charts(body)) expect(chart.split('\n')[1]).toMatch(/^ {2}title "[A-Za-z0-9 _.,()/+-]+"$/);
    // The check run keeps the names whole.
    const block = parseBlock(checksOn(gh, SHA.B)[0]?.output.text);
    expect(Object.keys(block?.metrics ?? {})).toEqual(NAMES);
    expect(checksOn(gh, SHA.B)[0]?.output.text?.match(/<!--/g)).toHaveLength(1);
  });
});

describe.concurrent('permissions', () => {
  test("a fork's read-only token: the job summary has the report and says why there is no check; a failing rule still fails the step", async ({
    step,
    github,
  }) => {
    const gh = await github();
    gh.readOnly = true;
    const result = await reportStep(step, gh, { acc: 0.5 }, { thresholds: 'acc >= 0.8' }, { head: SHA.A, headRepo: 'mallory/finetune' });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toBe('1 rule failed:\n- acc >= 0.8 — got 0.5, needed ≥ 0.8');
    expect(result.outputs).toMatchObject({ passed: 'false', check_run_url: '' });
    expect(gh.checkRuns).toEqual([]);
    expect(gh.comments.size).toBe(0);
    // It tried (reads work), and was refused each write.
    expect(writes(gh).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /repos/acme/finetune/check-runs',
      `POST /repos/acme/finetune/issues/${PR}/comments`,
    ]);
    const warnings = annotations(result.stdout, 'warning');
    expect(warnings).toContain('Give the job `permissions: checks: write`. This pull request comes from a fork: its token is read-only');
    expect(warnings).toContain('Give the job `permissions: pull-requests: write`');
    expect(result.summary).toContain('| `acc` | 0.5 | — | — | acc &gt;= 0.8 | ✗ |');
    expect(result.summary).toContain(
      'This pull request comes from a fork: its token is read-only whatever the workflow asks, so it can have no check run',
    );
    expect(result.summary).toContain('No pull-request comment: this pull request comes from a fork, whose token is read-only.');
  });

  test('a 403 on this repository names the permission, without blaming a fork; passing rules pass', async ({ step, github }) => {
    const gh = await github();
    gh.readOnly = true;
    const result = await reportStep(step, gh, { acc: 0.9 }, { thresholds: 'acc >= 0.8' }, { head: SHA.A });
    expect(result.code, why(result)).toBe(0);
    const warning = annotations(result.stdout, 'warning')
      .split('\n')
      .find((l) => l.startsWith('No check run'));
    expect(warning).toMatch(
      /^No check run "Loops eval": GitHub refused it \(HTTP 403: Resource not accessible by integration.*\)\. Give the job `permissions: checks: write`\.$/,
    );
  });
});

describe.concurrent('re-runs and legs', () => {
  test('a re-run updates the check run and the comment section rather than adding one', async ({ step, github }) => {
    const gh = await github();
    const first = await reportStep(step, gh, { acc: 0.7 }, { thresholds: 'acc >= 0.8' }, { head: SHA.A });
    expect(first.code).toBe(1);
    const [check] = checksOn(gh, SHA.A);
    gh.requests.length = 0;
    const again = await reportStep(step, gh, { acc: 0.85 }, { thresholds: 'acc >= 0.8' }, { head: SHA.A, attempt: 2 });
    expect(again.code, why(again)).toBe(0);
    expect(writes(gh).map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH /repos/acme/finetune/check-runs/${check?.id}`,
      `PATCH /repos/acme/finetune/issues/comments/${gh.comments.get(`acme/finetune#${PR}`)?.[0]?.id}`,
    ]);
    expect(checksOn(gh, SHA.A).map((c) => [c.id, c.conclusion])).toEqual([[check?.id, 'success']]);
    expect(again.outputs.check_run_url).toBe(check?.html_url);
    const comments = commentsOn(gh, PR);
    expect(comments).toHaveLength(1);
    expect(appendicesOf(comments[0] ?? '')).toHaveLength(1);
    expect(parseHistory(comments[0]).map((p) => [p.sha, p.values.acc])).toEqual([[SHA.A, 0.85]]);
  });

  test('matrix legs with one check name keep a check run and a baseline each (leg_key); a re-run of one updates only its own', async ({
    step,
    github,
  }) => {
    const gh = await github();
    const legs = ['{"model":"a"}', '{"model":"b"}'] as const;
    for (const [i, leg] of legs.entries())
      expect((await reportStep(step, gh, { acc: 0.5 + i * 0.2 }, { leg_key: leg }, { sha: BASE })).code).toBe(0);
    for (const leg of legs) {
      const result = await reportStep(step, gh, { acc: 0.65 }, { leg_key: leg, thresholds: 'acc >= baseline' }, { head: SHA.A });
      expect(result.code, why(result)).toBe(leg === legs[0] ? 0 : 1);
    }
    expect(checksOn(gh, SHA.A).map((c) => [parseBlock(c.output.text)?.leg_key, c.conclusion])).toEqual([
      [legs[0], 'success'],
      [legs[1], 'failure'],
    ]);
    // Leg a's check run is the older one: GitHub's default listing (filter=latest) would hide it.
    const [a, b] = checksOn(gh, SHA.A);
    const bBefore = JSON.stringify(b);
    const rerun = await reportStep(step, gh, { acc: 0.4 }, { leg_key: legs[0], thresholds: 'acc >= baseline' }, { head: SHA.A, attempt: 2 });
    expect(rerun.code).toBe(1);
    expect(checksOn(gh, SHA.A)).toHaveLength(2);
    expect(checksOn(gh, SHA.A)[0]).toMatchObject({ id: a?.id, conclusion: 'failure' });
    expect(JSON.stringify(checksOn(gh, SHA.A)[1])).toBe(bBefore);
    // Without the launch's comments, each leg keeps a comment of its own.
    expect(commentsOn(gh, PR)).toHaveLength(2);
  });

  test("a comment someone else wrote with the report's marker is never edited: the report writes its own", async ({ step, github }) => {
    const gh = await github();
    const marker = `<!-- baseten-loops-eval ${reportKey('Loops eval', '')} -->`;
    gh.comments.set(`acme/finetune#${PR}`, [
      { id: 1, body: `${marker}\nhi`, html_url: 'https://github.example/c/1', user: { login: 'mallory' } },
    ]);
    const result = await reportStep(step, gh, { acc: 1 }, {}, { head: SHA.A });
    expect(result.code, why(result)).toBe(0);
    const comments = gh.comments.get(`acme/finetune#${PR}`) ?? [];
    expect(comments.map((c) => [c.id, c.user.login])).toEqual([
      [1, 'mallory'],
      [expect.any(Number), 'github-actions[bot]'],
    ]);
    expect(comments[0]?.body).toBe(`${marker}\nhi`);
  });
});

describe.concurrent('GitHub Enterprise Server', () => {
  test('the check runs and the comment go to the API URL of the context (/api/v3)', async ({ step }) => {
    const gh = await startFakeGithub('/api/v3');
    try {
      const result = await reportStep(step, gh, { acc: 1 }, { thresholds: 'acc >= 1' }, { head: SHA.A });
      expect(result.code, why(result)).toBe(0);
      expect(gh.requests.filter((r) => r.path.startsWith('(outside'))).toEqual([]);
      expect(gh.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual(
        expect.arrayContaining([
          `GET /repos/acme/finetune/commits/${BASE}/check-runs`,
          `GET /repos/acme/finetune/commits/${SHA.A}/check-runs`,
          'POST /repos/acme/finetune/check-runs',
          `POST /repos/acme/finetune/issues/${PR}/comments`,
        ]),
      );
      expect(gh.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
      expect(gh.requests.find((r) => r.path.includes('/commits/'))?.query).toMatchObject({ check_name: 'Loops eval', filter: 'all' });
    } finally {
      await gh.close();
    }
  });
});
