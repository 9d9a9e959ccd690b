import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullRequestOf, readContext } from '../src/context.js';

function eventFile(payload: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ctx-')), 'event.json');
  writeFileSync(file, JSON.stringify(payload));
  return file;
}

const base = {
  GITHUB_REPOSITORY: 'acme/fine-tune',
  GITHUB_SHA: 'aaaaaaa1111111111111111111111111111111111',
  GITHUB_REF: 'refs/heads/feature/new-data',
  GITHUB_EVENT_NAME: 'push',
};

describe('readContext', () => {
  it('reads the pull request number and head sha from the event', () => {
    const ctx = readContext({
      ...base,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: 'refs/pull/17/merge',
      GITHUB_EVENT_PATH: eventFile({ number: 17, pull_request: { number: 17, head: { sha: 'bbbbbbb2222222' } } }),
    });
    expect(ctx.pullRequest).toEqual({ number: 17, headSha: 'bbbbbbb2222222' });
  });

  it('reads the base commit, and tells a pull request from a fork (whose token is read-only)', () => {
    const side = (sha: string, repo: string, fork = false) => ({ sha, repo: { full_name: repo, fork } });
    const read = (head: unknown, baseSide: unknown) =>
      readContext({
        ...base,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: eventFile({ number: 17, pull_request: { number: 17, head, base: baseSide } }),
      }).pullRequest;
    const [b2, a1] = ['b2'.repeat(20), 'a1'.repeat(20)];
    expect(read(side(b2, 'acme/fine-tune'), side(a1, 'acme/fine-tune'))).toEqual({ number: 17, headSha: b2, baseSha: a1 });
    expect(read(side(b2, 'mallory/fine-tune'), side(a1, 'acme/fine-tune'))?.fromFork).toBe(true);
    expect(read(side(b2, 'acme/fine-tune', true), side(a1, 'acme/fine-tune'))?.fromFork).toBe(true);
    expect(read({ sha: b2, repo: null }, { sha: a1 })).toEqual({ number: 17, headSha: b2, baseSha: a1 });
    expect(read({ sha: 'not a commit' }, { sha: a1 })).toEqual({ number: 17, baseSha: a1 });
  });

  it('reads the slot (workflow file, job, step) and the run attempt', () => {
    const ctx = readContext({
      ...base,
      GITHUB_WORKFLOW_REF: 'acme/fine-tune/.github/workflows/finetune.yml@refs/pull/17/merge',
      GITHUB_WORKFLOW: 'Fine-tune',
      GITHUB_JOB: 'launch',
      GITHUB_ACTION: 'loops',
      GITHUB_RUN_ATTEMPT: '3',
    });
    expect(ctx).toMatchObject({ workflow: '.github/workflows/finetune.yml', job: 'launch', action: 'loops', runAttempt: 3 });
    expect(readContext({ ...base, GITHUB_WORKFLOW: 'Fine-tune' })).toMatchObject({ workflow: 'Fine-tune', runAttempt: 1 });
    expect(readContext({ ...base, GITHUB_RUN_ATTEMPT: 'x' }).runAttempt).toBe(1);
  });

  it('tolerates a missing or unreadable event file', () => {
    expect(readContext({ ...base, GITHUB_EVENT_PATH: '/nonexistent/event.json' }).pullRequest).toBeUndefined();
    expect(readContext({}).apiUrl).toBe('https://api.github.com');
    expect(readContext({ GITHUB_API_URL: 'https://ghe.example.com/api/v3/' }).apiUrl).toBe('https://ghe.example.com/api/v3');
  });
});

