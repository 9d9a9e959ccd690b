// End to end: the error text a user sees when the API refuses. Each names the method, route
// and HTTP status with the server's detail; 401/403 add a hint about the key; no stack traces.

import { describe, expect } from 'vitest';
import { annotations, requestsTo, stepTest } from '../support/e2e.js';
import type { Emulator } from '../emulator/server.js';
import type { StepResult } from '../support/runner.js';

const KEY = 'loops-e2e-errors-key-a81d';
const MODEL = 'Qwen/Qwen3-8B';

const test = stepTest({ apiKeys: [KEY], samplerTimeline: [{ status: 'ACTIVE' }] });

function inputs(emulator: Emulator, extra: Record<string, string | number | boolean> = {}) {
  return { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, wait_for: 'none', ...extra };
}

const requests = requestsTo;

/** The ::error:: commands, unescaped: what the runner shows as the step's annotation. */
function errorText(result: StepResult): string {
  const lines = result.stdout.split('\n').filter((line) => line.startsWith('::error'));
  expect(lines.length, 'one ::error:: line').toBe(1);
  return annotations(result.stdout);
}

/** A failed step: exit code 1, status=error (nothing was created), no stack trace anywhere. */
function expectCleanFailure(result: StepResult): void {
  expect(result.code).toBe(1);
  expect(result.outputs.status).toBe('error');
  expect(result.stdout).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout).not.toMatch(/\.(js|ts):\d+:\d+/);
}

describe.concurrent('error text, end to end', () => {
  test('401 on preflight: method, route, status, server detail and a hint about the key', async ({ loops, step }) => {
    const emulator = await loops({ apiKeys: ['some-other-key-0000'] });
    const result = await step({ inputs: inputs(emulator) });
    expectCleanFailure(result);
    const error = errorText(result);
    expect(error).toContain('GET /v1/loops/capabilities failed: HTTP 401 Unauthorized: Invalid or missing API key');
    expect(error).toContain('The API key was rejected');
    expect(error).toMatch(/check that the secret holds a current Baseten API key/);
    // A rejected key stops the step before anything is created.
    expect(requests(emulator, 'POST', '/v1/loops/sessions')).toHaveLength(0);
    expect(requests(emulator, 'POST', '/v1/loops/runs')).toHaveLength(0);
  });

  test('401 without preflight: names POST /v1/loops/sessions and fails at once', async ({ loops, step }) => {
    const emulator = await loops({ apiKeys: ['some-other-key-0000'] });
    const result = await step({ inputs: inputs(emulator, { preflight: false }) });
    expectCleanFailure(result);
    const error = errorText(result);
    expect(error).toContain('POST /v1/loops/sessions failed: HTTP 401 Unauthorized');
    expect(error).toContain('The API key was rejected');
    expect(requests(emulator, 'POST', '/v1/loops/sessions')).toHaveLength(1); // not retried
    expect(result.stdout).not.toMatch(/attempt \d+ of/);
  });

  test('403: the key lacks the scope, said with method, route and status', async ({ loops, step }) => {
    const emulator = await loops({ apiKeys: [], forbiddenKeys: [KEY] });
    const result = await step({ inputs: inputs(emulator, { preflight: false }) });
    expectCleanFailure(result);
    const error = errorText(result);
    expect(error).toContain('POST /v1/loops/sessions failed: HTTP 403 Forbidden');
    expect(error).toContain('This API key does not have the required permissions');
    expect(error).toContain('The API key lacks permission');
    expect(requests(emulator, 'POST', '/v1/loops/sessions')).toHaveLength(1);
    expect(requests(emulator, 'POST', '/v1/loops/runs')).toHaveLength(0);
  });

  test('422 with a pydantic detail list: each location and message shown', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({
      method: 'POST',
      path: '/v1/loops/runs',
      kind: 'status',
      status: 422,
      body: {
        detail: [
          { type: 'int_type', loc: ['body', 'lora_rank'], msg: 'Input should be a valid integer', input: 'x' },
          { type: 'missing', loc: ['body', 'base_model'], msg: 'Field required', input: {} },
        ],
      },
    });
    const result = await step({ inputs: inputs(emulator, { preflight: false }) });
    expectCleanFailure(result);
    const error = errorText(result);
    expect(error).toContain(
      'POST /v1/loops/runs failed: HTTP 422 Unprocessable Entity: lora_rank: Input should be a valid integer; base_model: Field required',
    );
    expect(requests(emulator, 'POST', '/v1/loops/runs')).toHaveLength(1); // a 422 is not retried
    expect(result.outputs.run_id).toBeUndefined();
  });

  test('4xx with a detail string: the server detail is shown', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({
      method: 'POST',
      path: '/v1/loops/runs',
      kind: 'status',
      status: 409,
      body: { detail: 'Organization GPU quota exhausted for H100' },
    });
    const result = await step({ inputs: inputs(emulator, { preflight: false }) });
    expectCleanFailure(result);
    expect(errorText(result)).toContain('POST /v1/loops/runs failed: HTTP 409 Conflict: Organization GPU quota exhausted for H100');
  });

  test('a non-JSON error body is shown as a short excerpt', async ({ loops, step }) => {
    const emulator = await loops();
    const long = `upstream proxy refused the request: ${'x'.repeat(2000)} END-OF-BODY`;
    emulator.fault({ method: 'POST', path: '/v1/loops/sessions', kind: 'status', status: 400, body: long });
    const result = await step({ inputs: inputs(emulator, { preflight: false }) });
    expectCleanFailure(result);
    const error = errorText(result);
    expect(error).toContain('POST /v1/loops/sessions failed: HTTP 400 Bad Request: upstream proxy refused the request: xxx');
    expect(error).not.toContain('END-OF-BODY');
    expect(error.length).toBeLessThan(600);
  });

  test('an HTML error page is reduced to its text', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'POST', path: '/v1/loops/sessions', kind: 'html', status: 502, times: Infinity });
    const result = await step({ inputs: inputs(emulator, { preflight: false, max_retries: 0 }) });
    expectCleanFailure(result);
    const error = errorText(result);
    expect(error).toContain('POST /v1/loops/sessions failed: HTTP 502 Bad Gateway: 502 Bad Gateway');
    expect(error).not.toMatch(/<\/?(html|head|body|h1|center)/);
  });

  test('a 404 on a route other than the session names it and its status', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 404, body: { detail: 'Not Found' } });
    const result = await step({ inputs: inputs(emulator, { preflight: false }) });
    expectCleanFailure(result);
    expect(errorText(result)).toContain('POST /v1/loops/runs failed: HTTP 404 Not Found: Not Found');
  });
});
