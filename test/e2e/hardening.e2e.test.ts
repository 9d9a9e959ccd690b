// End to end: the hard cases for the GPU bill — a slow server, answers that break the
// description, older API shapes, cancellation at awkward moments, a wait that outlives its poll.

import { describe, expect } from 'vitest';
import type { Emulator, LoopsRun } from '../emulator/server.js';
import { annotations, requestsTo, signalOn, stepTest } from '../support/e2e.js';
import { runPostStep } from '../support/runner.js';

const KEY = 'loops-e2e-hardening-key-51c2';
const MODEL = 'Qwen/Qwen3-8B';
const test = stepTest({
  apiKeys: [KEY],
  samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'RUNNING' }],
});

function inputs(emulator: Emulator, extra: Record<string, string | number | boolean> = {}) {
  return { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, wait_for: 'none', max_retries: 2, ...extra };
}

/** A runs list as an API older than run names (2026-06-23) answers it. */
const withoutNames = (body: unknown): unknown => ({
  runs: (body as { runs: Array<Record<string, unknown>> }).runs.map(({ name: _name, ...rest }) => rest),
});

const active = (emulator: Emulator): LoopsRun[] => emulator.runs().filter((r) => r.status.name === 'ACTIVE');
const deactivations = (emulator: Emulator): number => requestsTo(emulator, 'POST', /\/deactivate$/).length;

