/**
 * Local emulator of the Baseten Loops management HTTP API (the /v1/loops/* routes this project
 * uses) and of the samplers' vLLM /v1/models. Only node built-ins. Shapes follow
 * the API description (test/fixtures/loops-openapi.yaml, spec 2026-08-22); behaviour follows the facts in
 * the specification and the API reference notes. This is the public module: import from here.
 *
 * Layout: types.ts, options.ts (public types) · defaults.ts · config.ts (options → settings,
 * keys → users) · validation.ts, responses.ts · store.ts (state), timeline.ts (status tracks),
 * create-run.ts (create + reuse), lifecycle.ts (idle scale-down, wake, teardown, GPU time),
 * views.ts (state → JSON) · stories.ts (failure stories: timelines and log lines) · router.ts,
 * routes-runs.ts, routes-infra.ts, logs.ts (trainer and sampler logs), sampler.ts (vLLM
 * /v1/models), trainer.ts (a trainer's /health and /policy_version) · gate.ts (rate limit,
 * auth), faults.ts, transport.ts, handler.ts · facade.ts (the Emulator handle) · client.ts (a
 * test client over HTTP) · cli.ts · github/ (the GitHub side: the REST and GraphQL routes the
 * actions call, its own server) · serverless.ts (availability modes at create, capacity
 * refusals) · routes-checkpoints.ts (list, DELETE, TTL).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { applyOptions, defaultConfig } from './config.js';
import { EmulatorHandle } from './facade.js';
import { FaultQueue } from './faults.js';
import { EndpointLimiter, RateLimiter } from './gate.js';
import { type HandlerEnv, handle } from './handler.js';
import type { Emulator, EmulatorOptions } from './options.js';
import { Store } from './store.js';
import { Timers } from './transport.js';

export type * from './types.js';
export type * from './options.js';
export {
  DEFAULT_MAX_MODEL_LEN,
  DEFAULT_MODELS,
  DEFAULT_SAMPLER_TIMELINE,
  DEFAULT_TRAINER_TIMELINE,
  DEFAULT_USER_EMAIL,
  DEFAULT_WAKE_MS,
} from './defaults.js';
export { EmulatorRequestError } from './responses.js';
export { STORY_NAMES, type StoryName } from './stories.js';

function createServer(env: HandlerEnv, sockets: Set<Socket>): http.Server {
  const server = http.createServer((req, res) => {
    handle(env, req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      const body = JSON.stringify({ detail: `Emulator error: ${err instanceof Error ? err.message : String(err)}` });
      res.writeHead(500, {
        Date: new Date(env.config.now()).toUTCString(),
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
      });
      res.end(body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const config = defaultConfig();
  applyOptions(config, opts);
  const timers = new Timers();
  const sockets = new Set<Socket>();
  let closing = false;
  const env: HandlerEnv = {
    world: { config, store: new Store(), url: '' },
    faults: new FaultQueue(),
    limiter: new RateLimiter(),
    endpointLimiter: new EndpointLimiter(),
    requests: [],
    config,
    timers,
    closing: () => closing,
  };
  const server = createServer(env, sockets);
  const host = opts.host ?? '127.0.0.1';
  await listen(server, opts.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  env.world.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (closed) return closed;
    closing = true;
    timers.cancelAll();
    closed = new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      sockets.clear();
    });
    return closed;
  };
  return new EmulatorHandle(env.world.url, port, env, close);
}
