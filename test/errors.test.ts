import { describe, expect, it } from 'vitest';
import { ApiError, MalformedResponseError, NetworkError } from '../src/core/errors.js';
import { describeErrorBody, errorCode, interpret } from '../src/loops/answers.js';

describe('describeErrorBody', () => {
  it('reads a FastAPI detail string', () => {
    expect(describeErrorBody('{"detail":"Session not found"}')).toBe('Session not found');
  });
  it('reads a pydantic detail list', () => {
    const body = JSON.stringify({
      detail: [
        { type: 'int_type', loc: ['body', 'lora_rank'], msg: 'Input should be a valid integer', input: 'x' },
        { type: 'missing', loc: ['body', 'base_model'], msg: 'Field required' },
      ],
    });
    expect(describeErrorBody(body)).toBe('lora_rank: Input should be a valid integer; base_model: Field required');
  });
  it('reads {"error": ...} and nested messages', () => {
    expect(describeErrorBody('{"error":"quota exceeded"}')).toBe('quota exceeded');
    expect(describeErrorBody('{"error":{"message":"nope"}}')).toBe('nope');
  });
  it('gives a short excerpt of an HTML page, without tags', () => {
    const html = `<html><head><style>body{}</style></head><body><h1>502 Bad Gateway</h1>${'x'.repeat(1000)}</body></html>`;
    const text = describeErrorBody(html);
    expect(text.startsWith('502 Bad Gateway')).toBe(true);
    expect(text).not.toContain('<');
    expect(text.length).toBeLessThanOrEqual(300);
  });
  it('is empty for an empty body', () => {
    expect(describeErrorBody('  ')).toBe('');
  });
});

describe('errorCode', () => {
  it("reads details.reason, the API's machine-readable reason", () => {
    expect(errorCode('{"error":"no capacity","details":{"reason":"loops_capacity"}}')).toBe('loops_capacity');
    expect(errorCode('\n {"details":{"reason":"quota.exceeded-1"}} ')).toBe('quota.exceeded-1');
  });
  it('is undefined without one, or for one that is not a short word', () => {
    for (const body of [
      '',
      'oops',
      '{"detail":"x"}',
      '{"details":"loops_capacity"}',
      '{"details":{"reason":7}}',
      '{"details":{"reason":"a b"}}',
    ]) {
      expect(errorCode(body), body).toBeUndefined();
    }
    expect(errorCode(JSON.stringify({ details: { reason: 'x'.repeat(65) } }))).toBeUndefined();
  });
  it('reaches the ApiError an answer becomes', () => {
    const response = { status: 429, headers: {}, body: '{"error":"busy","details":{"reason":"loops_capacity"}}', complete: true };
    const error = (() => {
      try {
        interpret(response, 'POST', '/v1/loops/runs', (b) => b, 0);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('loops_capacity');
  });
});

describe('error classes', () => {
  it('name the method, route, status and detail, with a hint for 401 and 403', () => {
    const e401 = new ApiError('POST', '/v1/loops/runs', 401, 'Invalid API key');
    expect(e401.message).toMatch(/^POST \/v1\/loops\/runs failed: HTTP 401 Unauthorized: Invalid API key\. The API key was rejected/);
    const e403 = new ApiError('GET', '/v1/loops/runs', 403, 'forbidden');
    expect(e403.message).toMatch(/lacks permission/);
    expect(e403.retryable).toBe(false);
  });
  it('classify retryable and ambiguous failures', () => {
    expect(new ApiError('POST', '/r', 429, '').retryable).toBe(true);
    expect(new ApiError('POST', '/r', 429, '').ambiguous).toBe(false);
    expect(new ApiError('POST', '/r', 503, '').ambiguous).toBe(true);
    expect(new ApiError('POST', '/r', 408, '').retryable).toBe(true);
    expect(new ApiError('POST', '/r', 404, '').retryable).toBe(false);
    expect(new NetworkError('POST', '/r', 'reset', { ambiguous: true }).retryable).toBe(true);
    expect(new MalformedResponseError('GET', '/r', 'run.id is missing', false).message).toBe(
      'GET /r returned an unexpected response: run.id is missing',
    );
  });
});
