// GitHub's API for every entry that writes to GitHub (the pull-request comment, the eval report's
// check run): Octokit on the context's API URL (GitHub Enterprise Server works), loaded only when
// something is to be written, and what a failed call says. Octokit is imported lazily so that a
// step that writes nothing to GitHub never loads it.

import type { getOctokit } from '@actions/github';
import { oneLine } from '../core/text.js';

export type Octokit = ReturnType<typeof getOctokit>;

/** How long an exchange with GitHub may take when no input says (the eval report has no such input). */
export const GITHUB_TIMEOUT_MS = 30_000;

/** The parts of the GitHub context a call needs (a GithubContext fits). */
export interface GithubWhere {
  repository: string;
  apiUrl: string;
}

export interface Github {
  octokit: Octokit;
  owner: string;
  repo: string;
}

/**
 * Octokit for `where.repository`, on `where.apiUrl`. Every request it sends shares one deadline,
 * `timeoutMs` from now: a GitHub that hangs costs the step that much at most.
 */
export async function openGithub(where: GithubWhere, token: string, timeoutMs: number): Promise<Github> {
  const [owner = '', repo = ''] = where.repository.split('/');
  const { getOctokit } = await import('@actions/github');
  const octokit = getOctokit(token, { baseUrl: where.apiUrl, request: { signal: AbortSignal.timeout(timeoutMs) } });
  return { octokit, owner, repo };
}

/** The HTTP status of a failed Octokit call, if it got one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * An error's message on one line, cut short: GitHub answers an error with any body it likes (an
 * HTML page of 100 KB), and Octokit makes it the message, which would otherwise fill a check
 * run's summary past its 65,535 characters, or a comment past its limit.
 */
export function messageOf(error: unknown): string {
  return oneLine(error instanceof Error ? error.message : String(error), MESSAGE_CHARS);
}

/** The most of a GitHub error message that any report, warning or comment carries. */
export const MESSAGE_CHARS = 300;

/** A login without the "[bot]" suffix, which GraphQL and REST spell differently. */
export function sameLogin(a: string, b: string): boolean {
  const plain = (login: string): string => login.replace(/\[bot\]$/i, '').toLowerCase();
  return plain(a) === plain(b);
}
