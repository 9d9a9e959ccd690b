import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRunName, readContext } from '../src/context.js';

function eventFile(payload: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ctx-')), 'event.json');
  writeFileSync(file, JSON.stringify(payload));
  return file;
}

const base = {
  GITHUB_REPOSITORY: 'acme/fine-tune',
  GITHUB_SHA: 'aaaaaaa1111111111111111111111111111111111',
  GITHUB_REF: 'refs/heads/feature/new data',
  GITHUB_EVENT_NAME: 'push',
};

describe('readContext and defaultRunName', () => {
  it('names a pull-request run after the PR number and head sha', () => {
    const ctx = readContext({
      ...base,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: 'refs/pull/17/merge',
      GITHUB_EVENT_PATH: eventFile({ number: 17, pull_request: { number: 17, head: { sha: 'bbbbbbb2222222' } } }),
    });
    expect(ctx.pullRequest).toEqual({ number: 17, headSha: 'bbbbbbb2222222' });
    expect(defaultRunName(ctx, () => 0)).toBe('fine-tune-pr17-bbbbbbb-aaaaa');
  });

  it('names other runs after the ref and sha, cleaning the ref', () => {
    const ctx = readContext(base);
    expect(ctx.pullRequest).toBeUndefined();
    expect(defaultRunName(ctx, () => 0.999)).toBe('fine-tune-feature-new-data-aaaaaaa-99999');
  });

  it('gives sibling steps different names', () => {
    const ctx = readContext(base);
    const names = new Set(Array.from({ length: 50 }, () => defaultRunName(ctx)));
    expect(names.size).toBe(50);
  });

  it('stays within 255 characters', () => {
    const ctx = readContext({ ...base, GITHUB_REF: `refs/heads/${'x'.repeat(400)}` });
    const name = defaultRunName(ctx);
    expect(name.length).toBeLessThanOrEqual(255);
    expect(name).toMatch(/-[a-z0-9]{5}$/);
  });

  it('tolerates a missing or unreadable event file', () => {
    expect(readContext({ ...base, GITHUB_EVENT_PATH: '/nonexistent/event.json' }).pullRequest).toBeUndefined();
    expect(readContext({}).apiUrl).toBe('https://api.github.com');
    expect(readContext({ GITHUB_API_URL: 'https://ghe.example.com/api/v3/' }).apiUrl).toBe('https://ghe.example.com/api/v3');
  });
});
