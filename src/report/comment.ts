// The pull-request comment: one per pull request and matrix leg, found again by a hidden
// marker and updated in place — but only a comment this token's own identity wrote: anyone can
// paste the marker into a comment of theirs. Octokit is loaded only here, only when wanted.

import type { Log } from '../core/log.js';
import type { Status } from './outputs.js';

/** The parts of the GitHub context the comment uses (a GithubContext fits). */
export interface CommentContext {
  eventName: string;
  repository: string;
  job: string;
  runId: string;
  serverUrl: string;
  apiUrl: string;
  pullRequest?: { number: number; headSha?: string };
}

export interface CommentData {
  settings: { baseModel: string; loraRank: number; checkpointPath?: string };
  /** The leg this comment belongs to (see run-name.ts): every input that shapes the run, plus workflow and job. */
  leg: string;
  status: Status;
  runId?: string;
  runName?: string;
  samplerBaseUrl?: string;
  samplerStatus?: string;
  trainerStatus?: string;
  message?: string;
}

export const PR_EVENTS: ReadonlySet<string> = new Set(['pull_request', 'pull_request_target']);

export function commentMarker(data: Pick<CommentData, 'leg'>): string {
  return `<!-- baseten-loops-launch leg=${data.leg.replace(/[^A-Za-z0-9._-]/g, '')} -->`;
}

/** Text from a server or a user inside a table cell: one line, no HTML, no table breaks, no mentions. */
export function cell(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ') // eslint-disable-line no-control-regex
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] as string)
    .replace(/\|/g, '\\|')
    .replace(/@/g, '@\u200b');
}

/** Inline code that its content cannot break out of. */
export function code(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\|/g, '¦'); // eslint-disable-line no-control-regex
  const fence = '`'.repeat(Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  return `${fence}${fence.length > 1 ? ' ' : ''}${flat}${fence.length > 1 ? ' ' : ''}${fence}`;
}

export function renderComment(ctx: CommentContext, data: CommentData): string {
  const runLink = ctx.repository && ctx.runId ? `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}` : '';
  const statuses = [data.samplerStatus && `sampler ${data.samplerStatus}`, data.trainerStatus && `trainer ${data.trainerStatus}`]
    .filter(Boolean)
    .join(', ');
  const rows: Array<[string, string]> = [
    ['Run', data.runId ? `${code(data.runId)}${data.runName ? ` (${cell(data.runName)})` : ''}` : '—'],
    ['Sampler URL', data.samplerBaseUrl ? code(data.samplerBaseUrl) : '—'],
    ['Status', `**${data.status}**${statuses ? ` (${cell(statuses)})` : ''}`],
    ['Base model', code(data.settings.baseModel)],
    ['LoRA rank', String(data.settings.loraRank)],
  ];
  if (data.settings.checkpointPath) rows.push(['Checkpoint', code(data.settings.checkpointPath)]);
  if (runLink) rows.push(['Workflow run', `[${cell(ctx.job || 'logs')}](${runLink})`]);
  const problems = (data.message ?? '').split('\n').filter((line) => line.trim());
  return [
    commentMarker(data),
    `### Baseten Loops run${ctx.pullRequest?.headSha ? ` for ${cell(ctx.pullRequest.headSha.slice(0, 7))}` : ''}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    ...(problems.length ? ['', ...problems.map((line) => cell(line))] : []),
    '',
  ].join('\n');
}

/** A login without the "[bot]" suffix, which GraphQL and REST spell differently. */
export function sameLogin(a: string, b: string): boolean {
  const plain = (login: string): string => login.replace(/\[bot\]$/i, '').toLowerCase();
  return plain(a) === plain(b);
}

/** Creates or updates the comment. Never throws: a failure is a warning with the fix. */
export async function upsertComment(ctx: CommentContext, token: string, data: CommentData, log: Log, timeoutMs = 30_000): Promise<void> {
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
  const marker = commentMarker(data);
  try {
    const { getOctokit } = await import('@actions/github');
    const octokit = getOctokit(token, { baseUrl: ctx.apiUrl, request: { signal: AbortSignal.timeout(timeoutMs) } });
    const issue = { owner, repo, issue_number: ctx.pullRequest.number };
    const viewer = await octokit.graphql<{ viewer: { login: string } }>('query { viewer { login } }');
    const comments = await octokit.paginate(octokit.rest.issues.listComments, { ...issue, per_page: 100 });
    const existing = comments.find((c) => c.body?.includes(marker) && c.user && sameLogin(c.user.login, viewer.viewer.login));
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
