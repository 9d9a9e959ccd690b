// The emulator's GitHub side serves the pages its links point at (github/web.ts): a check run's
// html_url, a comment's, a workflow run's; on its own origin, outside /api/v3 on Enterprise
// Server as on GitHub; 404 for what it does not hold. And the REST API's root answers.
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeGithub, addWorkflowRun, startFakeGithub } from './emulator/github/server.js';

let github: FakeGithub | undefined;
afterEach(async () => {
  await github?.close();
  github = undefined;
});

const status = async (url: string, init?: RequestInit): Promise<number> => {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
};

async function post(gh: FakeGithub, path: string, body: unknown): Promise<{ html_url: string }> {
  const res = await fetch(`${gh.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as { html_url: string };
}

describe.each([
  ['github.com', ''],
  ['Enterprise Server', '/api/v3'],
])('web pages (%s)', (_where, prefix) => {
  it('check runs, comments and known workflow runs answer at their html_url; others are 404', async () => {
    const gh = (github = await startFakeGithub(prefix));
    expect(gh.url).toBe(`${gh.serverUrl}${prefix}`);
    const check = await post(gh, '/repos/acme/finetune/check-runs', { name: 'Loops eval', head_sha: 'a'.repeat(40), conclusion: 'success' });
    const comment = await post(gh, '/repos/acme/finetune/issues/7/comments', { body: 'hi' });
    expect(check.html_url).toMatch(new RegExp(`^${gh.serverUrl}/acme/finetune/runs/\\d+$`));
    expect(comment.html_url).toMatch(new RegExp(`^${gh.serverUrl}/acme/finetune/pull/7#issuecomment-\\d+$`));
    const page = await fetch(check.html_url);
    expect([page.status, page.headers.get('content-type'), await page.text()]).toEqual([
      200,
      'text/html; charset=utf-8',
      expect.stringContaining('<title>Loops eval: success · acme/finetune</title>') as unknown,
    ]);
    expect(await status(comment.html_url)).toBe(200);
    const workflowRun = `${gh.serverUrl}/acme/finetune/actions/runs/4242`;
    expect(await status(workflowRun)).toBe(404);
    addWorkflowRun(gh, 'acme/finetune', '4242');
    expect(await status(workflowRun)).toBe(200);
    for (const missing of ['/acme/finetune/runs/999999', '/acme/other/pull/7', '/acme/finetune/pull/8']) {
      expect(await status(`${gh.serverUrl}${missing}`), missing).toBe(404);
    }
    expect(await status(check.html_url, { method: 'POST' })).toBe(404);
    expect(gh.requests.filter((r) => r.path.startsWith('(web) ')).length).toBeGreaterThan(0);
    const root = await fetch(gh.url);
    expect([root.status, await root.json()]).toEqual([200, { repository_url: `${gh.url}/repos/{owner}/{repo}` }]);
  });
});
