/** One HTTP request: record it, read its body, rate limit, auth, faults, then the route. */
import type http from 'node:http';
import { emailOf } from './config.js';
import { type FaultQueue, answerLate, answerWithFault } from './faults.js';
import { type EndpointLimiter, type RateLimiter, authenticate, keyOf, tooMany } from './gate.js';
import { settle } from './lifecycle.js';
import type { RecordedRequest } from './options.js';
import { detail } from './responses.js';
import { route } from './router.js';
import { isSamplerPath } from './sampler.js';
import type { World } from './store.js';
import { isTrainerPath } from './trainer.js';
import { Exchange, type TransportEnv } from './transport.js';

const MAX_BODY_BYTES = 1024 * 1024;

export interface HandlerEnv extends TransportEnv {
  world: World;
  faults: FaultQueue;
  limiter: RateLimiter;
  endpointLimiter: EndpointLimiter;
  requests: RecordedRequest[];
}

/** The body as text, or undefined when it is over the limit. */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parsedOrRaw(raw: string): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export async function handle(env: HandlerEnv, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { world } = env;
  const config = world.config;
  const url = new URL(req.url ?? '/', 'http://emulator.local');
  const method = (req.method ?? 'GET').toUpperCase();
  const record: RecordedRequest = {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...req.headers },
    body: undefined,
    status: 0,
    at: config.now(),
  };
  env.requests.push(record);
  let rawBody: string | undefined;
  try {
    rawBody = await readBody(req);
  } catch {
    return; // client went away mid-body
  }
  const ex = new Exchange(req, res, record, env);
  if (rawBody === undefined) return ex.send(detail(413, 'Request body too large'));
  record.body = parsedOrRaw(rawBody);

  // The samplers and trainers are other servers: the management API's rate limits are not theirs.
  const api = !isSamplerPath(url.pathname) && !isTrainerPath(url.pathname);
  const key = keyOf(req.headers.authorization);
  const retryAfter = api ? env.limiter.take(config) : undefined;
  if (retryAfter !== undefined) return ex.send(tooMany(retryAfter));
  const limited = api ? env.endpointLimiter.take(config, key ?? '', method, url.pathname) : undefined;
  if (limited) return ex.send(limited);
  const authError = authenticate(config, key);
  if (authError) return ex.send(authError);

  const body = rawBody;
  const runRoute = () => {
    const now = config.now();
    settle(world, now);
    const ctx = { method, url, rawBody: body, contentType: req.headers['content-type'], email: emailOf(config, key), now };
    return route(world, ctx);
  };
  const fault = env.faults.take(method, url.pathname);
  if (!fault) return ex.send(runRoute());
  if (fault.kind === 'delay') return answerLate(fault, ex, runRoute, env.timers);
  answerWithFault(fault, ex, fault.when === 'after' ? runRoute() : undefined, runRoute, world.url);
}
