/** Before any route: the API's rate limit (token bucket), then the API key. */
import { performance } from 'node:perf_hooks';
import { type Config, keyStatus } from './config.js';
import { type Resp, detail } from './responses.js';

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
