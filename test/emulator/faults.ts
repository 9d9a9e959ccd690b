/** Injected faults: the queue tests fill with emulator.fault(), and the answers they produce. */
import type { FaultSpec } from './options.js';
import { type Resp, htmlPage, json } from './responses.js';
import type { Exchange, Timers } from './transport.js';

export class FaultQueue {
  private queue: { spec: FaultSpec; remaining: number; armed: boolean }[] = [];

  add(spec: FaultSpec): void {
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new Error('fault.times must be > 0');
    this.queue.push({ spec: { ...spec }, remaining: times, armed: spec.afterSeen === undefined });
  }

  clear(): void {
    this.queue = [];
  }

  /** The first fault registered for this request, used up once. */
  take(method: string, pathname: string): FaultSpec | undefined {
    const arming = this.queue.filter((f) => !f.armed && f.spec.afterSeen && matches(f.spec.afterSeen, method, pathname));
    for (const f of this.queue) {
      if (!f.armed || !matches(f.spec, method, pathname)) continue;
      f.remaining -= 1;
      if (f.remaining <= 0) this.queue = this.queue.filter((x) => x !== f);
      for (const a of arming) a.armed = true;
      return f.spec;
    }
    for (const a of arming) a.armed = true;
    return undefined;
  }
}

function matches(spec: { method?: string; path: string | RegExp }, method: string, pathname: string): boolean {
  if (spec.method && spec.method.toUpperCase() !== method) return false;
  const p = spec.path;
  return typeof p === 'string' ? p === pathname : ((p.lastIndex = 0), p.test(pathname));
}

function statusFault(spec: FaultSpec): Resp {
  const status = spec.status ?? 500;
  const body = spec.body ?? { detail: 'Injected fault' };
  if (typeof body !== 'string') return json(status, body, spec.headers);
  let isJson = true;
  try {
    JSON.parse(body);
  } catch {
    isJson = false;
  }
  const type = isJson ? 'application/json' : 'text/plain; charset=utf-8';
  return { status, headers: { 'Content-Type': type, ...spec.headers }, body };
}

function garbage(spec: FaultSpec, ex: Exchange, routed: Resp | undefined): void {
  const headers = { 'Content-Type': 'application/json', ...spec.headers };
  if (spec.body !== undefined) {
    ex.send({ status: 200, headers, body: typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body) });
    return;
  }
  const full =
    routed && routed.body.length >= 2
      ? routed.body
      : JSON.stringify({ run: { id: 'abc1234', status: { name: 'ACTIVE' }, base_url: 'https://example.invalid' } });
  ex.sendTruncated({ status: 200, headers, body: full });
}

/** Answers with the fault instead of (or, `routed` given, after) the route. Not for 'delay'. */
export function answerWithFault(spec: FaultSpec, ex: Exchange, routed: Resp | undefined, runRoute: () => Resp, selfUrl: string): void {
  const extra = spec.headers ?? {};
  switch (spec.kind) {
    case 'status':
      return ex.send(statusFault(spec));
    case 'transform': {
      const answer = routed ?? runRoute();
      const parsed: unknown = JSON.parse(answer.body);
      const changed = spec.transform ? spec.transform(parsed) : parsed;
      return ex.send({ ...answer, headers: { ...answer.headers, ...extra }, body: JSON.stringify(changed) });
    }
    case 'html': {
      const status = spec.status ?? 502;
      return ex.send({ status, headers: { 'Content-Type': 'text/html', ...extra }, body: htmlPage(status) });
    }
    case 'redirect': {
      const location = spec.location ?? `${selfUrl}${ex.record.path}${new URL(ex.req.url ?? '/', selfUrl).search}`;
      return ex.send(json(spec.status ?? 307, { detail: 'Redirect' }, { Location: location, ...extra }));
    }
    case 'drop':
      return ex.drop();
    case 'garbage':
      return garbage(spec, ex, routed);
    case 'delay':
      return;
  }
}

/**
 * A 'delay' fault. before: the route runs when the delay ends, unless the client gave up.
 * after: the route runs at once, its answer is held. late: the route runs when the delay ends
 * whether or not the client is still there (a server slow to act).
 */
export function answerLate(spec: FaultSpec, ex: Exchange, runRoute: () => Resp, timers: Timers): void {
  const ms = spec.delayMs ?? 60_000;
  const when = spec.when ?? 'before';
  if (when === 'late') {
    timers.later(ms, () => {
      const resp = runRoute();
      if (!ex.gone()) ex.send(resp);
    });
    return;
  }
  const resp = when === 'after' ? runRoute() : undefined;
  const t = timers.later(ms, () => {
    if (resp) return ex.send(resp);
    if (!ex.gone()) ex.send(runRoute()); // client gave up: the route never runs
  });
  ex.res.on('close', () => timers.cancel(t));
}
