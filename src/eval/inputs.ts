// The eval report's inputs → one validated, typed ReportSettings, files read through the reader
// passed in. As for the launch, every problem is reported at once, each naming its input and the
// file, metric or line; nothing is posted when one is found.

import { CONTROL_CHARS, FieldReader, type InputReader, show } from '../fields.js';
import type { ParseResult } from '../inputs.js';
import { MAX_BLOCK, renderBlock } from './block.js';
import { type Metric, parseMetrics } from './metrics.js';
import { type Rule, parseRules } from './rules.js';

/** The defaults report/action.yml declares. */
export const REPORT_DEFAULTS = {
  baseline: 'base',
  check_name: 'Loops eval',
  comment_on_pr: 'true',
  thresholds_need_baseline: 'false',
} as const satisfies Record<string, string>;

/** The report's outputs. */
export const REPORT_OUTPUT_NAMES = ['passed', 'failed_rules', 'baseline_sha', 'check_run_url'] as const;
export type ReportOutputName = (typeof REPORT_OUTPUT_NAMES)[number];

export type BaselineChoice = { kind: 'base' } | { kind: 'none' } | { kind: 'file'; path: string; metrics: Metric[] };

export interface ReportSettings {
  metricsPath: string;
  metrics: Metric[];
  runId: string;
  baseline: BaselineChoice;
  rules: Rule[];
  needBaseline: boolean;
  checkName: string;
  commentOnPr: boolean;
  githubToken: string;
  legKey: string;
}

/** A file's text; throws an Error that says why it could not be read. */
export type ReadText = (path: string) => string;

const MAX_CHECK_NAME = 100;

export function parseReportInputs(read: InputReader, env: Record<string, string | undefined>, readText: ReadText): ParseResult<ReportSettings> {
  const f = new FieldReader(read, REPORT_DEFAULTS);
  const metricsPath = f.text('metrics');
  if (!metricsPath) f.fail('metrics: required: the path to a JSON file of the scores ({"name": number, …} or [{"name", "value"}, …])');
  const metrics = metricsPath ? readMetrics(f, 'metrics', metricsPath, readText) : [];
  const baselineText = f.text('baseline');
  const baseline: BaselineChoice =
    baselineText === 'base' || baselineText === 'none'
      ? { kind: baselineText }
      : { kind: 'file', path: baselineText, metrics: readMetrics(f, 'baseline', baselineText, readText) };
  const settings: ReportSettings = {
    metricsPath,
    metrics,
    runId: f.id('run_id') ?? '',
    baseline,
    // Untrimmed (report.ts reads it so), so that line numbers are the user's, blank lines at the top counted.
    rules: readRules(f, read('thresholds') ?? '', metrics, metricsPath),
    needBaseline: f.bool('thresholds_need_baseline'),
    checkName: f.text('check_name'),
    commentOnPr: f.bool('comment_on_pr'),
    githubToken: f.text('github_token') || (env.GITHUB_TOKEN ?? '').trim(),
    legKey: f.text('leg_key'),
  };
  if ([...settings.checkName].length > MAX_CHECK_NAME || CONTROL_CHARS.test(settings.checkName)) {
    f.fail(`check_name: at most ${MAX_CHECK_NAME} characters, no control characters (got ${show(settings.checkName)})`);
  }
  // Names are stored whole in the check run's block: refuse now what GitHub would refuse after the baseline lookup.
  const metricsObject = Object.fromEntries(metrics.map((m) => [m.name, m.value]));
  const block = renderBlock({ v: 1, metrics: metricsObject, run_id: settings.runId, leg_key: settings.legKey, sha: '0'.repeat(40) });
  if (block.length > MAX_BLOCK) {
    f.fail(
      `metrics: ${show(metricsPath)}: the names and scores take ${block.length} characters in the check run, at most ${MAX_BLOCK}: shorten the names`,
    );
  }
  if (f.errors.length > 0) return { ok: false, errors: f.errors, warnings: f.warnings };
  return { ok: true, settings, warnings: f.warnings };
}

function readMetrics(f: FieldReader, input: string, path: string, readText: ReadText): Metric[] {
  let text: string;
  try {
    text = readText(path);
  } catch (error) {
    f.fail(`${input}: cannot read ${show(path)}: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
  const parsed = parseMetrics(text, `${input}: ${show(path)}`);
  if (parsed.ok) return parsed.metrics;
  for (const problem of parsed.errors) f.fail(problem);
  return [];
}

/** The rules, each naming a metric of the file (checked only when the file could be read). */
function readRules(f: FieldReader, text: string, metrics: Metric[], metricsPath: string): Rule[] {
  const parsed = parseRules(text);
  if (!parsed.ok) {
    for (const problem of parsed.errors) f.fail(problem);
    return [];
  }
  if (metrics.length > 0) {
    const names = new Set(metrics.map((m) => m.name));
    for (const rule of parsed.rules) {
      if (!names.has(rule.metric))
        f.fail(`thresholds: line ${rule.line} (${show(rule.text)}): no metric ${show(rule.metric)} in ${show(metricsPath)}`);
    }
  }
  return parsed.rules;
}
