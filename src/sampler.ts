// "Ready" means the sampler answers: GET {sampler_base_url}/v1/models with the key must return
// an OpenAI models list. The key goes there only over https to the API's own registrable domain
// (e.g. model-x.api.baseten.co for https://api.baseten.co), or to loopback over http; anywhere
// else the check is skipped and the key is not sent. The same request wakes a sampler that
// scaled to zero.

import { ApiError, MalformedResponseError, NetworkError, ShapeError, errorMessage, isRetryable } from './core/errors.js';
import type { Log } from './core/log.js';
import { isLoopbackHost } from './inputs.js';
import { neutralise, oneLine } from './core/text.js';
import { interpret, scrub } from './loops/answers.js';
import { Transport } from './loops/http.js';

/** Second-level labels under which a country code's domains are registered (example.co.uk). */
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go']);

/** The registrable domain of a host: its last two labels, three under a country code's second level. */
export function registrableDomain(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (/^[\d.]+$/.test(h) || h.includes(':')) return h;
  const labels = h.split('.');
  const [tld = '', second = ''] = [labels.at(-1), labels.at(-2)];
  const keep = tld.length === 2 && SECOND_LEVEL.has(second) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

/** Whether the key may be sent to the sampler's URL, and why not. */
export function keyMayGo(samplerBaseUrl: string, apiBaseUrl: string): { ok: true } | { ok: false; why: string } {
  let sampler: URL;
  let api: URL;
  try {
    sampler = new URL(samplerBaseUrl);
    api = new URL(apiBaseUrl);
  } catch {
    return { ok: false, why: `the sampler's base URL is not a URL (${JSON.stringify(samplerBaseUrl.slice(0, 100))})` };
  }
  if (sampler.username || sampler.password) return { ok: false, why: "the sampler's base URL carries credentials" };
  if (sampler.protocol === 'http:' && isLoopbackHost(sampler.hostname)) return { ok: true };
  const domain = registrableDomain(api.hostname);
  if (sampler.protocol === 'https:' && registrableDomain(sampler.hostname) === domain) return { ok: true };
  const where = `${sampler.protocol}//${sampler.host}`;
  return sampler.protocol === 'https:'
    ? { ok: false, why: `the sampler (${where}) is not on the API's own domain (${domain})` }
    : { ok: false, why: `the sampler (${where}) is not served over https (plain http is for loopback only)` };
}

export type Probe =
  | { state: 'ready'; model: string }
  | { state: 'waiting'; reason: string }
  | { state: 'failed'; reason: string }
  /** The key may not go to the sampler's URL: not asked, and the statuses alone decide. */
  | { state: 'skipped' };

interface ModelEntry {
  id: string;
  parent?: unknown;
}

/** The entry without a parent is the base model (LoRA adapters have one); a body that is not a models list throws. */
export function baseModelOf(body: unknown): string {
  const data = body && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
  if (!Array.isArray(data) || data.length === 0) throw new ShapeError('not an OpenAI models list (no "data" entries)');
  const entries = data.filter((e): e is ModelEntry => !!e && typeof e === 'object' && typeof (e as ModelEntry).id === 'string');
  const base = entries.find((e) => e.parent === null || e.parent === undefined);
  if (!base) throw new ShapeError('an OpenAI models list with no base model (every entry has a parent)');
  return base.id;
}

export interface ProbeOptions {
  samplerBaseUrl: string;
  apiKey: string;
  timeoutMs: number;
  userAgent: string;
}

/** One GET {sampler}/v1/models, as ready (with the model to call), waiting (retry later) or failed (with the fix). */
export async function probeSampler(opts: ProbeOptions): Promise<Probe> {
  const transport = new Transport({
    baseUrl: opts.samplerBaseUrl.replace(/\/+$/, ''),
    apiKey: opts.apiKey,
    timeoutMs: opts.timeoutMs,
    userAgent: opts.userAgent,
  });
  const path = '/v1/models';
  let body: string | undefined;
  try {
    const response = await transport.send('GET', path);
    body = response.body = scrub(response.body, opts.apiKey);
    return { state: 'ready', model: interpret(response, 'GET', `{sampler}${path}`, baseModelOf, Date.now()) };
  } catch (error) {
    return classify(error, body);
  } finally {
    transport.dispose();
  }
}

/** The first 200 characters of what a server sent, on one line, quoted, and inert in a step's log. */
export function firstChars(text: string, max = 200): string {
  return JSON.stringify(neutralise(oneLine(text.replace(/^\uFEFF/, ''), max)));
}

function classify(error: unknown, body?: string): Probe {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    return {
      state: 'failed',
      reason:
        `the sampler refused the API key (GET /v1/models answered HTTP ${error.status}: ${error.detail || 'no detail'}). ` +
        'The sampler takes the same Baseten API key as the API: check that the key belongs to the workspace that owns the run, or set verify_sampler: false',
    };
  }
  if (error instanceof MalformedResponseError) {
    return {
      state: 'failed',
      reason:
        `the sampler answered GET /v1/models with something that is not a models list (${error.reason}); ` +
        `its first 200 characters: ${firstChars(body ?? '')}`,
    };
  }
  if (error instanceof NetworkError || (isRetryable(error) && !(error instanceof MalformedResponseError))) {
    return { state: 'waiting', reason: (error as NetworkError).reason };
  }
  if (error instanceof ApiError) {
    return {
      state: 'failed',
      reason: `the sampler answered GET /v1/models with HTTP ${error.status}${error.detail ? `: ${error.detail}` : ''}, not a models list`,
    };
  }
  return { state: 'failed', reason: `GET /v1/models on the sampler failed: ${errorMessage(error)}` };
}

export interface AskerOptions {
  apiBaseUrl: string;
  apiKey: string;
  /** request_timeout_seconds, in ms: no single probe waits longer. */
  timeoutMs: number;
  userAgent: string;
  log: Log;
}

/** Asks a run's sampler, where the key may go; elsewhere says once why it did not (the key stays home). */
export function samplerAsker(opts: AskerOptions): (run: { sampler?: { baseUrl: string } }, timeoutMs: number) => Promise<Probe> {
  let warned = false;
  return async (run, timeoutMs) => {
    const url = run.sampler?.baseUrl ?? '';
    const allowed = keyMayGo(url, opts.apiBaseUrl);
    if (!allowed.ok) {
      if (!warned)
        opts.log.warning(
          `verify_sampler: not checked, and the API key was not sent, because ${allowed.why}. Ready rests on the API's statuses alone.`,
        );
      warned = true;
      return { state: 'skipped' };
    }
    return probeSampler({
      samplerBaseUrl: url,
      apiKey: opts.apiKey,
      timeoutMs: Math.max(1, Math.min(timeoutMs, opts.timeoutMs)),
      userAgent: opts.userAgent,
    });
  };
}