describe('pullRequestOf: every event that is about a pull request, and nothing else', () => {
  it('pull_request, pull_request_target and reviews: the number and the head commit', () => {
    expect(pullRequestOf({ number: 5, pull_request: { number: 5, head: { sha: 'ABCDEF1234' } } })).toEqual({ number: 5, headSha: 'ABCDEF1234' });
    expect(pullRequestOf({ number: 5, pull_request: { head: { sha: 'abcdef1234' } } })).toEqual({ number: 5, headSha: 'abcdef1234' });
  });
  it('issue_comment on a pull request (ChatOps): the number, and no head (the pulls API tells it)', () => {
    expect(pullRequestOf({ issue: { number: 43, pull_request: { url: 'x' } }, comment: { body: '/train' } })).toEqual({ number: 43 });
  });
  it('issue_comment on a plain issue: no pull request', () => {
    expect(pullRequestOf({ issue: { number: 43 }, comment: { body: '/train' } })).toBeUndefined();
  });
  it("workflow_run: the first pull request, with the run's head_sha", () => {
    const payload = { workflow_run: { head_sha: 'cafebabe99', pull_requests: [{ number: 9, head: { sha: 'ffffffff00' } }, { number: 10 }] } };
    expect(pullRequestOf(payload)).toEqual({ number: 9, headSha: 'cafebabe99' });
    expect(pullRequestOf({ workflow_run: { pull_requests: [{ number: 9, head: { sha: 'ffffffff00' } }] } })).toEqual({
      number: 9,
      headSha: 'ffffffff00',
    });
  });
  it('workflow_run: a pull request of another repository is not this one (GitHub lists those too)', () => {
    const into = (repo: string, number: number) => ({ number, base: { repo: { url: `https://api.github.com/repos/${repo}` } } });
    const payload = { workflow_run: { head_sha: 'cafebabe99', pull_requests: [into('other/fork', 3), into('Acme/Fine-Tune', 9)] } };
    expect(pullRequestOf(payload, 'acme/fine-tune')).toEqual({ number: 9, headSha: 'cafebabe99' });
    expect(pullRequestOf({ workflow_run: { head_sha: 'cafebabe99', pull_requests: [into('other/fork', 3)] } }, 'acme/fine-tune')).toBeUndefined();
  });
  it("workflow_run: the commit and branch are the triggering run's, not the default branch's (GITHUB_SHA, GITHUB_REF)", () => {
    const event = { workflow_run: { head_sha: 'cafebabe99', head_branch: 'fork-main', pull_requests: [] } };
    const ctx = readContext({ ...base, GITHUB_EVENT_NAME: 'workflow_run', GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_PATH: eventFile(event) });
    expect(ctx).toMatchObject({ sha: 'cafebabe99', ref: 'refs/heads/fork-main' });
    expect(ctx.pullRequest).toBeUndefined();
    // Any other event keeps the runner's.
    expect(readContext({ ...base, GITHUB_EVENT_PATH: eventFile({}) })).toMatchObject({ sha: base.GITHUB_SHA, ref: base.GITHUB_REF });
  });
  it('workflow_run of a fork or a push (no pull_requests): no pull request', () => {
    expect(pullRequestOf({ workflow_run: { head_sha: 'cafebabe99', pull_requests: [] } })).toBeUndefined();
    expect(pullRequestOf({ workflow_run: { head_sha: 'cafebabe99' } })).toBeUndefined();
  });
  it('never a number or head that is not one: hostile payloads', () => {
    for (const payload of [
      { pull_request: { number: -1 } },
      { pull_request: { number: '7' } },
      { pull_request: { number: 1.5 } },
      { issue: { number: 0, pull_request: {} } },
      { workflow_run: { pull_requests: [null] } },
      { workflow_run: { pull_requests: 'x' } },
      [],
      null,
    ]) {
      expect(pullRequestOf((payload ?? {}) as Record<string, unknown>), JSON.stringify(payload)).toBeUndefined();
    }
    expect(pullRequestOf({ pull_request: { number: 7, head: { sha: 'not a sha; rm -rf /' } } })).toEqual({ number: 7 });
  });
  it('an event file holding JSON that is not an object is no event', () => {
    expect(readContext({ ...base, GITHUB_EVENT_PATH: eventFile(null) }).pullRequest).toBeUndefined();
    expect(readContext({ ...base, GITHUB_EVENT_PATH: eventFile([1]) }).pullRequest).toBeUndefined();
  });
});
