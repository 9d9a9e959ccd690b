// End to end, through the committed bundle as a runner runs it: the dry run (nothing sent,
// no key needed), preflight (caught before anything is created) and the pull-request
// comment against a fake GitHub REST API on loopback, served under /api/v3 as GitHub
// Enterprise Server serves it (GITHUB_API_URL=http://127.0.0.1:<port>/api/v3).

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/server.js';
import { type RunnerOptions, type StepResult, type StepWorkspace, runStep } from '../support/runner.js';
import { type FakeGithub, setPull, startFakeGithub } from './tools.js';

const KEY = 'loops-e2e-github-key-8a2f';
const TOKEN = 'ghs_fakeGithubToken0123456789';
const MODEL = 'Qwen/Qwen3-8B';
const FAST: EmulatorOptions = {
  apiKeys: [KEY],
  samplerTimeline: [{ status: 'DEPLOYING', ms: 100 }, { status: 'LOADING_MODEL', ms: 100 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'CREATED', ms: 50 }, { status: 'DEPLOYING', ms: 100 }, { status: 'RUNNING' }],
};

type Step = StepResult & { workspace: StepWorkspace };

let emulator: Emulator;
const workspaces: StepWorkspace[] = [];

beforeAll(async () => {
  emulator = await startEmulator(FAST);
});
afterAll(async () => {
  await emulator?.close();
});
beforeEach(() => {
  emulator.reset();
  emulator.configure({ ...FAST, capabilities: true, checkpoints: [] });
});
afterEach(() => {
  for (const w of workspaces.splice(0)) w.remove();
});

async function step(options: RunnerOptions): Promise<Step> {
  const result = await runStep({ timeoutMs: 45_000, ...options });
  workspaces.push(result.workspace);
  return result;
}