describe('hardening, end to end', () => {
  test.concurrent('a server that acts on a create after the check: the duplicate is found and deactivated', async ({ loops, step }) => {
    const emulator = await loops();
    // The first create is acted on 1.5 s after it arrives; the client gives up after 1 s, and its
    // first look at the runs (answered as empty, as a slow server would) finds nothing: it re-sends.
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'delay', when: 'late', delayMs: 1500 });
    emulator.fault({ method: 'GET', path: '/v1/loops/runs', kind: 'transform', transform: () => ({ runs: [] }) });
    // adopt_on_rerun off: its look before the create would take the transformed list.
    const result = await step({ inputs: inputs(emulator, { request_timeout_seconds: 1, adopt_on_rerun: false }) });
    expect(result.code, result.stdout).toBe(0);
    expect(emulator.runs()).toHaveLength(2);
    expect(active(emulator).map((r) => r.id)).toEqual([result.outputs.run_id]);
    expect(annotations(result.stdout, 'warning')).toMatch(/run \w+ duplicates run \w+ .*; deactivating it/);
    expect(deactivations(emulator)).toBe(1);
  });

  test.concurrent('a 200 create answer that breaks the description: the run is reported, stopped, the step fails', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({
      method: 'POST',
      path: '/v1/loops/runs',
      kind: 'transform',
      transform: (body) => {
        const b = body as { run: { created_at: unknown } };
        b.run.created_at = 1_763_000_000;
        return b;
      },
    });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(1);
    const [run] = emulator.runs();
    expect(result.outputs.run_id).toBe(run?.id);
    expect(result.outputs.status).toBe('failed');
    expect(annotations(result.stdout)).toMatch(/POST \/v1\/loops\/runs returned an unexpected response: run\.created_at/);
    expect(annotations(result.stdout)).toContain('The run was deactivated');
    expect(active(emulator)).toEqual([]);
  });

  test.concurrent('an unreadable run in the list does not stop the check for ours', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 502, when: 'after' });
    emulator.fault({
      method: 'GET',
      path: '/v1/loops/runs',
      kind: 'transform',
      transform: (body) => ({ runs: [...(body as { runs: unknown[] }).runs, { id: 'old', base_url: null }] }),
    });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code, result.stdout).toBe(0);
    expect(emulator.runs()).toHaveLength(1);
    expect(result.outputs.run_id).toBe(emulator.runs()[0]?.id);
    expect(requestsTo(emulator, 'POST', '/v1/loops/runs')).toHaveLength(1);
  });

  test.concurrent('runs without names (older API) in a session this step created are still found', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 500, when: 'after' });
    emulator.fault({
      method: 'GET',
      path: '/v1/loops/runs',
      kind: 'transform',
      transform: withoutNames,
    });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code, result.stdout).toBe(0);
    expect(emulator.runs()).toHaveLength(1);
    expect(result.outputs.run_id).toBe(emulator.runs()[0]?.id);
  });

  test.concurrent('runs without names in a reused session: not re-sent, since ours cannot be told apart', async ({ loops, step }) => {
    const emulator = await loops();
    const first = await step({ inputs: inputs(emulator) });
    const sessionId = first.outputs.session_id as string;
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 500, when: 'after' });
    emulator.fault({
      method: 'GET',
      path: '/v1/loops/runs',
      kind: 'transform',
      times: Infinity,
      transform: withoutNames,
    });
    const result = await step({ inputs: inputs(emulator, { session_id: sessionId }) });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toMatch(/carry no name .* not re-sent, to avoid a duplicate run/);
    expect(emulator.runs()).toHaveLength(2); // the first step's run and the one the failed answer made
    expect(requestsTo(emulator, 'POST', '/v1/loops/runs')).toHaveLength(2);
  });

  test.concurrent('a run without deployment_id: wait_for all finds its trainer and gets ready', async ({ loops, step }) => {
    const emulator = await loops({ deploymentIdOnRuns: false });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'all', poll_interval_seconds: 0.1, wait_timeout_seconds: 30 }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'ready', trainer_status: 'RUNNING', sampler_status: 'ACTIVE' });
    expect(requestsTo(emulator, 'GET', '/v1/loops/deployments').length).toBeGreaterThan(0);
  });

  test.concurrent('a poll that hangs past the wait: timed_out at the deadline, not failed long after', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING' }] });
    emulator.fault({ method: 'GET', path: /^\/v1\/loops\/runs\/[^/]+$/, kind: 'delay', delayMs: 30_000, times: Infinity });
    const result = await step({
      inputs: inputs(emulator, { wait_for: 'sampler', poll_interval_seconds: 0.2, wait_timeout_seconds: 2, request_timeout_seconds: 10 }),
    });
    expect(result.outputs.status).toBe('timed_out');
    expect(result.durationMs).toBeLessThan(8000);
    expect(annotations(result.stdout)).toMatch(/was not ready after 2s/);
    expect(active(emulator)).toEqual([]);
  });

  test.concurrent('cancelled during a Retry-After wait before the create: no run is created', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 429, headers: { 'Retry-After': '8' } });
    const result = await step({ inputs: inputs(emulator), ...signalOn('create run: attempt 1 of 3 failed', 'SIGINT') });
    expect(result.outputs.status).toBe('cancelled');
    expect(result.code).toBe(1);
    expect(result.durationMs).toBeLessThan(6000);
    expect(emulator.runs()).toEqual([]);
    expect(requestsTo(emulator, 'POST', '/v1/loops/runs')).toHaveLength(1);
  });

  test.concurrent('killed while cancelling, before its deactivation landed: the post step stops the run', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING' }] });
    emulator.fault({ method: 'POST', path: /\/deactivate$/, kind: 'delay', delayMs: 20_000, times: Infinity });
    // The runner sends SIGINT, then kills the step; here the kill comes 1 s later.
    const main = await step({
      inputs: inputs(emulator, { wait_for: 'sampler', poll_interval_seconds: 0.2 }),
      ...signalOn('Waiting up to', 'SIGINT', { after: 1000, signal: 'SIGKILL' }),
    });
    expect(main.signal).toBe('SIGKILL');
    expect(main.state.status).toBeUndefined();
    expect(active(emulator)).toHaveLength(1);
    emulator.clearFaults();
    // deactivate_at_job_end is off: deactivate_on_failure (default on) makes the post step act.
    const post = await runPostStep(main, { inputs: inputs(emulator) });
    expect(post.code, post.stdout).toBe(0);
    expect(post.stdout).toMatch(/Deactivated run \w+ because the main step ended before it finished \(deactivate_on_failure\)/);
    expect(active(emulator)).toEqual([]);
  });

  test.concurrent('a failed wait whose deactivation failed: the post step tries again', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'DEPLOY_FAILED' }] });
    emulator.fault({ method: 'POST', path: /\/deactivate$/, kind: 'status', status: 503, times: 3 });
    const main = await step({ inputs: inputs(emulator, { wait_for: 'sampler', poll_interval_seconds: 0.1 }) });
    expect(main.outputs.status).toBe('failed');
    expect(annotations(main.stdout)).toContain('Could not deactivate run');
    const post = await runPostStep(main, { inputs: inputs(emulator) });
    expect(post.code, post.stdout).toBe(0);
    expect(post.stdout).toMatch(/because the main step ended with status failed/);
    expect(active(emulator)).toEqual([]);
  });

  test.concurrent('preflight skipped entirely does not claim to have passed', async ({ loops, step }) => {
    const emulator = await loops({ capabilities: false });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code).toBe(0);
    expect(annotations(result.stdout, 'warning')).toMatch(/Preflight check of base_model and max_seq_len skipped/);
    expect(result.stdout).not.toContain('Preflight passed');
  });
});
