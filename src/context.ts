// The parts of the GitHub context this action uses, read from the runner's environment and
// event file. Kept apart from @actions/github so that the common path never loads Octokit.

import { readFileSync } from 'node:fs';

export const PR_EVENTS: ReadonlySet<string> = new Set(['pull_request', 'pull_request_target']);

export interface GithubContext {
  eventName: string;
  /** owner/name */
  repository: string;
  sha: string;
  ref: string;
  job: string;
  /** The workflow file, from GITHUB_WORKFLOW_REF (`owner/repo/.github/workflows/x.yml@ref`) without the ref; else the workflow's name. */
  workflow: string;
  /** The step's id (GITHUB_ACTION). */
  action: string;
  runId: string;
  /** GITHUB_RUN_ATTEMPT: 1 on the first run, 2+ on re-runs. */
  runAttempt: number;
  serverUrl: string;
  apiUrl: string;
  /** Set on pull_request and pull_request_target events. */
  pullRequest?: { number: number; headSha?: string; baseSha?: string; fromFork?: true };
}

export function readContext(env: Record<string, string | undefined>): GithubContext {
  let payload: Record<string, unknown> = {};
  const eventPath = env.GITHUB_EVENT_PATH;
  if (eventPath) {
    try {
      payload = JSON.parse(readFileSync(eventPath, 'utf8')) as Record<string, unknown>;
    } catch {
      payload = {};
    }
  }
  const pr = payload.pull_request as { number?: unknown; head?: Side; base?: Side } | undefined;
  const number = typeof pr?.number === 'number' ? pr.number : typeof payload.number === 'number' ? payload.number : undefined;
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    job: env.GITHUB_JOB ?? '',
    workflow: workflowFile(env),
    action: env.GITHUB_ACTION ?? '',
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: Math.max(1, Number.parseInt(env.GITHUB_RUN_ATTEMPT ?? '1', 10) || 1),
    serverUrl: (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, ''),
    apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, ''),
    pullRequest: pr && number !== undefined ? { number, ...sidesOf(pr) } : undefined,
  };
}

/** One side of a pull request in the event payload: its commit and repository. */
interface Side {
  sha?: unknown;
  repo?: { full_name?: unknown; fork?: unknown } | null;
}

function sidesOf(pr: { head?: Side; base?: Side }): { headSha?: string; baseSha?: string; fromFork?: true } {
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const [head, base] = [text(pr.head?.repo?.full_name), text(pr.base?.repo?.full_name)];
  return {
    headSha: text(pr.head?.sha),
    baseSha: text(pr.base?.sha),
    // A head repository other than the base's (or one GitHub marks as a fork): its token is read-only.
    fromFork: pr.head?.repo?.fork === true || (head !== undefined && base !== undefined && head !== base) || undefined,
  };
}

function workflowFile(env: Record<string, string | undefined>): string {
  const ref = env.GITHUB_WORKFLOW_REF ?? '';
  const at = ref.lastIndexOf('@');
  const path = (at > 0 ? ref.slice(0, at) : ref).split('/').slice(2).join('/');
  return path || env.GITHUB_WORKFLOW || '';
}