const why = (r: Pick<StepResult, 'stdout' | 'stderr'>): string => `--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
const errorLines = (stdout: string): string[] => stdout.split('\n').filter((l) => l.startsWith('::error::'));
const warningLines = (stdout: string): string[] => stdout.split('\n').filter((l) => l.startsWith('::warning::'));
/** The runner's workflow-command encoding of a message, decoded. */
const decode = (line: string): string => line.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');

describe('dry_run', () => {
  it('sends nothing, needs no API key, prints every planned request (method, route, body) and sets status=dry_run', async () => {
    const result = await step({
      inputs: {
        api_base_url: emulator.url,
        base_model: MODEL,
        lora_rank: 32,
        max_seq_len: 4096,
        seed: 11,
        checkpoint_path: 'bt://loops:prev123/weights/step-9',
        run_name: 'dry-run-check',
        wait_for: 'all',
        dry_run: true,
      },
    });
    expect(result.code, why(result)).toBe(0);
    expect(emulator.requests).toEqual([]);
    expect(result.outputs.status).toBe('dry_run');
    expect(result.outputs.run_name).toBe('dry-run-check');
    expect(result.outputs.run_id ?? '').toBe('');
    expect(errorLines(result.stdout)).toEqual([]);
    const out = result.stdout;
    expect(out).toContain(`Dry run: nothing is sent. These requests would go to ${emulator.url} with "Authorization: Bearer ***"`);
    const order = [
      'GET /v1/loops/capabilities',
      `GET /v1/loops/checkpoints?checkpoint_path=${encodeURIComponent('bt://loops:prev123/weights/step-9')}`,
      'POST /v1/loops/sessions',
      'POST /v1/loops/runs',
      'GET /v1/loops/runs/<run_id>',
    ].map((line) => out.indexOf(line));
    expect(
      order.every((i) => i >= 0),
      out,
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The create-run body, as JSON.
    for (const field of [
      `"base_model": "${MODEL}"`,
      '"name": "dry-run-check"',
      '"lora_rank": 32',
      '"max_seq_len": 4096',
      '"seed": 11',
      '"path": "bt://loops:prev123/weights/step-9"',
    ]) {
      expect(out, field).toContain(field);
    }
    expect(out).toMatch(/GET \/v1\/loops\/deployments\/<deployment_id>/);
  });

  it('with a key: the key is never printed (only ***) and still nothing is sent', async () => {
    const result = await step({
      inputs: { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, session_id: 'sess42', preflight: false, dry_run: true },
    });
    expect(result.code, why(result)).toBe(0);
    expect(emulator.requests).toEqual([]);
    expect(result.outputs.status).toBe('dry_run');
    expect(result.stdout).toContain('"Authorization: Bearer ***"');
    expect(result.stdout).toContain('GET /v1/loops/sessions/sess42');
    expect(result.stdout).not.toContain('GET /v1/loops/capabilities');
    expect(`${result.stdout}${result.stderr}${result.files}`.replace(/^::add-mask::.*$/gm, '')).not.toContain(KEY);
  });

  it('invalid inputs still fail a dry run, each named, nothing sent', async () => {
    const result = await step({ inputs: { base_model: MODEL, lora_rank: 0, replicas: 'two', dry_run: true, api_base_url: emulator.url } });
    expect(result.code).toBe(1);
    expect(emulator.requests).toEqual([]);
    const [error] = errorLines(result.stdout).map(decode);
    expect(error).toMatch(/lora_rank/);
    expect(error).toMatch(/replicas/);
    expect(result.outputs.status).toBe('error');
  });
});

describe('preflight', () => {
  const created = (): string[] => emulator.requests.filter((r) => r.method === 'POST').map((r) => `${r.method} ${r.path}`);

  it('a typo in base_model: error suggesting the closest supported name; no session, no run', async () => {
    const result = await step({ inputs: { api_key: KEY, api_base_url: emulator.url, base_model: 'Qwen/Qwen-8B' } });
    expect(result.code, why(result)).toBe(1);
    const [error] = errorLines(result.stdout).map(decode);
    expect(error).toMatch(/base_model: "Qwen\/Qwen-8B" is not a model/);
    expect(error).toMatch(/Did you mean "Qwen\/Qwen3-8B"/);
    expect(error).toMatch(/nothing was created/);
    expect(created()).toEqual([]);
    expect(emulator.sessions()).toEqual([]);
    expect(emulator.runs()).toEqual([]);
    expect(result.outputs.status).toBe('error');
  });

  it('max_seq_len over the model maximum: error naming max_seq_len and the maximum; nothing created', async () => {
    const result = await step({
      inputs: { api_key: KEY, api_base_url: emulator.url, base_model: 'Qwen/Qwen3-0.6B', max_seq_len: 100000 },
    });
    expect(result.code, why(result)).toBe(1);
    const [error] = errorLines(result.stdout).map(decode);
    expect(error).toMatch(/max_seq_len: 100000 exceeds the maximum of 8192 for Qwen\/Qwen3-0\.6B/);
    expect(created()).toEqual([]);
    expect(emulator.runs()).toEqual([]);
  });

  it('a checkpoint that does not exist: error naming checkpoint_path; nothing created', async () => {
    emulator.configure({ checkpoints: ['bt://loops:prev123/weights/step-1'] });
    const result = await step({
      inputs: { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, checkpoint_path: 'bt://loops:prev123/weights/step-2' },
    });
    expect(result.code, why(result)).toBe(1);
    const [error] = errorLines(result.stdout).map(decode);
    expect(error).toMatch(/checkpoint_path: no checkpoint found at bt:\/\/loops:prev123\/weights\/step-2/);
    expect(created()).toEqual([]);
    expect(emulator.requests.map((r) => r.path).sort()).toEqual(['/v1/loops/capabilities', '/v1/loops/checkpoints']);
  });

  it('an existing checkpoint passes and the run starts from it', async () => {
    emulator.configure({ checkpoints: ['bt://loops:prev123/weights/step-1'] });
    const result = await step({
      inputs: {
        api_key: KEY,
        api_base_url: emulator.url,
        base_model: MODEL,
        checkpoint_path: 'bt://loops:prev123/weights/step-1',
        wait_for: 'none',
      },
    });
    expect(result.code, why(result)).toBe(0);
    expect(result.stdout).toContain('Preflight passed');
    expect(emulator.requests.find((r) => r.method === 'POST' && r.path === '/v1/loops/runs')?.body).toMatchObject({
      path: 'bt://loops:prev123/weights/step-1',
    });
  });

  it('capabilities answering 404: preflight skipped with a warning, run created', async () => {
    emulator.configure({ capabilities: false });
    const result = await step({ inputs: { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, wait_for: 'none' } });
    expect(result.code, why(result)).toBe(0);
    expect(warningLines(result.stdout).join('\n')).toMatch(/Preflight check of base_model and max_seq_len skipped: .*404/);
    expect(result.outputs.status).toBe('launched');
    expect(emulator.runs().map((r) => r.id)).toEqual([result.outputs.run_id]);
  });

  it('capabilities answering 403: preflight skipped with a warning, run created', async () => {
    emulator.fault({ method: 'GET', path: '/v1/loops/capabilities', kind: 'status', status: 403, body: { detail: 'Forbidden' } });
    const result = await step({ inputs: { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, wait_for: 'none' } });
    expect(result.code, why(result)).toBe(0);
    expect(warningLines(result.stdout).join('\n')).toMatch(/Preflight check of base_model and max_seq_len skipped: .*403/);
    expect(emulator.runs().map((r) => r.id)).toEqual([result.outputs.run_id]);
  });

  it('preflight: false sends no capabilities request', async () => {
    const result = await step({
      inputs: { api_key: KEY, api_base_url: emulator.url, base_model: 'Qwen/Qwen3-0.6B', preflight: false, wait_for: 'none' },
    });
    expect(result.code, why(result)).toBe(0);
    expect(emulator.requests.map((r) => r.path)).not.toContain('/v1/loops/capabilities');
  });
});

describe('comment_on_pr against a fake GitHub Enterprise Server REST API (GITHUB_API_URL=http://127.0.0.1:<port>/api/v3)', () => {
  let github: FakeGithub;
  const PR = 17;
  const SHA1 = '1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const SHA2 = '2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
  const prEvent = (sha: string) => ({
    action: 'synchronize',
    number: PR,
    pull_request: { number: PR, head: { sha, ref: 'feature', repo: { fork: false } } },
  });

  beforeAll(async () => {
    github = await startFakeGithub('/api/v3');
  });
  afterAll(async () => {
    await github?.close();
  });
  beforeEach(() => {
    github.requests.length = 0;
    github.comments.clear();
    github.pulls.clear();
    github.failWith = undefined;
    github.viewer = 'github-actions[bot]';
  });

  /** A push of `sha` to the pull request (its head on GitHub), then the launch step of that push. */
  const commentStep = (sha: string, extra: RunnerOptions['inputs'] = {}, env: Record<string, string> = {}): Promise<Step> => {
    setPull(github, 'acme/finetune', PR, sha);
    return step({
      inputs: {
        api_key: KEY,
        api_base_url: emulator.url,
        base_model: MODEL,
        lora_rank: 16,
        wait_for: 'none',
        comment_on_pr: true,
        github_token: TOKEN,
        ...extra,
      },
      event: prEvent(sha),
      env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_API_URL: github.url, GITHUB_SHA: sha, GITHUB_REF: `refs/pull/${PR}/merge`, ...env },
    });
  };
  /** The head check reads the pull request before the launch and again before the second supersede pass. */
  const headChecks = [`GET /repos/acme/finetune/pulls/${PR}`, `GET /repos/acme/finetune/pulls/${PR}`];

  it('the first run creates one comment with the hidden marker and the run details', async () => {
    const result = await commentStep(SHA1);
    expect(result.code, why(result)).toBe(0);
    const comments = github.comments.get(`acme/finetune#${PR}`) ?? [];
    expect(comments).toHaveLength(1);
    const body = comments[0]?.body ?? '';
    expect(body).toMatch(/^<!-- baseten-loops-launch leg=[0-9a-f]{8} -->/);
    expect(body).toContain(`\`${result.outputs.run_id}\``);
    expect(body).toContain(result.outputs.sampler_base_url);
    expect(body).toContain('**launched**');
    expect(body).toContain(`\`${MODEL}\``);
    expect(body).toContain('for 1111111');
    expect(body).toContain('https://github.com/acme/finetune/actions/runs/4242');
    expect(body).not.toContain(KEY);
    expect(github.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      ...headChecks,
      'POST (graphql)',
      `GET /repos/acme/finetune/issues/${PR}/comments`,
      `POST /repos/acme/finetune/issues/${PR}/comments`,
    ]);
    expect(github.requests.every((r) => r.authorization?.includes(TOKEN))).toBe(true);
    expect(result.stdout).toMatch(/Commented on the pull request/);
  });

  it('a second run on a new push updates the same comment in place', async () => {
    const first = await commentStep(SHA1);
    expect(first.code, why(first)).toBe(0);
    const [original] = github.comments.get(`acme/finetune#${PR}`) ?? [];
    github.requests.length = 0;

    const second = await commentStep(SHA2);
    expect(second.code, why(second)).toBe(0);
    const comments = github.comments.get(`acme/finetune#${PR}`) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0]?.id).toBe(original?.id);
    expect(comments[0]?.body).toContain('for 2222222');
    expect(comments[0]?.body).toContain(`\`${second.outputs.run_id}\``);
    expect(second.outputs.run_id).not.toBe(first.outputs.run_id);
    expect(github.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      ...headChecks,
      'POST (graphql)',
      `GET /repos/acme/finetune/issues/${PR}/comments`,
      `PATCH /repos/acme/finetune/issues/comments/${original?.id}`,
    ]);
    expect(second.stdout).toMatch(/Updated the pull request comment/);
  });

  it('a comment by someone else that carries the hidden marker is never edited: ours is created beside it', async () => {
    const first = await commentStep(SHA1);
    expect(first.code, why(first)).toBe(0);
    const [ours] = github.comments.get(`acme/finetune#${PR}`) ?? [];
    const marker = /^<!--[^>]*-->/.exec(ours?.body ?? '')?.[0] ?? '';
    expect(marker).toContain('baseten-loops-launch');
    // Someone pastes the marker into a comment of theirs; ours is gone (deleted by a maintainer).
    const planted = { id: 1, body: `${marker}\nplease run my fork's code`, html_url: 'https://github.example/c/1', user: { login: 'mallory' } };
    github.comments.set(`acme/finetune#${PR}`, [planted]);
    github.requests.length = 0;

    const second = await commentStep(SHA2);
    expect(second.code, why(second)).toBe(0);
    const comments = github.comments.get(`acme/finetune#${PR}`) ?? [];
    expect(comments.find((c) => c.id === 1)?.body).toBe(`${marker}\nplease run my fork's code`);
    expect(github.requests.some((r) => r.method === 'PATCH')).toBe(false);
    expect(comments).toHaveLength(2);
    expect(comments[1]?.user.login).toBe('github-actions[bot]');
    expect(comments[1]?.body).toContain(`\`${second.outputs.run_id}\``);
  });

  it('matrix legs that differ only in seed or availability_model keep a comment each; a new push updates only its own', async () => {
    const legs: Array<Record<string, string | number>> = [{ seed: 1 }, { seed: 2 }, { seed: 1, availability_model: 'spot' }];
    for (const leg of legs) expect((await commentStep(SHA1, leg)).code).toBe(0);
    const comments = github.comments.get(`acme/finetune#${PR}`) ?? [];
    expect(comments).toHaveLength(3);
    const markers = comments.map((c) => /^<!--[^>]*-->/.exec(c.body)?.[0]);
    expect(new Set(markers).size).toBe(3);
    const before = comments.map((c) => c.body);

    const again = await commentStep(SHA2, legs[1]);
    expect(again.code, why(again)).toBe(0);
    const after = github.comments.get(`acme/finetune#${PR}`) ?? [];
    expect(after).toHaveLength(3);
    expect(after[0]?.body).toBe(before[0]);
    expect(after[2]?.body).toBe(before[2]);
    expect(after[1]?.body).toContain('for 2222222');
  });

  it('a 403 from GitHub is a warning with the fix (pull-requests: write); the step still succeeds', async () => {
    github.failWith = 403;
    const result = await commentStep(SHA1);
    expect(result.code, why(result)).toBe(0);
    expect(result.outputs.status).toBe('launched');
    expect(github.requests.length).toBeGreaterThan(0);
    const warning = warningLines(result.stdout).join('\n');
    expect(warning).toMatch(/comment_on_pr: could not comment on pull request #17/);
    expect(warning).toContain('pull-requests: write');
    expect(errorLines(result.stdout)).toEqual([]);
  });

  it('a failed run is commented too, with its status', async () => {
    emulator.configure({ samplerTimeline: [{ status: 'DEPLOYING', ms: 100 }, { status: 'DEPLOY_FAILED' }] });
    const result = await commentStep(SHA1, { wait_for: 'sampler', poll_interval_seconds: 0.2, wait_timeout_seconds: 20 });
    expect(result.code, why(result)).toBe(1);
    const [comment] = github.comments.get(`acme/finetune#${PR}`) ?? [];
    expect(comment?.body).toContain('**failed**');
    expect(comment?.body).toContain('DEPLOY_FAILED');
  });

  it('a push event: no request to the GitHub API', async () => {
    const result = await step({
      inputs: { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, wait_for: 'none', comment_on_pr: true, github_token: TOKEN },
      env: { GITHUB_EVENT_NAME: 'push', GITHUB_API_URL: github.url },
      event: { ref: 'refs/heads/main', head_commit: { id: SHA1 } },
    });
    expect(result.code, why(result)).toBe(0);
    expect(github.requests).toEqual([]);
    expect(result.stdout).toMatch(/not a pull request event \(push\)/);
  });

  it('comment_on_pr: false on a pull request: only the head check reads the GitHub API; nothing is written', async () => {
    const result = await commentStep(SHA1, { comment_on_pr: false });
    expect(result.code, why(result)).toBe(0);
    expect(github.requests.map((r) => `${r.method} ${r.path}`)).toEqual(headChecks);
  });
});
