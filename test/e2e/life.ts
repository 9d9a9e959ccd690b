// Shared pieces of the end-to-end tests of a run's life in a pull request (lifecycle*.e2e and
// stop*.e2e): pull-request contexts, the launch and stop steps' inputs, run names taken apart
// and rebuilt, runs planted in the emulator (old ones, look-alikes, an SDK continuation), and
// the runs table of the pull-request comment as a reader sees it.

import { expect } from 'vitest';
import type { Emulator, EmulatorOptions, LoopsRun } from '../emulator/server.js';
import { type Step, requestsTo, stepTest } from '../support/e2e.js';
import type { RunnerOptions } from '../support/runner.js';
import { type FakeGithub, setPull, startFakeGithub } from './tools.js';

export const KEY = 'loops-e2e-life-key-5c71';
export const TOKEN = 'ghs_lifeFakeToken0123456789abcd';
export const MODEL = 'Qwen/Qwen3-8B';
export const REPO = 'acme/finetune';
/** Head commits of successive pushes to a pull request. */
export const SHA = {
  A: `aaaaaaa${'1'.repeat(33)}`,
  B: `bbbbbbb${'2'.repeat(33)}`,
  C: `ccccccc${'3'.repeat(33)}`,
} as const;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export const FAST: EmulatorOptions = {
  apiKeys: [KEY],
  samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'RUNNING' }],
};

/** stepTest with a fake GitHub API (`github()`, closed when the test ends). */
export const lifeTest = stepTest(FAST).extend<{ github: () => Promise<FakeGithub> }>({
  // eslint-disable-next-line no-empty-pattern
  github: async ({}, use) => {
    const started: FakeGithub[] = [];
    await use(async () => {
      const fake = await startFakeGithub();
      started.push(fake);
      return fake;
    });
    await Promise.all(started.map((g) => g.close()));
  },
});

export interface Where {
  attempt?: number;
  /** GITHUB_RUN_ID: one per workflow run, the same across its attempts. */
  runId?: string;
  job?: string;
  /** The step id (GITHUB_ACTION). */
  action?: string;
  workflow?: string;
  /** Another GitHub API (the fake one) for the comment. */
  apiUrl?: string;
  /**
   * The emulator's GitHub side: GITHUB_API_URL points at it and the job's token goes with it (so the
   * launch reads the pull request's head there); `head` (default: this event's) is set as the pull
   * request's head first, as the push that triggered the event left it. `null` leaves it as it is.
   */
  github?: FakeGithub;
  head?: string | null;
}

/** The env of an event on pull request `number` at `sha` (the merge commit is GITHUB_SHA, not the head). */
function prEnv(eventName: string, number: number, where: Where, ref = `refs/pull/${number}/merge`): Record<string, string> {
  const env: Record<string, string> = {
    GITHUB_EVENT_NAME: eventName,
    GITHUB_REF: ref,
    GITHUB_SHA: 'f00d000000000000000000000000000000000000',
    GITHUB_JOB: where.job ?? 'launch',
    GITHUB_ACTION: where.action ?? 'loops',
    GITHUB_RUN_ATTEMPT: String(where.attempt ?? 1),
    GITHUB_WORKFLOW_REF: `${REPO}/.github/workflows/${where.workflow ?? 'finetune.yml'}@${ref}`,
  };
  if (where.runId) env.GITHUB_RUN_ID = where.runId;
  if (where.apiUrl) env.GITHUB_API_URL = where.apiUrl;
  if (where.github) {
    env.GITHUB_API_URL = where.github.url;
    env.GITHUB_TOKEN = TOKEN;
  }
  return env;
}

function setHead(where: Where, number: number, sha: string | undefined): void {
  if (where.github && where.head !== null) setPull(where.github, REPO, number, where.head ?? sha ?? SHA.A);
}

/** A pull_request event of PR `pr` at head `sha`, as the runner describes it. */
export function pr(number: number, sha: string, where: Where = {}): { env: Record<string, string>; event: unknown } {
  setHead(where, number, sha);
  return { env: prEnv('pull_request', number, where), event: { number, pull_request: { number, head: { sha } } } };
}

