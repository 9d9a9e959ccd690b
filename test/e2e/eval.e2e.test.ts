// End to end, the eval handoff: "ready" means the sampler answers GET /v1/models, a sampler that
// scaled to zero is woken once, the key goes only to the API's own domain (or loopback), and the
// eval job gets the model name and the OpenAI base URL — in the outputs, the summary and the comment.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import type { Emulator } from '../emulator/server.js';
import { annotations, requestsTo, stepTest } from '../support/e2e.js';
import { startFakeGithub } from './tools.js';

const KEY = 'loops-e2e-eval-key-6a0d';
const MODEL = 'Qwen/Qwen3-8B';
const test = stepTest({
  apiKeys: [KEY],
  samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'RUNNING' }],
});

function inputs(emulator: Emulator, extra: Record<string, string | number | boolean> = {}) {
  return { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, wait_for: 'sampler', poll_interval_seconds: 0.1, ...extra };
}

const MODELS = /^\/sampler\/[^/]+\/v1\/models$/;
const probes = (emulator: Emulator) => requestsTo(emulator, 'GET', MODELS);
const live = (emulator: Emulator) => emulator.runs().filter((r) => r.status.name === 'ACTIVE');

/** A proxy that records what reaches it and forwards nothing: where a key must never go. */
async function recordingProxy(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} authorization=${req.headers.authorization ?? '(none)'}`);
    res.writeHead(502).end();
  });
  server.on('connect', (req, socket) => {
    seen.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('ready means the sampler answers', () => {
  test.concurrent(
    'ready only once GET /v1/models answers: 503s first, then 200; the outputs carry what an eval job needs',
    async ({ loops, step }) => {
      const emulator = await loops();
      emulator.fault({ method: 'GET', path: MODELS, kind: 'status', status: 503, body: { detail: 'warming up' }, times: 3 });
      const result = await step({ inputs: inputs(emulator) });
      expect(result.code, result.stdout).toBe(0);
      expect(result.outputs.status).toBe('ready');
      const answers = probes(emulator).map((r) => r.status);
      expect(answers).toEqual([503, 503, 503, 200]);
      const run = emulator.runs()[0];
      expect(result.outputs).toMatchObject({
        sampler_model: MODEL,
        openai_base_url: `${run?.sampler?.base_url}/v1`,
        sampler_deployment_id: run?.sampler?.deployment_id,
        sampler_model_id: run?.sampler?.model_id,
      });
      // The key went to the sampler (loopback here), as Bearer.
      expect(probes(emulator).every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
      expect(result.stdout.match(/does not answer GET \/v1\/models yet/g)).toHaveLength(1);
      expect(result.summary).toContain(`<th align="left">Sampler model</th><td>${MODEL}</td>`);
      expect(result.summary).toContain(`<th align="left">OpenAI base URL</th><td>${run?.sampler?.base_url}/v1</td>`);
    },
  );

  test.concurrent('the base model is the entry without a parent, even when adapters are listed first', async ({ loops, step }) => {
    const emulator = await loops();
    const first = await step({ inputs: inputs(emulator, { wait_for: 'none' }) });
    emulator.publishAdapter(first.outputs.run_id ?? '', 'step-100');
    const result = await step({ inputs: inputs(emulator, { reuse_from_run_id: first.outputs.run_id ?? '' }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.sampler_model).toBe(MODEL);
  });

  test.concurrent('the sampler refuses the key (401): failed, with the fix, and the run is deactivated', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'GET', path: MODELS, kind: 'status', status: 401, body: { detail: 'Invalid API key' }, times: Infinity });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('failed');
    const error = annotations(result.stdout);
    expect(error).toContain('the sampler refused the API key (GET /v1/models answered HTTP 401: Invalid API key)');
    expect(error).toContain('The run was deactivated');
    expect(live(emulator)).toEqual([]);
  });

  test.concurrent('an answer that is not a models list: failed, naming what came back', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'GET', path: MODELS, kind: 'transform', transform: () => ({ status: 'ok', models: 'Qwen' }), times: Infinity });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('failed');
    expect(annotations(result.stdout)).toContain('something that is not a models list');
    expect(annotations(result.stdout)).toContain('not an OpenAI models list (no "data" entries)');
    expect(annotations(result.stdout)).toContain('its first 200 characters: "{\\"status\\":\\"ok\\",\\"models\\":\\"Qwen\\"}"');
    expect(live(emulator)).toEqual([]);
  });

  test.concurrent(
    'an HTML page or hostile text instead of a models list: its first 200 characters, on one line and inert',
    async ({ loops, step }) => {
      const emulator = await loops();
      const page = `<html>\n::error::pwned\n##[warning]also ${'x'.repeat(300)}TAIL</html>`;
      emulator.fault({ method: 'GET', path: MODELS, kind: 'garbage', body: page, times: Infinity });
      const result = await step({ inputs: inputs(emulator) });
      expect(result.outputs.status).toBe('failed');
      const error = annotations(result.stdout);
      expect(error).toContain('something that is not a models list');
      expect(error).toContain('its first 200 characters: "<html> :');
      expect(error).not.toContain('TAIL');
      expect(error).toMatch(/x…"/);
      // Inert: no line of the log starts a workflow command, and the legacy "##[" is broken.
      expect(result.stdout.split('\n').filter((l) => /^::(warning|error)::pwned|##\[warning\]/.test(l))).toEqual([]);
      expect(result.summary).toContain('its first 200 characters');
      expect(result.summary).not.toContain('<html>');
    },
  );

  test.concurrent('a sampler that never answers: timed out, saying what it last answered', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'GET', path: MODELS, kind: 'status', status: 503, times: Infinity });
    const result = await step({ inputs: inputs(emulator, { wait_timeout_seconds: 2 }) });
    expect(result.outputs.status).toBe('timed_out');
    expect(annotations(result.stdout)).toMatch(/last statuses: sampler ACTIVE; the sampler did not answer GET \/v1\/models \(HTTP 503/);
  });

  test.concurrent('verify_sampler: false: ready on the statuses alone, the sampler is never asked', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'GET', path: MODELS, kind: 'status', status: 503, times: Infinity });
    const result = await step({ inputs: inputs(emulator, { verify_sampler: false }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'ready', sampler_model: '' });
    expect(result.outputs.openai_base_url).toMatch(/\/sampler\/\w+\/v1$/);
    expect(probes(emulator)).toEqual([]);
  });

  test.concurrent('wait_for: none: not asked, and openai_base_url is set with sampler_base_url all the same', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { wait_for: 'none' }) });
    expect(result.outputs.openai_base_url).toBe(`${result.outputs.sampler_base_url}/v1`);
    expect(probes(emulator)).toEqual([]);
  });
});

