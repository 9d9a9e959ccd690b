// End to end, failure forensics through the committed bundle as a runner runs it, against the
// emulator's failure stories and its GitHub side (the pull-request comment): each story's cause
// and fix in the ::error:: line, the summary and the comment, its logs in collapsed groups;
// classes of failures before any run; show_logs: always (every line once, politely) and never;
// no logs request for a run that succeeds; hostile log lines inert; a logs route that fails, hangs
// or answers garbage leaves the real error as it was; and the stop action's "up for".

import { describe, expect } from 'vitest';
import { CAUSES, type FailureReason } from '../../src/forensics/causes.js';
import type { Emulator, StoryName } from '../emulator/server.js';
import { type Step, annotations, requestsTo, signalOn } from '../support/e2e.js';
import { KEY, SHA, TOKEN, commentsOn, lifeTest, pr } from './life.js';
import type { FakeGithub } from './tools.js';

// The emulator's GitHub side comes with lifeTest (`github()`); its defaults are short timelines.
const test = lifeTest;

type Inputs = Record<string, string | number | boolean>;
const inputs = (emulator: Emulator, extra: Inputs = {}): Inputs => ({
  api_key: KEY,
  api_base_url: emulator.url,
  base_model: 'Qwen/Qwen3-8B',
  preflight: false,
  poll_interval_seconds: 0.1,
  wait_timeout_seconds: 30,
  max_retries: 1,
  ...extra,
});

/** A pull_request event of PR 7, commenting through the fake GitHub. */
const onPullRequest = (github: FakeGithub) => pr(7, SHA.A, { github });
const comment = (github: FakeGithub): string => commentsOn(github, 7).at(-1) ?? '';

