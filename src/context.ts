// The parts of the GitHub context this action uses, read from the runner's environment and
// event file. Kept apart from @actions/github so that the common path never loads Octokit.

import { readFileSync } from 'node:fs';

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
  /**
   * The pull request the event is about (see pullRequestOf); `headSha` when the event says which
   * commit is its head (an issue comment does not: the pulls API tells, see pull-head.ts);
   * `baseSha` and `fromFork` when the event carries the pull request itself.
   */
  pullRequest?: { number: number; headSha?: string; baseSha?: string; fromFork?: true };
}

export function readContext(env: Record<string, string | undefined>): GithubContext {
  let payload: Json = {};
  const eventPath = env.GITHUB_EVENT_PATH;
  if (eventPath) {
    try {
      payload = obj(JSON.parse(readFileSync(eventPath, 'utf8'))) ?? {};
    } catch {
      payload = {};
    }
  }
  const repository = env.GITHUB_REPOSITORY ?? '';
  // A workflow_run is about the run that triggered it: its commit and branch. GITHUB_SHA and
  // GITHUB_REF are the default branch's then, the same for every head.
  const triggering = obj(payload.workflow_run);
  const branch = typeof triggering?.head_branch === 'string' && triggering.head_branch ? triggering.head_branch : undefined;
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    repository,
    sha: (triggering ? sha(triggering.head_sha) : undefined) ?? env.GITHUB_SHA ?? '',
    ref: branch ? `refs/heads/${branch}` : (env.GITHUB_REF ?? ''),
    job: env.GITHUB_JOB ?? '',
    workflow: workflowFile(env),
    action: env.GITHUB_ACTION ?? '',
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: Math.max(1, Number.parseInt(env.GITHUB_RUN_ATTEMPT ?? '1', 10) || 1),
    serverUrl: (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, ''),
    apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, ''),
    pullRequest: pullRequestOf(payload, repository),
  };
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json | undefined => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined);
const prNumber = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
const sha = (value: unknown): string | undefined => (typeof value === 'string' && /^[0-9a-f]{7,64}$/i.test(value) ? value : undefined);

/**
 * The pull request an event is about: `pull_request` (pull_request, pull_request_target, reviews),
 * `issue` when it is a pull request (issue_comment: ChatOps such as "/train"), or the first of
 * `workflow_run.pull_requests` into this repository (a workflow_run triggered by a pull request's
 * workflow; GitHub lists pull requests of other repositories there too, and none for a fork's),
 * with the head commit where the event names it. Undefined for anything else: never guessed from
 * GITHUB_SHA.
 */
export function pullRequestOf(payload: Json, repository = ''): GithubContext['pullRequest'] {
  const pr = obj(payload.pull_request);
  if (pr) {
    const number = prNumber(pr.number) ?? prNumber(payload.number);
    return number === undefined ? undefined : { number, ...sidesOf(pr) };
  }
  const issue = obj(payload.issue);
  if (issue && obj(issue.pull_request)) {
    const number = prNumber(issue.number);
    return number === undefined ? undefined : { number };
  }
  const run = obj(payload.workflow_run);
  const listed = Array.isArray(run?.pull_requests) ? run.pull_requests.map(obj) : [];
  const first = listed.find((p) => p !== undefined && intoThis(p, repository));
  const number = prNumber(first?.number);
  if (!run || number === undefined) return undefined;
  return { number, headSha: sha(run.head_sha) ?? sha(obj(first?.head)?.sha) };
}

/** Whether a pull request of workflow_run.pull_requests is into `repository` (owner/name); its base names its repository by API URL. */
function intoThis(pr: Json, repository: string): boolean {
  const url = obj(obj(pr.base)?.repo)?.url;
  if (typeof url !== 'string' || !repository) return true;
  return url.toLowerCase().endsWith(`/repos/${repository.toLowerCase()}`);
}

/** The head and base commits of a pull request in an event, and whether its head is a fork's. */
function sidesOf(pr: Json): { headSha?: string; baseSha?: string; fromFork?: true } {
  const [head, base] = [obj(pr.head), obj(pr.base)];
  const [headRepo, baseRepo] = [obj(head?.repo), obj(base?.repo)];
  const name = (repo: Json | undefined): string | undefined => (typeof repo?.full_name === 'string' ? repo.full_name : undefined);
  const [from, into] = [name(headRepo), name(baseRepo)];
  // A head repository other than the base's (or one GitHub marks as a fork): its token is read-only.
  const fromFork = headRepo?.fork === true || (from !== undefined && into !== undefined && from !== into);
  return { headSha: sha(head?.sha), baseSha: sha(base?.sha), ...(fromFork ? { fromFork } : {}) };
}

function workflowFile(env: Record<string, string | undefined>): string {
  const ref = env.GITHUB_WORKFLOW_REF ?? '';
  const at = ref.lastIndexOf('@');
  const path = (at > 0 ? ref.slice(0, at) : ref).split('/').slice(2).join('/');
  return path || env.GITHUB_WORKFLOW || '';
}
