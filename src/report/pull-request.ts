// GitHub's side of the pull-request comment: who the token is, which comments that identity
// wrote, create or update. Only a comment the token's own identity wrote is ever edited: anyone
// can paste the marker into a comment of theirs. Octokit is loaded only here, only when a
// comment is wanted. Nothing here throws: a failure is a warning with the fix.

import type { Log } from '../core/log.js';
import { type CommentContext, type CommentData, MARKER_PREFIX, commentMarker, parseRuns, renderComment, withRuns } from './comment.js';

interface Comment {
  id: number;
  body?: string;
  html_url?: string;
  user?: { login: string } | null;
}

/** A login without the "[bot]" suffix, which GraphQL and REST spell differently. */
export function sameLogin(a: string, b: string): boolean {
  const plain = (login: string): string => login.replace(/\[bot\]$/i, '').toLowerCase();
  return plain(a) === plain(b);
}

interface Thread {
  /** The comments on the pull request that the token's identity wrote. */
  own: Comment[];
  create(body: string): Promise<Comment>;
  update(id: number, body: string): Promise<void>;
}

async function withThread(
  ctx: CommentContext,
  token: string,
  log: Log,
  timeoutMs: number,
  use: (thread: Thread) => Promise<void>,
): Promise<void> {
  const pr = ctx.pullRequest;
  const [owner, repo] = ctx.repository.split('/');
  if (!pr) return log.info(`comment_on_pr: not a pull request event (${ctx.eventName || 'unknown'}); no comment`);
  if (!token) return log.warning('comment_on_pr: no github_token; pass `github_token: ${{ github.token }}` to comment on the pull request');
  if (!owner || !repo) return log.warning('comment_on_pr: GITHUB_REPOSITORY is not set; no comment');
  try {
    const { getOctokit } = await import('@actions/github');
    const octokit = getOctokit(token, { baseUrl: ctx.apiUrl, request: { signal: AbortSignal.timeout(timeoutMs) } });
    const issue = { owner, repo, issue_number: pr.number };
    const { viewer } = await octokit.graphql<{ viewer: { login: string } }>('query { viewer { login } }');
    const comments: Comment[] = await octokit.paginate(octokit.rest.issues.listComments, { ...issue, per_page: 100 });
    await use({
      own: comments.filter((c) => c.user && sameLogin(c.user.login, viewer.login)),
      create: async (body) => (await octokit.rest.issues.createComment({ ...issue, body })).data,
      update: async (id, body) => {
        await octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body });
      },
    });
  } catch (error) {
    const status = (error as { status?: number }).status;
    const message = (error as Error).message ?? String(error);
    const fix =
      status === 403 || status === 404
        ? ' Give the job `permissions: pull-requests: write`; on pull requests from forks the token is read-only, so no comment can be posted there.'
        : '';
    log.warning(`comment_on_pr: could not comment on pull request #${pr.number}: ${message}.${fix}`);
  }
}

/** Creates this leg's comment, or updates it in place. */
export async function upsertComment(ctx: CommentContext, token: string, data: CommentData, log: Log, timeoutMs = 30_000): Promise<void> {
  const body = renderComment(ctx, data);
  await withThread(ctx, token, log, timeoutMs, async (thread) => {
    const existing = thread.own.find((c) => c.body?.includes(commentMarker(data)));
    if (existing) {
      await thread.update(existing.id, body);
      log.info(`Updated the pull request comment (${existing.html_url ?? existing.id})`);
    } else {
      const created = await thread.create(body);
      log.info(`Commented on the pull request (${created.html_url ?? created.id})`);
    }
  });
}

/** Marks runs as stopped in every runs table of this action's comments on the pull request. */
export async function markRunsStopped(
  ctx: CommentContext,
  token: string,
  stopped: ReadonlySet<string>,
  log: Log,
  timeoutMs = 30_000,
): Promise<void> {
  await withThread(ctx, token, log, timeoutMs, async (thread) => {
    for (const comment of thread.own) {
      const body = comment.body ?? '';
      const rows = body.startsWith(MARKER_PREFIX) ? parseRuns(body) : undefined;
      if (!rows?.some((r) => stopped.has(r.id) && r.state !== 'stopped')) continue;
      await thread.update(
        comment.id,
        withRuns(
          body,
          rows.map((r) => (stopped.has(r.id) ? { ...r, state: 'stopped' as const } : r)),
        ),
      );
      log.info(`Updated the pull request comment (${comment.html_url ?? comment.id}): runs marked stopped`);
    }
  });
}