describe('a sampler that scaled to zero is woken', () => {
  test.concurrent('a reused run whose sampler had scaled to zero: one wake, then ready', async ({ loops, step }) => {
    const emulator = await loops({ wakeMs: 400 });
    const first = await step({ inputs: inputs(emulator, { wait_for: 'none' }) });
    emulator.scaleToZero(first.outputs.run_id ?? '');
    const result = await step({ inputs: inputs(emulator, { reuse_from_run_id: first.outputs.run_id ?? '', wait_timeout_seconds: 10 }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.status).toBe('ready');
    expect(result.stdout).toContain('the sampler scaled to zero; waking it');
    // The wake (answered 503 while it wakes), then the answer once ACTIVE.
    expect(probes(emulator).map((r) => r.status)).toEqual([503, 200]);
    expect(result.outputs.sampler_model).toBe(MODEL);
  });
});

describe("the key stays on the API's domain", () => {
  for (const elsewhere of ['http://sampler.elsewhere.test/sampler/x', 'https://model-x.elsewhere.test/environments/loops/sync']) {
    test.concurrent(`a sampler at ${elsewhere}: not checked, the key never sent there, ready on the statuses`, async ({ loops, step }) => {
      const proxy = await recordingProxy();
      try {
        const emulator = await loops({ samplerBaseUrl: () => elsewhere });
        const result = await step({
          inputs: inputs(emulator, { wait_timeout_seconds: 5 }),
          env: { http_proxy: proxy.url, https_proxy: proxy.url, HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url },
        });
        expect(result.code, result.stdout).toBe(0);
        expect(result.outputs).toMatchObject({ status: 'ready', sampler_model: '', openai_base_url: `${elsewhere}/v1` });
        expect(annotations(result.stdout, 'warning')).toMatch(
          /verify_sampler: not checked, and the API key was not sent, because the sampler \(\S+\) is not/,
        );
        expect(proxy.seen).toEqual([]);
        expect(probes(emulator)).toEqual([]);
      } finally {
        await proxy.close();
      }
    });
  }
});

describe('the comment carries the eval handoff', () => {
  test.concurrent('sampler model and OpenAI base URL in the pull-request comment', async ({ loops, step }) => {
    const github = await startFakeGithub();
    try {
      const emulator = await loops();
      const sha = '3333333cccccccccccccccccccccccccccccccc';
      const result = await step({
        inputs: inputs(emulator, { comment_on_pr: true, github_token: 'ghs_fakeEvalToken0123' }),
        event: { number: 9, pull_request: { number: 9, head: { sha } } },
        env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_API_URL: github.url, GITHUB_SHA: sha },
      });
      expect(result.code, result.stdout).toBe(0);
      const [comment] = github.comments.get('acme/finetune#9') ?? [];
      expect(comment?.body).toContain(`| Sampler model | \`${MODEL}\` |`);
      expect(comment?.body).toContain(`| OpenAI base URL | \`${result.outputs.openai_base_url}\` |`);
    } finally {
      await github.close();
    }
  });
});
