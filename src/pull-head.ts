// Is this commit still the pull request's head? A workflow run of an older push can start (or be
// re-run) after a newer push's: ordering runs by creation time alone would let it warm-start from,
// or supersede, the newer push's run. So before either, the pull request's current head is read
// (GET /repos/{owner}/{repo}/pulls/{n}, `pull-requests: read`) and compared with this event's.
// The same read gives the head to events that do not carry it (an issue comment). Octokit is
// loaded only here, only on events about a pull request. Nothing here throws.

import type { GithubContext } from './context.js';
import { errorMessage } from './core/errors.js';

/**
 * `current`: this event's head is the pull request's head. `stale`: a newer commit is the head.
 * `unknown`: it could not be read (`why` says so); the creation-order rule of lifecycle.ts applies.
 */
export type Freshness = { state: 'current'; head: string } | { state: 'stale'; head: string } | { state: 'unknown'; why: string };

/** The pull request's head commit as the pulls API gives it, or why it could not be read. */
export async function readPullHead(
  ctx: Pick<GithubContext, 'repository' | 'apiUrl' | 'pullRequest'>,
  token: string,
  timeoutMs: number,
): Promise<{ sha: string } | { why: string }> {
  const pr = ctx.pullRequest;
  const [owner, repo] = ctx.repository.split('/');
  if (!pr || !owner || !repo) return { why: 'not a pull request event' };
  if (!token) return { why: 'no github_token to read the pull request with' };
  try {
    const { getOctokit } = await import('@actions/github');
    const octokit = getOctokit(token, { baseUrl: ctx.apiUrl, request: { signal: AbortSignal.timeout(timeoutMs), retries: 0 } });
    const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: pr.number });
    const sha: unknown = (data as { head?: { sha?: unknown } }).head?.sha;
    if (typeof sha !== 'string' || !/^[0-9a-f]{7,64}$/i.test(sha))
      return { why: `GET /repos/${owner}/${repo}/pulls/${pr.number} gave no head commit` };
    return { sha: sha.toLowerCase() };
  } catch (error) {
    const status = (error as { status?: number }).status;
    const fix = status === 403 || status === 404 ? '; give the job `permissions: pull-requests: read`' : '';
    return { why: `GET /repos/${owner}/${repo}/pulls/${pr.number} failed: ${errorMessage(error)}${fix}` };
  }
}

/** This event's head against the pull request's: the commit the event names, or (issue comments) the one read. */
export function freshnessOf(eventHead: string | undefined, read: { sha: string } | { why: string }): Freshness {
  if ('why' in read) return { state: 'unknown', why: read.why };
  if (!eventHead) return { state: 'current', head: read.sha };
  return eventHead.toLowerCase() === read.sha ? { state: 'current', head: read.sha } : { state: 'stale', head: read.sha };
}