/**
 * A comment on pull request `number` (ChatOps: "/train"). The event names no head commit, and the
 * runner's GITHUB_SHA and GITHUB_REF are the default branch's.
 */
export function issueComment(number: number, where: Where & { headOnGithub?: string } = {}): { env: Record<string, string>; event: unknown } {
  setHead(where, number, where.headOnGithub);
  const env = { ...prEnv('issue_comment', number, where, 'refs/heads/main'), GITHUB_SHA: MAIN_SHA };
  return {
    env,
    event: {
      action: 'created',
      issue: { number, pull_request: { url: `https://api.github.com/repos/${REPO}/pulls/${number}` } },
      comment: { body: '/train' },
    },
  };
}

/** A workflow_run event: a workflow that a pull request's workflow (at `sha`) triggered. */
export function workflowRun(number: number, sha: string, where: Where = {}): { env: Record<string, string>; event: unknown } {
  setHead(where, number, sha);
  const env = { ...prEnv('workflow_run', number, where, 'refs/heads/main'), GITHUB_SHA: MAIN_SHA };
  return { env, event: { action: 'completed', workflow_run: { head_sha: sha, pull_requests: [{ number, head: { sha } }] } } };
}

/** The default branch's head: GITHUB_SHA of issue_comment and workflow_run events. */
export const MAIN_SHA = 'dddddddd44444444444444444444444444444444';

/** A push to main (no pull request). */
export function push(where: Where = {}): { env: Record<string, string> } {
  const env: Record<string, string> = { GITHUB_EVENT_NAME: 'push', GITHUB_RUN_ATTEMPT: String(where.attempt ?? 1) };
  if (where.apiUrl) env.GITHUB_API_URL = where.apiUrl;
  return { env };
}

type Inputs = Record<string, string | number | boolean>;

/** The launch step's inputs: no wait unless asked. */
export function launchInputs(emulator: Emulator, extra: Inputs = {}): Inputs {
  return { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, wait_for: 'none', max_retries: 1, poll_interval_seconds: 0.1, ...extra };
}

/** The stop action's inputs (its action.yml supplies the rest). */
export function stopInputs(emulator: Emulator, extra: Inputs = {}): Inputs {
  return { api_key: KEY, api_base_url: emulator.url, max_retries: 1, ...extra };
}

/** Runs the stop action (its bundle, its action.yml's defaults) in a context (default: a push). */
export function stopStep(
  step: (o: RunnerOptions) => Promise<Step>,
  emulator: Emulator,
  inputs: Inputs,
  ctx: Pick<RunnerOptions, 'env' | 'event'> = push(),
): Promise<Step> {
  return step({ action: 'stop', inputs: stopInputs(emulator, inputs), ...ctx });
}

export const commentInputs = { comment_on_pr: true, github_token: TOKEN } as const;

/** A run name in this action's form, taken apart. */
export interface NameParts {
  owner: string;
  repo: string;
  place: string;
  sha7: string;
  slotLeg: string;
  attempt: string;
}

export function nameParts(name: string | undefined): NameParts {
  const m = /^([^/]+)\/([^/]+)\/(.+)\/([0-9a-f]{7})\/([0-9a-f]{8}\.[0-9a-f]{8})\/(a\d+)$/.exec(name ?? '');
  if (!m) throw new Error(`not a default run name: ${name}`);
  const [, owner = '', repo = '', place = '', sha7 = '', slotLeg = '', attempt = ''] = m;
  return { owner, repo, place, sha7, slotLeg, attempt };
}

export function nameOf(p: NameParts): string {
  return `${p.owner}/${p.repo}/${p.place}/${p.sha7}/${p.slotLeg}/${p.attempt}`;
}

/** A name of this repository's form (slot and leg given, or made up). */
export function ourName(place: string, sha7: string, slotLeg = '0123abcd.4567cdef', attempt = 'a1'): string {
  return nameOf({ owner: 'acme', repo: 'finetune', place, sha7, slotLeg, attempt });
}

