/**
 * Before any route: an extra rate limit a test may set (token bucket, Retry-After header), the
 * API's documented rate limits (per key and per endpoint, 429 with retry_after in the body),
 * then the API key.
 */
import { performance } from 'node:perf_hooks';
import { type Config, keyStatus } from './config.js';
import { type Resp, detail, json } from './responses.js';
import { endpointOf } from './router.js';

export class RateLimiter {
  private bucket: { tokens: number; last: number } | undefined;

  reset(): void {
    this.bucket = undefined;
  }

  /** undefined when the request may pass, else the Retry-After seconds. */
  take(config: Config): number | undefined {
    const rl = config.rateLimit;
    if (!rl) return undefined;
    const burst = Math.max(1, rl.burst ?? Math.ceil(rl.perSecond));
    const t = performance.now();
    if (!this.bucket) this.bucket = { tokens: burst, last: t };
    const b = this.bucket;
    b.tokens = Math.min(burst, b.tokens + ((t - b.last) / 1000) * rl.perSecond);
    b.last = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rl.perSecond));
  }
}

/**
 * Baseten's management-API limits (docs 2026-11): per key and per endpoint, 100 requests a
 * second, and 20 a minute for deployment activate/deactivate (the run's deactivate route is one
 * of "all other endpoints"). Fixed windows, on real time like the bucket above. The 429's body is
 * the documented `{"error": "...", "retry_after": <seconds>}`, with no Retry-After header.
 */
export class EndpointLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  reset(): void {
    this.windows.clear();
  }

  /** undefined when the request may pass, else the 429. */
  take(config: Config, key: string, method: string, pathname: string): Resp | undefined {
    const limits = config.endpointRateLimits;
    if (!limits) return undefined;
    const deploymentAction = method === 'POST' && /^\/v1\/loops\/deployments\/[^/]+\/(de)?activate$/.test(pathname);
    const [size, max, per] = deploymentAction ? [60_000, limits.deploymentActionsPerMinute, 'minute'] : [1000, limits.perSecond, 'second'];
    const id = `${key}\n${endpointOf(method, pathname)}`;
    const t = performance.now();
    let w = this.windows.get(id);
    if (!w || t - w.start >= size) this.windows.set(id, (w = { start: t, count: 0 }));
    if (w.count < max) {
      w.count += 1;
      return undefined;
    }
    const retryAfter = Math.max(1, Math.ceil((w.start + size - t) / 1000));
    return json(429, { error: `Rate limit exceeded: ${max} requests per ${per} for this endpoint`, retry_after: retryAfter });
  }
}

export function tooMany(retryAfter: number): Resp {
  return detail(429, 'Rate limit exceeded', { 'Retry-After': String(retryAfter) });
}

/** The key of `Authorization: Bearer <key>` or `Authorization: Api-Key <key>`. */
export function keyOf(header: string | undefined): string | undefined {
  const m = header ? /^(Bearer|Api-Key)\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[2];
}

/** undefined for a valid key; else the 401 or 403. */
export function authenticate(config: Config, key: string | undefined): Resp | undefined {
  const status = keyStatus(config, key);
  if (status === 'ok') return undefined;
  if (status === 'forbidden') return detail(403, 'This API key does not have the required permissions for this resource');
  return detail(401, 'Invalid or missing API key');
}