/** What a reader sees of HTML: tags gone, entities decoded, the zero-width spaces that break mentions removed. */
const plain = (html: string): string =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\u200b/g, '');
const ticksOff = (text: string): string => text.replace(/`/g, '');

/** The lines of the step log's collapsed group whose title starts with `title`, or undefined. */
function group(stdout: string, title: string): string[] | undefined {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`::group::${title}`));
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && l === '::endgroup::');
  return lines.slice(start + 1, end);
}

const logsRequests = (emulator: Emulator) => requestsTo(emulator, 'GET', /\/logs$/);

/** The cause and fix said the same way in the ::error:: line, the summary and the comment. */
function expectCause(result: Step, reason: FailureReason, commentBody?: string): void {
  expect(result.outputs.failure_reason).toBe(reason);
  const error = annotations(result.stdout);
  expect(error).toContain(`Cause (failure_reason: ${reason}): ${CAUSES[reason].means} Fix: ${CAUSES[reason].fix}`);
  for (const [where, text] of [
    ['summary', result.summary],
    ['comment', commentBody],
  ] as const) {
    if (text === undefined) continue;
    expect(text, where).toContain(`<code>failure_reason: ${reason}</code>`);
    expect(plain(text), where).toContain(`Fix: ${ticksOff(CAUSES[reason].fix)}`);
    expect(plain(text), where).toContain(ticksOff(CAUSES[reason].means));
  }
}

const STORIES: Array<[StoryName, Inputs, string, FailureReason, 'Trainer' | 'Sampler', RegExp]> = [
  ['oom', { wait_for: 'all' }, 'failed', 'oom', 'Trainer', /^✖ .* ERROR +\[trainer-\w+-0\] torch\.OutOfMemoryError: CUDA out of memory/],
  ['preempted', { wait_for: 'all', availability_model: 'spot' }, 'failed', 'preempted', 'Trainer', /^⚠ .* WARNING .*preemption notice/],
  [
    'checkpoint',
    { wait_for: 'all', checkpoint_path: 'bt://loops:prev9/weights/step-3' },
    'failed',
    'checkpoint',
    'Trainer',
    /Failed to load checkpoint bt:\/\/loops:prev9/,
  ],
  ['sampler_crash', { wait_for: 'sampler', wait_timeout_seconds: 1 }, 'timed_out', 'sampler_unhealthy', 'Sampler', /CrashLoopBackOff/],
];

describe.concurrent('failure stories through the bundle', () => {
  test.for(STORIES)(
    '%s: the cause and fix everywhere, the logs in collapsed groups',
    async ([story, extra, status, reason, source, line], { loops, github: gh, step }) => {
      const emulator = await loops({ story });
      const github = await gh();
      const result = await step({
        inputs: inputs(emulator, { ...extra, comment_on_pr: true, github_token: TOKEN }),
        ...onPullRequest(github),
      });
      expect(result.code).toBe(1);
      expect(result.outputs.status).toBe(status);
      expectCause(result, reason, comment(github));
      // The GPUs were stopped before any log was read.
      const deactivated = requestsTo(emulator, 'POST', /\/deactivate$/)[0];
      const logs = logsRequests(emulator);
      expect(logs).toHaveLength(2);
      expect(deactivated?.at ?? Infinity).toBeLessThanOrEqual(Math.min(...logs.map((r) => r.at)));
      // Both sources in collapsed groups; the line that tells the story in its source's group.
      const lines = group(result.stdout, `${source} logs (last `);
      expect(lines, result.stdout).toBeDefined();
      expect(lines?.some((l) => line.test(l))).toBe(true);
      expect(group(result.stdout, source === 'Trainer' ? 'Sampler logs (last ' : 'Trainer logs (last ')).toBeDefined();
      expect(result.stdout.indexOf('::endgroup::')).toBeLessThan(result.stdout.indexOf('::error::'));
      // The summary and the comment: <details> blocks, the story's line in them.
      for (const text of [result.summary, comment(github)]) {
        expect(text).toMatch(new RegExp(`<details><summary>${source} logs \\(last \\d+ lines`));
        expect(
          plain(text)
            .split('\n')
            .some((l) => line.test(l)),
        ).toBe(true);
      }
    },
  );
});

describe.concurrent('failures before a run exists get a class too (and no logs request)', () => {
  test('a key refused (401): auth', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { api_key: 'wrong-key-0000' }) });
    expect(result.outputs.status).toBe('error');
    expectCause(result, 'auth');
    expect(logsRequests(emulator)).toHaveLength(0);
  });

  test('preflight: the model is not enabled for the workspace: model_access', async ({ loops, step }) => {
    const emulator = await loops({
      models: [{ model_name: 'Qwen/Qwen3-8B', max_context_length: 131072, supports_vision_language: false, enabled: false }],
    });
    const result = await step({ inputs: inputs(emulator, { preflight: true }) });
    expect(result.outputs.status).toBe('error');
    expectCause(result, 'model_access');
    expect(requestsTo(emulator, 'POST', '/v1/loops/runs')).toHaveLength(0);
  });

  test('preflight: no such checkpoint: checkpoint', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { preflight: true, checkpoint_path: 'bt://loops:gone1/weights/step-1' }) });
    expectCause(result, 'checkpoint');
  });

  test('no capacity (429, details.reason loops_capacity): capacity', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({
      method: 'POST',
      path: '/v1/loops/runs',
      kind: 'status',
      status: 429,
      body: { error: 'No capacity for Qwen/Qwen3-8B', details: { reason: 'loops_capacity' } },
      times: Infinity,
    });
    const result = await step({ inputs: inputs(emulator, { max_retries: 0, wait_timeout_seconds: 1 }) });
    expect(result.code).toBe(1);
    expectCause(result, 'capacity');
  });

  test('invalid inputs: unknown, said the same way', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { lora_rank: 0, show_logs: 'sometimes' }) });
    expect(result.outputs.status).toBe('error');
    expect(annotations(result.stdout)).toContain('show_logs: must be one of on_failure, always, never (got "sometimes")');
    expectCause(result, 'unknown');
    expect(emulator.requests).toHaveLength(0);
  });
});

describe.concurrent('after a run exists, with nothing better', () => {
  test('a timeout: timeout, the logs still shown', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'LOADING_MODEL' }] });
    const result = await step({ inputs: inputs(emulator, { wait_timeout_seconds: 1 }) });
    expect(result.outputs.status).toBe('timed_out');
    expectCause(result, 'timeout');
    expect(group(result.stdout, 'Sampler logs (last ')?.join('\n')).toContain('Loading the weights of Qwen/Qwen3-8B');
  });

  test('a cancellation: cancelled; the run is stopped first, then its logs are read within the time left', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING' }] });
    const result = await step({ inputs: inputs(emulator, { wait_timeout_seconds: 600 }), ...signalOn('Waiting up to', 'SIGINT') });
    expect(result.outputs.status).toBe('cancelled');
    expectCause(result, 'cancelled');
    const deactivated = requestsTo(emulator, 'POST', /\/deactivate$/);
    expect(deactivated).toHaveLength(1);
    expect(Math.min(...logsRequests(emulator).map((r) => r.at))).toBeGreaterThanOrEqual(deactivated[0]?.at ?? Infinity);
    expect(group(result.stdout, 'Trainer logs (last ')).toBeDefined();
  });

  test('a cancellation with a logs route that hangs: logs get what is left of a few seconds, not request_timeout_seconds', async ({
    loops,
    step,
  }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING' }] });
    emulator.fault({ path: /\/logs$/, kind: 'delay', delayMs: 60_000, times: Infinity });
    const result = await step({
      inputs: inputs(emulator, { wait_timeout_seconds: 600, request_timeout_seconds: 30 }),
      ...signalOn('Waiting up to', 'SIGINT'),
    });
    expect(result.outputs.status).toBe('cancelled');
    expectCause(result, 'cancelled');
    expect(requestsTo(emulator, 'POST', /\/deactivate$/)).toHaveLength(1);
    expect(result.stdout).toMatch(/Trainer logs: could not be read \(.*timeout after [0-4](\.\d)?s\)/);
    // The runner kills a cancelled step about 10 s after SIGINT: this one was long done by then.
    expect(result.durationMs).toBeLessThan(8_000);
  });

  test('a run without deployments (serverless): said, not failed; no logs request', async ({ loops, step }) => {
    const emulator = await loops({ deploymentIdOnRuns: false, samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'FAILED' }] });
    const serverless = (body: unknown): unknown => {
      const run = (body as { run?: { sampler?: Record<string, unknown> } }).run;
      if (run?.sampler) {
        delete run.sampler.model_id;
        delete run.sampler.deployment_id;
      }
      return body;
    };
    emulator.fault({ path: /^\/v1\/loops\/runs(\/\w+)?$/, kind: 'transform', transform: serverless, times: Infinity });
    emulator.fault({ path: '/v1/loops/deployments', kind: 'transform', transform: () => ({ deployments: [] }), times: Infinity });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.outputs.status).toBe('failed');
    expectCause(result, 'sampler_unhealthy');
    expect(result.stdout).toContain(`Trainer logs: none, because run ${result.outputs.run_id} has no Loops deployment`);
    expect(result.stdout).toContain('Sampler logs: none, because the sampler has no model deployment');
    expect(plain(result.summary)).toContain('Sampler logs: none, because the sampler has no model deployment');
    expect(logsRequests(emulator)).toHaveLength(0);
  });
});

describe.concurrent('show_logs', () => {
  test('on_failure (the default): a run that ends ready or launched sends no logs request; failure_reason empty', async ({ loops, step }) => {
    const emulator = await loops();
    for (const wait_for of ['sampler', 'none']) {
      const result = await step({ inputs: inputs(emulator, { wait_for }) });
      expect(result.code).toBe(0);
      expect(result.outputs.failure_reason).toBe('');
      expect(result.summary).not.toContain('failure_reason');
    }
    expect(logsRequests(emulator)).toHaveLength(0);
    expect(requestsTo(emulator, 'GET', '/v1/loops/deployments')).toHaveLength(0);
  });

  test('never: no logs request even on failure; the cause from the statuses alone', async ({ loops, step }) => {
    const emulator = await loops({ story: 'preempted' });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'all', show_logs: 'never' }) });
    expectCause(result, 'preempted');
    expect(logsRequests(emulator)).toHaveLength(0);
    expect(result.stdout).not.toContain('::group::');
  });

  test('always: every trainer line streamed once and in order, across full pages and shared timestamps; at most one request per poll', async ({
    loops,
    step,
  }) => {
    const emulator = await loops({ story: 'chatty', samplerTimeline: [{ status: 'DEPLOYING', ms: 1_200 }, { status: 'ACTIVE' }] });
    const result = await step({ inputs: inputs(emulator, { show_logs: 'always' }) });
    expect(result.code).toBe(0);
    const streamed = result.stdout.split('\n').filter((l) => l.startsWith('trainer | '));
    const steps = streamed.flatMap((l) => (/ step (\d+): loss/.exec(l) ? [Number(/ step (\d+): loss/.exec(l)?.[1])] : []));
    expect(steps).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    expect(new Set(streamed).size).toBe(streamed.length);
    const polls = requestsTo(emulator, 'GET', `/v1/loops/runs/${result.outputs.run_id}`).length;
    const logs = logsRequests(emulator).length;
    expect(logs).toBeGreaterThanOrEqual(3); // 2500 lines in pages of 1000
    expect(logs).toBeLessThanOrEqual(polls + 1); // one per poll, and one to catch up at the end
    expect(result.outputs.failure_reason).toBe('');
  });

  test('always, on a failure: the lines were streamed (not repeated), the sampler group follows, the cause from the streamed lines', async ({
    loops,
    step,
  }) => {
    const emulator = await loops({ story: 'oom' });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'all', show_logs: 'always' }) });
    expectCause(result, 'oom');
    const oom = result.stdout.split('\n').filter((l) => l.includes('CUDA out of memory'));
    expect(oom).toHaveLength(1);
    expect(oom[0]).toMatch(/^trainer \| ✖ /);
    expect(result.stdout).toContain('Trainer logs: streamed above (show_logs: always)');
    expect(group(result.stdout, 'Trainer logs (last ')).toBeUndefined();
    expect(group(result.stdout, 'Sampler logs (last ')).toBeDefined();
    expect(result.summary).toMatch(/<details><summary>Trainer logs \(last \d+ lines, \d+ ERROR first\)/);
  });
});

describe.concurrent('always, when the last catch-up fails', () => {
  test('the newest lines are read afresh and only those not streamed are printed: no line twice', async ({ loops, step }) => {
    const emulator = await loops({ story: 'oom' });
    // One failure of the trainer's logs, on the first read after the run is stopped: the stream's catch-up.
    emulator.fault({
      path: /^\/v1\/loops\/deployments\/[^/]+\/logs$/,
      kind: 'status',
      status: 500,
      afterSeen: { method: 'POST', path: /\/deactivate$/ },
    });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'all', show_logs: 'always' }) });
    expectCause(result, 'oom');
    const failed = requestsTo(emulator, 'GET', /\/v1\/loops\/deployments\/[^/]+\/logs/).filter((r) => r.status === 500);
    expect(failed, 'the catch-up failed once').toHaveLength(1);
    const trainerLines = result.stdout.split('\n').filter((l) => l.startsWith('trainer | '));
    expect(new Set(trainerLines).size, 'no streamed line printed twice').toBe(trainerLines.length);
    expect(result.stdout.split('\n').filter((l) => l.includes('CUDA out of memory'))).toHaveLength(1);
    expect(group(result.stdout, 'Trainer logs (last ')).toBeUndefined();
  });
});

describe.concurrent('hostile log lines', () => {
  const HOSTILE = [
    '::error::pwned',
    '::set-output name=status::ready',
    '::add-mask::x',
    '##[error]pwned too',
    'ok\n::warning::injected after a newline',
    'ok\r\n::notice::injected after a CRLF',
    '\u001b[2K\u001b[1Gscrubbed the line',
    'ping @octocat and @acme/ml',
    '<script>alert(1)</script></pre></details><img src=x onerror=alert(1)>',
    `Authorization: Bearer ${KEY}`,
    'x'.repeat(200_000),
  ];

  test('are inert in the step log, the summary and the comment, the key scrubbed, the blocks small', async ({ loops, step, github }) => {
    const emulator = await loops({ story: 'oom' });
    const gh = await github();
    const at = Date.now() - 5_000;
    const hostile = HOSTILE.map((message, i) => ({ timestamp: `${at}${String(i).padStart(6, '0')}`, message, replica: null, level: 'ERROR' }));
    emulator.fault({
      path: /\/logs$/,
      kind: 'transform',
      transform: (body) => ({ logs: [...hostile, ...(body as { logs: unknown[] }).logs] }),
      times: Infinity,
    });
    const result = await step({
      inputs: inputs(emulator, { wait_for: 'all', comment_on_pr: true, github_token: TOKEN }),
      ...onPullRequest(gh),
    });
    expect(result.outputs.status).toBe('failed');
    expect(result.outputs.failure_reason).toBe('oom');
    const commands = result.stdout.split('\n').filter((l) => /^\s*::/.test(l));
    expect(commands.filter((l) => !/^::(add-mask::|group::|endgroup::$|error::Run )/.test(l))).toEqual([]);
    expect(commands.filter((l) => l.startsWith('::add-mask::')).map((l) => l.slice(12))).not.toContain('x');
    expect(result.stdout).not.toContain('##[');
    expect(result.stdout).not.toContain('\u001b');
    const body = comment(gh);
    for (const [where, text] of [
      ['summary', result.summary],
      ['comment', body],
    ] as const) {
      expect(text, where).not.toMatch(/<script|<img|@octocat|@acme/);
      expect(text, where).toContain('@\u200boctocat');
      expect(text, where).toContain('Authorization: Bearer ***');
    }
    expect(result.summary.length).toBeLessThan(100_000);
    expect(body.length).toBeLessThan(30_000);
  });
});

describe.concurrent('a logs route that fails, hangs or answers garbage', () => {
  test.for([
    ['answers 500', { kind: 'status', status: 500 }, /HTTP 500/],
    ['hangs', { kind: 'delay', delayMs: 60_000 }, /timeout after [01](\.\d)?s/],
    ['answers garbage', { kind: 'garbage', body: '{"logs": "nope"' }, /body is not JSON/],
  ] as const)(
    '%s: the real error, status and cause are as they were; one attempt each; no more than one request timeout',
    async ([, fault, why], { loops, step }) => {
      const emulator = await loops({ story: 'preempted' });
      emulator.fault({ path: /\/logs$/, times: Infinity, ...fault });
      const result = await step({ inputs: inputs(emulator, { wait_for: 'all', request_timeout_seconds: 1 }) });
      expect(result.code).toBe(1);
      expect(result.outputs.status).toBe('failed');
      const error = annotations(result.stdout);
      expect(error).toMatch(new RegExp(`^Run ${result.outputs.run_id} failed: the trainer is PREEMPTED\\. The run was deactivated\\.\\n`));
      expectCause(result, 'preempted');
      expect(result.stdout).toMatch(new RegExp(`Trainer logs: could not be read \\(.*${why.source}`));
      expect(plain(result.summary)).toMatch(new RegExp(`Sampler logs: could not be read \\(.*${why.source}`));
      expect(logsRequests(emulator)).toHaveLength(2);
      expect(result.durationMs).toBeLessThan(10_000);
    },
  );
});

describe.concurrent('the stop action', () => {
  test("says how long each run it stopped had been up, on the server's clock", async ({ loops, step }) => {
    const ahead = 5 * 3600_000;
    const emulator = await loops({ now: () => Date.now() + ahead });
    const session = emulator.createSession();
    const up = 2 * 3600_000 + 5 * 60_000 + 30_000;
    const run = emulator.createRun({ session_id: session, base_model: 'Qwen/Qwen3-8B', name: 'by hand' }, { createdAt: Date.now() + ahead - up });
    const result = await step({ action: 'stop', inputs: { api_key: KEY, api_base_url: emulator.url, run_ids: `${run.id} gone404` } });
    expect(result.code).toBe(0);
    expect(result.summary).toContain('<th>up for</th>');
    expect(result.summary).toContain(`<tr><td>${run.id}</td><td>by hand</td><td>${run.created_at}</td><td>2h 05m</td>`);
    expect(result.summary).toMatch(/<tr><td>gone404<\/td><td>—<\/td><td>—<\/td><td>—<\/td>/);
  });
});
