// The pull-request comment: one per pull request and job, found again by a hidden marker
// and updated in place. Octokit is loaded only here, only when a comment is wanted.

import { createHash } from 'node:crypto';
import type { GithubContext } from '../context.js';
import type { Settings } from '../inputs.js';
import type { Status } from './outputs.js';

export interface CommentData {
  settings: Pick<Settings, 'baseModel' | 'loraRank' | 'maxSeqLen' | 'checkpointPath'>;
  status: Status;
  runId?: string;
  runName?: string;
  samplerBaseUrl?: string;
  samplerStatus?: string;
  trainerStatus?: string;
  message?: string;
}

export const PR_EVENTS: ReadonlySet<string> = new Set(['pull_request', 'pull_request_target']);

/**
 * The hidden marker. It names the job, plus a short hash of what distinguishes matrix legs
 * of that job (model, rank, sequence length, checkpoint), so each leg keeps its own comment.
 */
export function commentMarker(ctx: GithubContext, data: CommentData): string {
  const s = data.settings;
  const leg = createHash('sha256')
    .update([s.baseModel, s.loraRank, s.maxSeqLen ?? '', s.checkpointPath ?? ''].join('\n'))
    .digest('hex')
    .slice(0, 10);
  return `<!-- baseten-loops-launch job=${ctx.job || 'job'} leg=${leg} -->`;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function renderComment(ctx: GithubContext, data: CommentData): string {
  const runLink = ctx.repository && ctx.runId ? `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}` : '';
  const statuses = [data.samplerStatus && `sampler ${data.samplerStatus}`, data.trainerStatus && `trainer ${data.trainerStatus}`]
    .filter(Boolean)
    .join(', ');
  const rows: Array<[string, string]> = [
    ['Run', data.runId ? `\`${data.runId}\`${data.runName ? ` (${cell(data.runName)})` : ''}` : '—'],
    ['Sampler URL', data.samplerBaseUrl ? `\`${data.samplerBaseUrl}\`` : '—'],
    ['Status', `**${data.status}**${statuses ? ` (${statuses})` : ''}`],
    ['Base model', `\`${data.settings.baseModel}\``],
    ['LoRA rank', String(data.settings.loraRank)],
  ];
  if (data.settings.checkpointPath) rows.push(['Checkpoint', `\`${data.settings.checkpointPath}\``]);
  if (runLink) rows.push(['Workflow run', `[${ctx.job || 'logs'}](${runLink})`]);
  return [
    commentMarker(ctx, data),
    `### Baseten Loops run${ctx.pullRequest?.headSha ? ` for ${ctx.pullRequest.headSha.slice(0, 7)}` : ''}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    ...(data.message ? ['', cell(data.message)] : []),
    '',
  ].join('\n');
}

export interface CommentLog {
  info(line: string): void;
  warning(line: string): void;
}

/** Creates or updates the comment. Never throws: a failure is a warning with the fix. */
export async function upsertComment(
  ctx: GithubContext,
  token: string,
  data: CommentData,
  log: CommentLog,
  timeoutMs = 30_000,
): Promise<void> {
  if (!PR_EVENTS.has(ctx.eventName) || !ctx.pullRequest) {
    log.info(`comment_on_pr: not a pull request event (${ctx.eventName || 'unknown'}); no comment`);
    return;
  }
  if (!token) {
    log.warning('comment_on_pr: no github_token; pass `github_token: ${{ github.token }}` to comment on the pull request');
    return;
  }
  const [owner, repo] = ctx.repository.split('/');
  if (!owner || !repo) {
    log.warning('comment_on_pr: GITHUB_REPOSITORY is not set; no comment');
    return;
  }
  const body = renderComment(ctx, data);
  const marker = commentMarker(ctx, data);
  try {
    const { getOctokit } = await import('@actions/github');
    const octokit = getOctokit(token, { baseUrl: ctx.apiUrl, request: { signal: AbortSignal.timeout(timeoutMs) } });
    const issue = { owner, repo, issue_number: ctx.pullRequest.number };
    const comments = await octokit.paginate(octokit.rest.issues.listComments, { ...issue, per_page: 100 });
    const existing = comments.find((c) => typeof c.body === 'string' && c.body.includes(marker));
    if (existing) {
      await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body });
      log.info(`Updated the pull request comment (${existing.html_url ?? existing.id})`);
    } else {
      const created = await octokit.rest.issues.createComment({ ...issue, body });
      log.info(`Commented on the pull request (${created.data.html_url ?? created.data.id})`);
    }
  } catch (error) {
    const status = (error as { status?: number }).status;
    const message = (error as Error).message ?? String(error);
    const fix =
      status === 403 || status === 404
        ? ' Give the job `permissions: pull-requests: write`; on pull requests from forks the token is read-only, so no comment can be posted there.'
        : '';
    log.warning(`comment_on_pr: could not comment on pull request #${ctx.pullRequest.number}: ${message}.${fix}`);
  }
}
