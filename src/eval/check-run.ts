// This push's check run: its content (title, the summary a person reads, the block a machine
// reads) and posting it on the head commit, an update when a re-run finds the report's own check
// run there. A check that cannot be written is a note with the fix (the permission to add, or why
// a fork's pull request can have none), never a failure of the step.

import type { GithubContext } from '../context.js';
import type { Log } from '../core/log.js';
import { GITHUB_TIMEOUT_MS, messageOf, openGithub, statusOf } from '../report/github.js';
import { renderBlock } from './block.js';
import { MAX_OUTPUT, type CheckContent, reportsOn, writeCheck } from './checks.js';
import type { ReportSettings } from './inputs.js';
import { type ReportView, renderCheckSummary } from './render.js';

export function checkTitle(view: ReportView): string {
  const { results, outcome } = view;
  if (results.length === 0) return 'No thresholds';
  if (outcome.conclusion === 'failure') return `${outcome.failed.length} of ${results.length} rules failed`;
  if (outcome.conclusion === 'success') return 'Every rule holds';
  return 'No rule could be checked (no baseline)';
}

export function checkContent(view: ReportView, settings: ReportSettings, ctx: GithubContext, key: string): CheckContent {
  const block = renderBlock({
    v: 1,
    metrics: Object.fromEntries(settings.metrics.map((m) => [m.name, m.value])),
    run_id: settings.runId,
    leg_key: settings.legKey,
    sha: view.headSha,
  });
  const run = settings.runId ? ` of run \`${settings.runId}\`` : '';
  return {
    name: settings.checkName,
    headSha: view.headSha,
    conclusion: view.outcome.conclusion,
    title: checkTitle(view),
    summary: renderCheckSummary(view, MAX_OUTPUT),
    text: `${block}\nThe scores${run} at ${view.headSha.slice(0, 7)}: a later pull request whose base is this commit compares with them.`,
    detailsUrl: ctx.repository && ctx.runId ? `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}` : undefined,
    externalId: key,
  };
}

export interface Posted {
  url?: string;
  /** Why there is no check run, for the summary. */
  note?: string;
}

export async function postCheck(content: CheckContent, settings: ReportSettings, ctx: GithubContext, log: Log): Promise<Posted> {
  const no = (why: string): Posted => {
    log.warning(why);
    return { note: why };
  };
  if (!settings.githubToken)
    return no('No check run: no github_token. Pass `github_token: ${{ github.token }}` with `permissions: checks: write`.');
  if (!/^[0-9a-f]{40}$/i.test(content.headSha))
    return no(`No check run: the head commit is unknown (GITHUB_SHA is ${JSON.stringify(content.headSha)}).`);
  try {
    const gh = await openGithub(ctx, settings.githubToken, GITHUB_TIMEOUT_MS);
    const [existing] = await reportsOn(gh, content.headSha, content.name, settings.legKey);
    const url = await writeCheck(gh, content, existing?.id);
    log.info(`Check run "${content.name}" ${existing ? 'updated' : 'created'} on ${content.headSha.slice(0, 7)}: ${content.conclusion} (${url})`);
    return { url };
  } catch (error) {
    const status = statusOf(error);
    const fork = ctx.pullRequest?.fromFork
      ? ' This pull request comes from a fork: its token is read-only whatever the workflow asks, so it can have no check run; this job summary holds the report.'
      : '';
    const fix = status === 403 || status === 404 ? ` Give the job \`permissions: checks: write\`.${fork}` : fork;
    const what = status === undefined ? `could not write it (${messageOf(error)})` : `GitHub refused it (HTTP ${status}: ${messageOf(error)})`;
    return no(`No check run "${content.name}": ${what}.${fix}`);
  }
}