export interface Plant {
  name?: string;
  /** Server-clock ms. */
  createdAt?: number;
  reuseFromRunId?: string;
  /** The SDK's reuse: the newest run of that session takes over its deployment. */
  reuseFromSessionId?: string;
  sessionId?: string;
}

/** A run made behind the action's back (another job, a person, a training script). */
export function plant(emulator: Emulator, p: Plant = {}): LoopsRun {
  const body: Record<string, unknown> = { session_id: p.sessionId ?? emulator.createSession(), base_model: MODEL };
  if (p.name !== undefined) body.name = p.name;
  if (p.reuseFromRunId) body.reuse_from_run_id = p.reuseFromRunId;
  if (p.reuseFromSessionId) body.reuse_from_session_id = p.reuseFromSessionId;
  return emulator.createRun(body, p.createdAt === undefined ? {} : { createdAt: p.createdAt });
}

/**
 * What a training script does with the launch's `session_id` output: the SDK's
 * `ServiceClient(reuse_from_session_id=…)` creates a run named after the base model on the
 * same deployment, and the launched run goes INACTIVE.
 */
export function continueRun(emulator: Emulator, run: LoopsRun | string): LoopsRun {
  const of = typeof run === 'string' ? mustRun(emulator, run) : run;
  const continuation = plant(emulator, { reuseFromSessionId: of.session_id });
  expect(continuation.deployment_id, 'the continuation took over the deployment').toBe(of.deployment_id);
  expect(state(emulator, of.id)).toBe('INACTIVE');
  return continuation;
}

/** Deactivates a run behind the action's back, as another job or a person would. */
export async function deactivateDirectly(emulator: Emulator, runId: string): Promise<void> {
  const response = await fetch(`${emulator.url}/v1/loops/runs/${runId}/deactivate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}` },
  });
  expect(response.status).toBe(200);
}

export function mustRun(emulator: Emulator, id: string | undefined): LoopsRun {
  const run = emulator.runs().find((r) => r.id === id);
  if (!run) throw new Error(`no run ${id}`);
  return run;
}

export function state(emulator: Emulator, id: string | undefined): string {
  return mustRun(emulator, id).status.name;
}

export const liveIds = (emulator: Emulator): string[] =>
  emulator
    .runs()
    .filter((r) => r.status.name === 'ACTIVE')
    .map((r) => r.id)
    .sort();

/** The deactivate requests the emulator received, for one run or all. */
export function deactivations(emulator: Emulator, runId?: string): string[] {
  return requestsTo(emulator, 'POST', /^\/v1\/loops\/runs\/[^/]+\/deactivate$/)
    .map((r) => r.path.split('/')[4] ?? '')
    .filter((id) => runId === undefined || id === runId);
}

/** The create-run bodies the emulator received. */
export function creates(emulator: Emulator): Array<Record<string, unknown>> {
  return requestsTo(emulator, 'POST', '/v1/loops/runs').map((r) => r.body as Record<string, unknown>);
}

/** Space-separated IDs of an output, sorted. */
export const ids = (output: string | undefined): string[] => (output ?? '').split(/\s+/).filter(Boolean).sort();

/** The comments on a pull request of acme/finetune. */
export function commentsOn(github: FakeGithub, number: number): string[] {
  return (github.comments.get(`${REPO}#${number}`) ?? []).map((c) => c.body);
}

/** The runs table of a comment, as its reader sees it: run ID → [commit, state]. */
export function runsTable(body: string): Record<string, [string, string]> {
  const rows: Record<string, [string, string]> = {};
  const start = body.indexOf('#### Runs of this pull request from this step');
  if (start < 0) return rows;
  for (const line of body.slice(start).split('\n')) {
    const m = /^\| `([^`]+)` \| `([^`]+)` \| (.+) \|$/.exec(line);
    if (m) rows[m[1] ?? ''] = [m[2] ?? '', m[3] ?? ''];
  }
  return rows;
}
