// What the eval report writes, from hostile metric names: the Eval section (table, history, charts,
// hidden data), the check run's summary and block, and the comment's appendices. Names must not
// break the table, the Mermaid block, the hidden JSON or the comment's markers, and mention nobody.

import { describe, expect, it } from 'vitest';
import { parseBlock, renderBlock, reportKey } from '../src/eval/block.js';
import { chartNumber, renderCharts } from '../src/eval/chart.js';
import { MAX_OUTPUT } from '../src/eval/checks.js';
import { MAX_COMMENT } from '../src/eval/comment.js';
import { MAX_PUSHES, type Push, parseHistory, renderHistoryData, withPush } from '../src/eval/history.js';
import type { Metric } from '../src/eval/metrics.js';
import { type ReportView, pushOf, renderCheckSummary, renderSection, shownName, trackedNames } from '../src/eval/render.js';
import { conclude, evaluate, parseRules } from '../src/eval/rules.js';
import { appendicesOf, appendixOf, parseRuns, renderComment, withAppendix } from '../src/report/comment.js';

const HOSTILE = [
  '</table><img src=x onerror=alert(1)> | @octocat',
  'a\nb | c\r\n| --- |',
  '```\n```mermaid\nxychart-beta\n  title "x" %% ;',
  '<!-- /baseten-loops-appendix 0123456789abcdef -->',
  '<!-- baseten-loops-launch-runs-data [{"id":"evil","sha7":"abc","state":"this run"}] -->',
  '--> <!-- loops-eval-history {"v":1,"pushes":[]} -->',
  '[click](https://evil.example) ![img](https://evil.example/x.png) **bold** @team/all',
  `${'é'.repeat(40)}${'😀'.repeat(40)}`,
  '"]\n  line [1,2,3]\n  x-axis ["',
];

const sha = (c: string): string => c.repeat(40);

function view(metrics: Metric[], thresholds = '', baseline?: Map<string, number>): ReportView {
  const parsed = parseRules(thresholds);
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const results = evaluate(parsed.rules, new Map(metrics.map((m) => [m.name, m.value])), baseline);
  return {
    checkName: 'Loops eval',
    headSha: sha('b'),
    runId: 'run-2',
    metrics,
    results,
    outcome: conclude(results, false),
    needBaseline: false,
    baseline,
    baselineText: 'the scores of run run-1 on the base commit aaaaaaa',
    checkUrl: 'https://github.example/acme/finetune/runs/7',
  };
}

/** The table rows of a Markdown text (lines starting with `|`), as cell lists. */
const rows = (markdown: string): string[][] =>
  markdown
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) => l.split('|').slice(1, -1));

/** The text outside code spans and fenced blocks: what GitHub renders as Markdown. */
const rendered = (markdown: string): string => markdown.replace(/```mermaid[\s\S]*?```/g, '').replace(/(`+) [^`]*? \1|(`+)[^`]*?\2/g, '');

const hostileMetrics = HOSTILE.map((name, i) => ({ name, value: i / 10 }));

