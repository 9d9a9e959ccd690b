// What an HTTP answer means: a parsed value, or the error that explains it. The key is scrubbed
// from every body before anything reads it; a UTF-8 byte order mark before JSON is tolerated.

import { ApiError, MalformedResponseError, NetworkError, ShapeError } from '../core/errors.js';
import { parseRetryAfter } from '../core/retry.js';
import type { HttpResponse } from './http.js';

/** The body with every copy of the key replaced (an error page echoing headers, say). */
export function scrub(body: string, apiKey: string): string {
  return apiKey ? body.split(apiKey).join('***') : body;
}

export function interpret<T>(response: HttpResponse, method: string, path: string, parse: (body: unknown) => T, now: number): T {
  const route = path.split('?')[0] ?? path;
  if (!response.complete) {
    throw new NetworkError(method, route, `connection closed before the response body was complete (HTTP ${response.status})`, {
      ambiguous: true,
    });
  }
  const body = response.body.replace(/^\uFEFF/, '');
  if (response.status < 200 || response.status >= 300) {
    let detail = describeErrorBody(body);
    if (response.status >= 300 && response.status < 400) {
      detail = `redirect to ${String(response.headers.location ?? '(no location)')} not followed${detail ? `; ${detail}` : ''}`;
    }
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now) ?? bodyRetryAfter(response.status, body);
    throw new ApiError(method, route, response.status, detail, retryAfterMs, errorCode(body));
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const kind = /^\s*</.test(body) ? 'an HTML page' : 'not JSON';
    throw new MalformedResponseError(method, route, `HTTP ${response.status} body is ${kind}: ${describeErrorBody(body) || '(empty)'}`, true);
  }
  try {
    return parse(json);
  } catch (error) {
    if (error instanceof ShapeError) throw new MalformedResponseError(method, route, error.message, false, json);
    throw error;
  }
}

/**
 * The server's explanation from an error body: a FastAPI `detail` (string or pydantic list),
 * an `error`/`message` field, or a short excerpt of a non-JSON body (HTML tags stripped).
 * Always one line.
 */
export function describeErrorBody(body: string): string {
  const text = body.trim();
  if (!text) return '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return excerpt(text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' '));
  }
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const obj = json as Record<string, unknown>;
    for (const key of ['detail', 'error', 'message']) {
      const value = obj[key];
      if (typeof value === 'string') return excerpt(value);
      if (Array.isArray(value)) return excerpt(value.map(describeValidationItem).join('; '));
      if (value && typeof value === 'object') {
        const inner = (value as Record<string, unknown>).message;
        if (typeof inner === 'string') return excerpt(inner);
      }
    }
  }
  if (typeof json === 'string') return excerpt(json);
  return excerpt(JSON.stringify(json));
}

/**
 * The delay a 429's JSON body asks for: Baseten's rate-limit answer is `{"error": "...",
 * "retry_after": 37}` (seconds) and mentions no Retry-After header. Honoured like the header,
 * which wins when both are there.
 */
export function bodyRetryAfter(status: number, body: string): number | undefined {
  const seconds = status === 429 ? jsonObject(body)?.retry_after : undefined;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined;
}

/** An error body as a JSON object, when it is one. */
function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const json: unknown = JSON.parse(body.trim());
    return json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The machine-readable reason of an error body (`{"details": {"reason": "loops_capacity"}}`), when it has one. */
export function errorCode(body: string): string | undefined {
  const details = jsonObject(body)?.details;
  const reason = details && typeof details === 'object' ? (details as Record<string, unknown>).reason : undefined;
  return typeof reason === 'string' && /^[\w.-]{1,64}$/.test(reason) ? reason : undefined;
}

function describeValidationItem(item: unknown): string {
  if (!item || typeof item !== 'object') return String(item);
  const { loc, msg } = item as { loc?: unknown; msg?: unknown };
  const where = Array.isArray(loc)
    ? loc.filter((part, i) => !(i === 0 && (part === 'body' || part === 'query' || part === 'path'))).join('.')
    : '';
  const message = typeof msg === 'string' ? msg : JSON.stringify(item);
  return where ? `${where}: ${message}` : message;
}

function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
