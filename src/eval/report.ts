// The eval report action (its own bundle): read and check the inputs (the metrics file, the
// thresholds, a baseline file) → find the baseline → hold each rule → post the check run on the
// head commit → write the Eval section into the pull request's sticky comment → job summary.
// Bad input fails before anything is posted. A failing rule fails the step, whatever happened to
// the check or the comment. It never talks to Loops.

import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import * as core from '@actions/core';
import { type GithubContext, readContext } from '../context.js';
import { UserError, errorMessage } from '../core/errors.js';
import { type Log, actionsLog } from '../core/log.js';
import { redact, writeSummary } from '../core/step-io.js';
import { neutralise } from '../core/text.js';
import { Outputs } from '../report/outputs.js';
import { type Baseline, findBaseline } from './baseline.js';
import { reportKey } from './block.js';
import { checkContent, postCheck } from './check-run.js';
import { writeSection } from './comment.js';
import { withPush } from './history.js';
import { REPORT_DEFAULTS, REPORT_OUTPUT_NAMES, type ReadText, type ReportOutputName, type ReportSettings, parseReportInputs } from './inputs.js';
import { type ReportView, pushOf, renderErrorSummary, renderJobSummary, renderSection } from './render.js';
import { type Outcome, type RuleResult, conclude, evaluate, formatNumber } from './rules.js';

export interface ReportOptions {
  env?: Record<string, string | undefined>;
  log?: Log;
  readText?: ReadText;
}

/** A metrics or baseline file larger than this is refused: no eval writes a megabyte of scores. */
const MAX_FILE_BYTES = 1_048_576;

export async function runReport(options: ReportOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const log = options.log ?? actionsLog;
  const outputs = new Outputs<ReportOutputName>(REPORT_OUTPUT_NAMES, (name, value) => core.setOutput(name, value));
  const token = (core.getInput('github_token') || env.GITHUB_TOKEN || '').trim();
  if (token) core.setSecret(token);
  let summary: string | undefined;
  try {
    const parsed = parseReportInputs(
      (name) => core.getInput(name, { trimWhitespace: name !== 'thresholds' }),
      env,
      options.readText ?? workspaceFiles(env),
    );
    for (const warning of parsed.warnings) log.warning(warning);
    if (!parsed.ok) throw new UserError(`Invalid inputs; nothing was posted:\n${parsed.errors.map((e) => `- ${e}`).join('\n')}`);
    const done = await report(parsed.settings, readContext(env), log, outputs);
    summary = done.summary;
    const failed = done.view.outcome.failed;
    if (failed.length)
      throw new UserError(`${failed.length} rule${failed.length === 1 ? '' : 's'} failed:\n${failed.map((l) => `- ${l}`).join('\n')}`);
  } catch (error) {
    const message = redact(errorMessage(error), token ? [token] : []);
    core.setFailed(neutralise(message));
    summary ??= renderErrorSummary(core.getInput('check_name') || REPORT_DEFAULTS.check_name, message);
  } finally {
    if (summary) await writeSummary(summary);
  }
}

/** Paths relative to the workspace (where actions/checkout puts the repository), as a run: step sees them. */
function workspaceFiles(env: Record<string, string | undefined>): ReadText {
  const root = env.GITHUB_WORKSPACE || process.cwd();
  return (path) => {
    const full = isAbsolute(path) ? path : resolve(root, path);
    let size: number;
    try {
      const stat = statSync(full);
      if (stat.isDirectory()) throw new Error('a directory, not a file');
      size = stat.size;
    } catch (error) {
      throw new Error((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(error));
    }
    if (size > MAX_FILE_BYTES) throw new Error(`${size} bytes; at most ${MAX_FILE_BYTES}`);
    return readFileSync(full, 'utf8');
  };
}

async function report(
  settings: ReportSettings,
  ctx: GithubContext,
  log: Log,
  outputs: Outputs<ReportOutputName>,
): Promise<{ view: ReportView; summary: string }> {
  const headSha = ctx.pullRequest?.headSha ?? ctx.sha;
  const key = reportKey(settings.checkName, settings.legKey);
  const baseline = await findBaseline(settings, ctx, log);
  const results = evaluate(settings.rules, new Map(settings.metrics.map((m) => [m.name, m.value])), baseline.values);
  const outcome = conclude(results, settings.needBaseline);
  for (const r of results) log.info(resultLine(r, settings.needBaseline));
  outputs.set({ passed: outcome.passed, failed_rules: outcome.failed.join('\n'), baseline_sha: baseline.sha });
  const view = viewOf(settings, headSha, results, outcome, baseline);
  const notes: string[] = [];
  const check = await postCheck(checkContent(view, settings, ctx, key), settings, ctx, log);
  if (check.note) notes.push(check.note);
  view.checkUrl = check.url || undefined;
  outputs.set({ check_run_url: check.url ?? '' });
  let pushes = [pushOf(view)];
  if (settings.commentOnPr && ctx.pullRequest) {
    const written = await writeSection(ctx, settings.githubToken, log, {
      key,
      runId: settings.runId,
      render: (previous, room) => {
        const history = withPush(previous, pushOf(view));
        return { content: renderSection(view, history, room), pushes: history };
      },
    });
    if (written) pushes = written;
    else if (ctx.pullRequest.fromFork) notes.push('No pull-request comment: this pull request comes from a fork, whose token is read-only.');
    else notes.push('No pull-request comment: see the warning in the log (the job needs `permissions: pull-requests: write`).');
  }
  return { view, summary: renderJobSummary(view, pushes, notes) };
}

function viewOf(settings: ReportSettings, headSha: string, results: RuleResult[], outcome: Outcome, baseline: Baseline): ReportView {
  return {
    checkName: settings.checkName,
    headSha,
    runId: settings.runId,
    metrics: settings.metrics,
    results,
    outcome,
    needBaseline: settings.needBaseline,
    baseline: baseline.values,
    baselineText: baseline.text,
  };
}

function resultLine(r: RuleResult, needBaseline: boolean): string {
  const got = `got ${formatNumber(r.got)}`;
  if (r.verdict === 'no_baseline')
    return `${needBaseline ? '✗' : '–'} ${r.rule.text}: no baseline (${got})${needBaseline ? '; thresholds_need_baseline: true' : ''}`;
  const base = r.base === undefined ? '' : `, baseline ${formatNumber(r.base)}`;
  return `${r.verdict === 'pass' ? '✓' : '✗'} ${r.rule.text}: ${got}, needed ${r.rule.op} ${formatNumber(r.needed ?? Number.NaN)}${base}`;
}
