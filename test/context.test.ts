import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readContext } from '../src/context.js';

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
    expect(read(side('b2', 'acme/fine-tune'), side('a1', 'acme/fine-tune'))).toEqual({ number: 17, headSha: 'b2', baseSha: 'a1' });
    expect(read(side('b2', 'mallory/fine-tune'), side('a1', 'acme/fine-tune'))?.fromFork).toBe(true);
    expect(read(side('b2', 'acme/fine-tune', true), side('a1', 'acme/fine-tune'))?.fromFork).toBe(true);
    expect(read({ sha: 'b2', repo: null }, { sha: 'a1' })).toEqual({ number: 17, headSha: 'b2', baseSha: 'a1' });
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