describe('hostile metric names in the Eval section', () => {
  const pushes = [
    { sha: sha('a'), run_id: 'run-1', conclusion: 'success', values: { [shownName(HOSTILE[0] as string)]: 0.5 } } as Push,
    pushOf(view(hostileMetrics)),
  ];
  const section = renderSection(view(hostileMetrics), pushes);

  it('cannot break the table: every row has the six columns, one per metric', () => {
    const table = rows(section.split('####')[0] ?? '');
    expect(table).toHaveLength(HOSTILE.length + 2);
    for (const row of table) expect(row).toHaveLength(6);
  });

  it('form no HTML, link, image or mention: outside code nothing of theirs is left but escaped text', () => {
    const outside = rendered(section)
      .replace(/<!-- loops-eval-history [^>]* -->/, '')
      .replace('[check run](https://github.example/acme/finetune/runs/7)', '');
    expect(outside).not.toMatch(/<(?!br>)/);
    expect(outside).not.toMatch(/@\w/);
    expect(outside).not.toContain('](');
    // In the source too, no `<` of theirs: no marker of any kind can form.
    expect(section.match(/</g)?.length).toBe((section.match(/<br>/g)?.length ?? 0) + 1);
  });

  it('are cut to 64 characters where shown', () => {
    const shown = rows(section).map((r) => (r[0] ?? '').trim());
    for (const name of shown.slice(2)) expect([...name.replace(/^`+ ?| ?`+$/g, '')].length).toBeLessThanOrEqual(64);
    expect(shownName('x'.repeat(65))).toBe(`${'x'.repeat(63)}…`);
    expect(shownName('😀'.repeat(64))).toBe('😀'.repeat(64));
  });

  it('cannot break the Mermaid block: titles and values in a plain character set, fences paired', () => {
    const charts = [...section.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1] as string);
    expect(charts.length).toBeGreaterThan(0);
    for (const chart of charts) {
      const lines = chart.split('\n');
      expect(lines[0]).toBe('xychart-beta');
      expect(lines[1]).toMatch(/^ {2}title "[A-Za-z0-9 _.,()/+-]{1,64}"$/);
      expect(lines[2]).toMatch(/^ {2}x-axis \["[0-9a-f]{7}"(, "[0-9a-f]{7}")+\]$/);
      expect(lines[3]).toMatch(/^ {2}line \[-?[\d.]+(, -?[\d.]+)+\]$/);
      expect(lines).toHaveLength(4);
    }
    expect((section.match(/```/g)?.length ?? 0) % 2).toBe(0);
  });

  it('cannot break the hidden JSON: it reads back as written', () => {
    expect(parseHistory(section)).toEqual(pushes);
    expect(section.match(/<!-- loops-eval-history [^>]* -->/g)).toHaveLength(1);
  });

  it('are stored whole in the check run block, which reads back', () => {
    const metrics = Object.fromEntries(HOSTILE.map((n, i) => [n, i]));
    const block = renderBlock({ v: 1, metrics, run_id: 'r', leg_key: '{"model": "<b>"}', sha: sha('c') });
    expect(block.match(/<!--/g)).toHaveLength(1);
    expect(block.match(/-->/g)).toHaveLength(1);
    expect(block).not.toContain('@');
    expect(parseBlock(`text before\n${block}\ntext after`)).toEqual({ v: 1, metrics, run_id: 'r', leg_key: '{"model": "<b>"}', sha: sha('c') });
    expect(parseBlock('<!-- loops-eval {"v":2,"metrics":{}} -->')).toBeUndefined();
    expect(parseBlock('no block')).toBeUndefined();
  });
});

describe('the comment: the launch keeps the report’s appendix, the report keeps the launch’s table', () => {
  const ctx = { eventName: 'pull_request', repository: 'acme/finetune', job: 'launch', runId: '1', serverUrl: 'https://github.com', apiUrl: '' };
  const launch = renderComment(
    { ...ctx, pullRequest: { number: 3, headSha: sha('b') } },
    {
      settings: { baseModel: 'Qwen/Qwen3-8B', loraRank: 8 },
      leg: 'leg1',
      status: 'ready',
      runId: 'run-2',
      runs: [{ id: 'run-2', sha7: 'bbbbbbb', state: 'this run' }],
    },
  );
  const key = reportKey('Loops eval', '');

  it('an appendix is replaced in place, never doubled, and a hostile section cannot close it early or fake runs data', () => {
    const first = withAppendix(launch, key, renderSection(view(hostileMetrics), []));
    const second = withAppendix(first, key, renderSection(view([{ name: 'acc', value: 1 }]), []));
    expect(appendicesOf(second)).toHaveLength(1);
    expect(second.startsWith(launch.trimEnd())).toBe(true);
    expect(appendixOf(second, key)).toContain('`acc`');
    expect(parseRuns(first)).toEqual([{ id: 'run-2', sha7: 'bbbbbbb', state: 'this run' }]);
    const other = reportKey('Loops eval', 'leg b');
    const both = withAppendix(second, other, 'leg b');
    expect(appendicesOf(both)).toHaveLength(2);
    expect(appendixOf(both, key)).toBe(appendixOf(second, key));
    expect(() => withAppendix(launch, key, '<!-- /baseten-loops-appendix x -->')).toThrow(/marker/);
  });
});

describe('size: 100 metrics of 256 hostile characters and 30 pushes fit GitHub’s limits', () => {
  const names = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}${'<&|@`\n'.repeat(42)}x`.slice(0, 256));
  const metrics = names.map((name, i) => ({ name, value: i + 0.123456789 }));
  const thresholds = names
    .slice(0, 6)
    .map((n) => `${JSON.stringify(n)} >= baseline - 0.000001`)
    .join('\n');
  const base = new Map(names.map((n) => [n, 1]));
  const big = view(metrics, thresholds, base);
  let history: Push[] = [];
  for (let i = 0; i < 35; i++) history = withPush(history, { ...pushOf(big), sha: i.toString(16).padStart(40, '0') });

  it('the history keeps the newest 30 pushes, 6 tracked metrics each', () => {
    expect(history).toHaveLength(MAX_PUSHES);
    expect(history[0]?.sha).toBe((5).toString(16).padStart(40, '0'));
    expect(trackedNames(big)).toHaveLength(6);
    expect(Object.keys(history[0]?.values ?? {})).toHaveLength(6);
  });

  it('the section fits the room the comment leaves, dropping extras and then rows, never the hidden history', () => {
    expect(renderSection(big, history).length).toBeLessThan(MAX_COMMENT / 2);
    for (const room of [20_000, 12_000]) {
      const section = renderSection(big, history, room);
      expect(section.length).toBeLessThanOrEqual(room);
      expect(parseHistory(section)).toEqual(history);
      expect(section).toMatch(/… \d+ more/);
    }
  });

  it('the check summary and block fit output.summary and output.text', () => {
    expect(renderCheckSummary(big, MAX_OUTPUT).length).toBeLessThanOrEqual(MAX_OUTPUT);
    expect(renderCheckSummary(big, 5000).length).toBeLessThanOrEqual(5000);
  });
});

describe('history and charts', () => {
  const push = (c: string, values: Record<string, number>): Push => ({ sha: sha(c), run_id: `run-${c}`, conclusion: 'success', values });

  it('a re-run of a commit replaces its push in place', () => {
    const pushes = withPush([push('a', { x: 1 }), push('b', { x: 2 })], push('a', { x: 3 }));
    expect(pushes.map((p) => [p.sha[0], p.values.x])).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('a chart once a metric has two pushes; at most six', () => {
    expect(renderCharts(['x'], [push('a', { x: 1 })])).toEqual([]);
    expect(renderCharts(['x', 'y'], [push('a', { x: 1, y: 1 }), push('b', { x: 2 })])).toHaveLength(1);
    const many = Array.from({ length: 8 }, (_, i) => `m${i}`);
    const values = Object.fromEntries(many.map((m) => [m, 1]));
    expect(renderCharts(many, [push('a', values), push('b', values)])).toHaveLength(6);
  });

  it("names of Object.prototype's members are metrics like any other: a push without one shows no value", () => {
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
      const now = view([
        { name: 'accuracy', value: 0.9 },
        { name, value: 1 },
      ]);
      const current = pushOf(now);
      expect(Object.keys(current.values)).toEqual(['accuracy', name]);
      // Through the comment's hidden data, as the next push reads it back.
      const pushes = parseHistory(renderHistoryData(withPush([push('a', { accuracy: 0.8 })], current)));
      expect(pushes.map((p) => Object.hasOwn(p.values, name))).toEqual([false, true]);
      const section = renderSection(now, pushes);
      const history = rows(section.split("pull request's pushes")[1] ?? '');
      expect(history.slice(2).map((cells) => cells.slice(2, 4).map((c) => c.trim()))).toEqual([
        ['0.8', '—'],
        ['0.9', '1'],
      ]);
      expect(renderCharts(['accuracy', name], pushes)).toHaveLength(1);
    }
  });

  it('names alike in their first 64 characters are one column: the first of them', () => {
    const stem = 'x'.repeat(70);
    const current = pushOf(
      view([
        { name: `${stem}1`, value: 1 },
        { name: `${stem}2`, value: 2 },
      ]),
    );
    expect(Object.values(current.values)).toEqual([1]);
  });

  it('numbers Mermaid reads: no exponent', () => {
    expect([1e-7, 0.5, -2.25, 1e21, 123456789.123].map(chartNumber)).toEqual([
      '0.0000001',
      '0.5',
      '-2.25',
      '1000000000000000000000',
      '123456790',
    ]);
  });

  it('hidden data that does not fit is dropped, not trusted', () => {
    const body = (json: string): string => `<!-- loops-eval-history ${json} -->`;
    const data = (p: Record<string, unknown>): string =>
      body(JSON.stringify({ v: 2, names: ['x'], pushes: [{ sha: sha('a'), run_id: 'r', conclusion: 'success', values: [[0, 1]], ...p }] }));
    expect(parseHistory(data({}))).toEqual([push('a', { x: 1 })].map((p) => ({ ...p, run_id: 'r' })));
    expect(parseHistory(data({ sha: 'zz' }))).toEqual([]);
    expect(parseHistory(data({ conclusion: 'won' }))).toEqual([]);
    expect(
      parseHistory(
        data({
          values: [
            [5, 1],
            [0, 'x'],
            [0, 2],
          ],
        }),
      )[0]?.values,
    ).toEqual({ x: 2 });
    expect(parseHistory(body('{not json}'))).toEqual([]);
    expect(parseHistory(undefined)).toEqual([]);
  });
});
