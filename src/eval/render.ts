// What a reviewer reads: the Eval section (pull-request comment and job summary) and the check
// run's summary. Metric names are hostile text: shown in code (no link, image, HTML or mention can
// form), cut to 64 characters, `|` as ¦ and `<` `>` as ‹ › (so that no marker can form in the
// comment's source either). Server and user text goes through cell().

import { cell, code } from '../report/comment.js';
import { renderCharts } from './chart.js';
import { type Push, MAX_TRACKED, renderHistoryData, valueOf } from './history.js';
import type { Metric } from './metrics.js';
import { type Outcome, type RuleResult, failureLine, fails, formatNumber } from './rules.js';

/** Everything the report shows about this push. */
export interface ReportView {
  checkName: string;
  headSha: string;
  runId: string;
  metrics: Metric[];
  results: RuleResult[];
  outcome: Outcome;
  needBaseline: boolean;
  /** The baseline's values, when there is one. */
  baseline?: ReadonlyMap<string, number>;
  /** Where the baseline came from, or why there is none (one line, may hold server text). */
  baselineText: string;
  checkUrl?: string;
}

const NONE = '—';

/** A name as shown: at most 64 characters. */
export function shownName(name: string): string {
  const chars = [...name];
  return chars.length > 64 ? `${chars.slice(0, 63).join('')}…` : name;
}

/** A rule as shown in a table or list: as written, cut to 120 characters (failed_rules has it whole). */
const shownRule = (text: string): string => cell([...text].length > 120 ? `${[...text].slice(0, 119).join('')}…` : text);

export function metricLabel(name: string): string {
  return code(shownName(name).replace(/</g, '‹').replace(/>/g, '›'));
}

const sha7 = (sha: string): string => code(sha.replace(/[^0-9a-f]/gi, '').slice(0, 7) || '?');

function delta(value: number, base: number | undefined): string {
  if (base === undefined) return NONE;
  const d = Number((value - base).toPrecision(12));
  return d > 0 ? `+${formatNumber(d)}` : formatNumber(d);
}

function mark(r: RuleResult, needBaseline: boolean): string {
  if (r.verdict === 'pass') return '✓';
  if (r.verdict === 'fail') return '✗';
  return fails(r, needBaseline) ? '✗ no baseline' : 'no baseline';
}

export function headline(view: ReportView): string {
  const { results, outcome } = view;
  const waiting = results.filter((r) => r.verdict === 'no_baseline').length;
  const aside = waiting && !view.needBaseline ? ` (${waiting} without a baseline: not counted)` : '';
  if (results.length === 0) return '**neutral**: no thresholds.';
  if (outcome.conclusion === 'failure') return `**✗ failure**: ${outcome.failed.length} of ${results.length} rules failed${aside}.`;
  if (outcome.conclusion === 'success') return `**✓ success**: every rule holds${aside}.`;
  return `**neutral**: no rule could be checked${aside}.`;
}

/** The table of every metric; with `rows`, only the first that many, and a line saying how many more. */
export function renderTable(view: ReportView, rows = view.metrics.length): string[] {
  const lines = view.metrics.slice(0, rows).map((m) => {
    const base = view.baseline?.get(m.name);
    const rules = view.results.filter((r) => r.rule.metric === m.name);
    const ruleText = rules.map((r) => shownRule(r.rule.text)).join('<br>') || NONE;
    const marks = rules.map((r) => mark(r, view.needBaseline)).join('<br>');
    const values = [formatNumber(m.value), base === undefined ? NONE : formatNumber(base), delta(m.value, base)];
    return `| ${metricLabel(m.name)} | ${values.join(' | ')} | ${ruleText} | ${marks} |`;
  });
  const more = view.metrics.length - rows;
  if (more > 0) lines.push(`| … ${more} more (too long to show here: see the job summary) | | | | | |`);
  return ['| metric | this push | base | Δ | rule | ✓/✗ |', '|---|--:|--:|--:|---|---|', ...lines];
}

/**
 * The longest of `render(rows, full)` that fits in `room` characters: everything; else without
 * the extras (history and charts); else fewer table rows.
 */
function fitted(view: ReportView, room: number, render: (rows: number, full: boolean) => string): string {
  const all = view.metrics.length;
  const full = render(all, true);
  if (full.length <= room) return full;
  for (let rows = all; rows > 0; rows--) {
    const text = render(rows, false);
    if (text.length <= room) return text;
  }
  return render(0, false);
}

