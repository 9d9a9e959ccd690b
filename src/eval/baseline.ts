// Where the baseline comes from: `none`; a file (read with the inputs); or `base`, the scores this
// report (same check_name and leg_key) stored in its check run on the pull request's base commit
// — written there by the same action on a push to the base branch. Not finding them, or GitHub
// failing while looking, means "no baseline", said in the log and the summary; never a failure.

import type { GithubContext } from '../context.js';
import type { Log } from '../core/log.js';
import { GITHUB_TIMEOUT_MS, messageOf, openGithub } from '../report/github.js';
import { reportsOn } from './checks.js';
import type { ReportSettings } from './inputs.js';

export interface Baseline {
  values?: ReadonlyMap<string, number>;
  /** The commit the baseline came from (the `baseline_sha` output); empty for a file or none. */
  sha: string;
  /** Where it came from, or why there is none: one line for the summary. */
  text: string;
}

export async function findBaseline(settings: ReportSettings, ctx: GithubContext, log: Log): Promise<Baseline> {
  const choice = settings.baseline;
  if (choice.kind === 'none') return { sha: '', text: 'none (baseline: none)' };
  if (choice.kind === 'file') {
    return { values: new Map(choice.metrics.map((m) => [m.name, m.value])), sha: '', text: `the file ${choice.path}` };
  }
  const baseSha = ctx.pullRequest?.baseSha;
  const none = (why: string, level: 'info' | 'warning' = 'info'): Baseline => {
    log[level](`baseline: ${why}; no baseline`);
    return { sha: '', text: `none: ${why}` };
  };
  if (!baseSha) return none(`not a pull request event (${ctx.eventName || 'unknown'}), so there is no base commit`);
  const base7 = baseSha.slice(0, 7);
  if (!settings.githubToken) return none(`no github_token to read the check runs of the base commit ${base7}`, 'warning');
  try {
    const found = await reportsOn(await openGithub(ctx, settings.githubToken, GITHUB_TIMEOUT_MS), baseSha, settings.checkName, settings.legKey);
    const report = found.find((f) => f.completed) ?? found[0];
    if (!report) {
      return none(
        `no "${settings.checkName}" check run with this leg_key on the base commit ${base7} (run this action on pushes to the base branch to store one)`,
      );
    }
    const run = report.block.run_id ? ` of run ${report.block.run_id}` : '';
    log.info(`baseline: the scores${run} stored on the base commit ${base7} (${report.url || `check run ${report.id}`})`);
    return { values: new Map(Object.entries(report.block.metrics)), sha: baseSha, text: `the scores${run} on the base commit ${base7}` };
  } catch (error) {
    return none(`could not read the check runs of the base commit ${base7}: ${messageOf(error)}`, 'warning');
  }
}
