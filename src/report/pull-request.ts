// GitHub's side of the pull-request comments: who the token is, which comments that identity
// wrote, create or update. Only a comment the token's own identity wrote is ever edited: anyone
// can paste a marker into a comment of theirs. Octokit is loaded only when a comment is wanted.
// Nothing here throws: a failure is a warning with the fix.

import type { Log } from '../core/log.js';
import {
  type CommentContext,
  type CommentData,
  MARKER_PREFIX,
  appendicesOf,
  commentMarker,
  parseRuns,
  renderComment,
  withRuns,
} from './comment.js';
import { messageOf, openGithub, sameLogin, statusOf } from './github.js';

export interface Comment {
  id: number;
  body?: string;
  html_url?: string;
  user?: { login: string } | null;
}

export interface Thread {
  /** The comments on the pull request that the token's identity wrote, oldest first. */
  own: Comment[];
  create(body: string): Promise<Comment>;
  update(id: number, body: string): Promise<void>;
}

/**
 * Runs `use` on the event's pull-request thread. `input` is the input that asked for the comment,
 * named in every line this logs. Returns whether `use` ran to its end; a failure is a warning
 * that says the fix, never an error.
 */
export async function withThread(
  ctx: CommentContext,
  token: string,
  log: Log,
  timeoutMs: number,
  use: (thread: Thread) => Promise<void>,
  input = 'comment_on_pr',
): Promise<boolean> {
  const pr = ctx.pullRequest;
  if (!pr) return skip(() => log.info(`${input}: not a pull request event (${ctx.eventName || 'unknown'}); no comment`));
  if (!token)
    return skip(() => log.warning(`${input}: no github_token; pass \`github_token: \${{ github.token }}\` to comment on the pull request`));
  if (!ctx.repository.includes('/')) return skip(() => log.warning(`${input}: GITHUB_REPOSITORY is not set; no comment`));
  try {
    const { octokit, owner, repo } = await openGithub(ctx, token, timeoutMs);
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
    return true;
  } catch (error) {
    const status = statusOf(error);
    const fix =
      status === 403 || status === 404
        ? ' Give the job `permissions: pull-requests: write`; on pull requests from forks the token is read-only, so no comment can be posted there.'
        : '';
    log.warning(`${input}: could not comment on pull request #${pr.number}: ${messageOf(error)}.${fix}`);
    return false;
  }
}

function skip(say: () => void): boolean {
  say();
  return false;
}

/** Creates this leg's comment, or updates it in place. */
export async function upsertComment(ctx: CommentContext, token: string, data: CommentData, log: Log, timeoutMs = 30_000): Promise<void> {
  const body = renderComment(ctx, data);
  await withThread(ctx, token, log, timeoutMs, async (thread) => {
    const existing = thread.own.find((c) => c.body?.includes(commentMarker(data)));
    if (existing) {
      // The sections other steps added (the eval report's) stay as they are.
      const kept = appendicesOf(existing.body ?? '');
      await thread.update(existing.id, kept.length ? `${body.trimEnd()}\n\n${kept.join('\n\n')}\n` : body);
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