/** The failing rules with their numbers; `most` of them, and how many more. */
function failing(view: ReportView, most = Infinity): string[] {
  const lines = view.results.filter((r) => fails(r, view.needBaseline)).map((r) => shownRule(failureLine(r)));
  if (!lines.length) return [];
  const more = lines.length > most ? [`- … ${lines.length - most} more`] : [];
  return ['', '**Failing rules**', '', ...lines.slice(0, most).map((line) => `- ${line}`), ...more];
}

/** The metrics whose history is kept and charted: those the rules name first, then the file's order; at most 6, by shown name. */
export function trackedNames(view: Pick<ReportView, 'metrics' | 'results'>): string[] {
  const names = [...view.results.map((r) => r.rule.metric), ...view.metrics.map((m) => m.name)].map(shownName);
  return [...new Set(names)].slice(0, MAX_TRACKED);
}

/** This push, as the history keeps it. */
export function pushOf(view: ReportView): Push {
  const tracked = new Set(trackedNames(view));
  // The first metric of each tracked shown name: names alike in their first 64 characters are one column.
  const values = new Map<string, number>();
  for (const m of view.metrics) {
    const shown = shownName(m.name);
    if (tracked.has(shown) && !values.has(shown)) values.set(shown, m.value);
  }
  return { sha: view.headSha, run_id: view.runId, conclusion: view.outcome.conclusion, values: Object.fromEntries(values) };
}

const VERDICT: Record<Push['conclusion'], string> = { success: '✓', failure: '✗', neutral: NONE };

function history(view: ReportView, pushes: Push[]): string[] {
  if (pushes.length < 2) return [];
  const tracked = trackedNames(view);
  const rows = pushes.map((p) => {
    const values = tracked.map((name) => {
      const value = valueOf(p, name);
      return value === undefined ? NONE : formatNumber(value);
    });
    return `| ${sha7(p.sha)} | ${p.run_id ? code(p.run_id) : NONE} | ${values.join(' | ')} | ${VERDICT[p.conclusion]} |`;
  });
  return [
    '',
    `#### This pull request's pushes (${pushes.length}, oldest first)`,
    '',
    `| commit | run | ${tracked.map(metricLabel).join(' | ')} | verdict |`,
    `|---|---|${tracked.map(() => '--:|').join('')}---|`,
    ...rows,
    ...renderCharts(tracked, pushes).flatMap((chart) => ['', chart]),
  ];
}

/** A link target from GitHub's answer, only when nothing in it can end the link. */
const linkable = (url: string | undefined): url is string => url !== undefined && /^https?:\/\/[^\s()<>[\]]+$/.test(url);

function heading(view: ReportView): string[] {
  const where = [
    `Commit ${sha7(view.headSha)}`,
    view.runId ? `run ${code(view.runId)}` : '',
    linkable(view.checkUrl) ? `[check run](${view.checkUrl})` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return [`### Eval: ${cell(view.checkName)}`, '', headline(view), '', `${where} · baseline: ${cell(view.baselineText)}`, ''];
}

/** The Eval section of the pull-request comment, with its hidden history, in at most `room` characters. */
export function renderSection(view: ReportView, pushes: Push[], room = Infinity): string {
  const data = renderHistoryData(pushes);
  return fitted(view, room, (rows, full) =>
    [...heading(view), ...renderTable(view, rows), ...failing(view, full ? Infinity : 10), ...(full ? history(view, pushes) : []), '', data].join(
      '\n',
    ),
  );
}

/** The check run's output.summary: the verdict, the baseline, the table, the failing rules. */
export function renderCheckSummary(view: ReportView, room: number): string {
  return fitted(view, room, (rows, full) =>
    [headline(view), '', `Baseline: ${cell(view.baselineText)}`, '', ...renderTable(view, rows), ...failing(view, full ? Infinity : 10)].join(
      '\n',
    ),
  );
}

/** The job summary: the Eval section as the comment shows it, then what the step could not do. */
export function renderJobSummary(view: ReportView, pushes: Push[], notes: string[]): string {
  const said = notes.length ? ['', '**Notes**', '', ...notes.map((n) => `- ${cell(n)}`)] : [];
  return [...heading(view), ...renderTable(view), ...failing(view), ...history(view, pushes), ...said, ''].join('\n');
}

/** The job summary of a step that stopped before it had a report (bad input): the problems. */
export function renderErrorSummary(checkName: string, message: string): string {
  const [first = '', ...rest] = message.split('\n');
  return [`### Eval: ${cell(checkName)}`, '', `**error**: ${cell(first)}`, '', ...rest.map((l) => `- ${cell(l.replace(/^\s*- /, ''))}`), ''].join(
    '\n',
  );
}
