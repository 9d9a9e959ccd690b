// Transport (src/loops/http.ts) against real node:http servers on loopback: the key goes as
// Bearer to the API's own origin only, writes are never re-sent on a redirect, a hung request
// ends at the deadline, and a body cut short is never taken for a complete response.

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LoopsClient } from '../src/loops/client.js';
import { ApiError, NetworkError, RetriesExhaustedError } from '../src/core/errors.js';
import { silentLog } from './support/log.js';
import { Transport } from '../src/loops/http.js';
import { type Clock, DEFAULT_POLICY } from '../src/core/retry.js';

const KEY = 'sk-http-test-0123456789abcdef';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

interface TestServer {
  port: number;
  origin: string;
  seen: Seen[];
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

const servers: TestServer[] = [];
const transports: Transport[] = [];

/** A server on `host` (default 127.0.0.1) that records every request, then calls `handler`. */
async function serve(handler: Handler, host = '127.0.0.1', originHost = host): Promise<TestServer> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      handler(req, res, body);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host === '::' ? undefined : host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const ts: TestServer = {
    port,
    origin: `http://${originHost}:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(ts);
  return ts;
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function transport(baseUrl: string, timeoutMs = 5000): Transport {
  const t = new Transport({ baseUrl, apiKey: KEY, timeoutMs, userAgent: 'http-test' });
  transports.push(t);
  return t;
}

const instantClock: Clock = { now: () => Date.now(), random: () => 0, sleep: async () => undefined };

function client(baseUrl: string, lines: string[], maxRetries = 2, timeoutMs = 5000): LoopsClient {
  return new LoopsClient({
    baseUrl,
    apiKey: KEY,
    timeoutMs,
    policy: { ...DEFAULT_POLICY, maxRetries },
    clock: instantClock,
    log: { ...silentLog, info: (line) => lines.push(line) },
    userAgent: 'http-test',
  });
}

afterEach(async () => {
  for (const t of transports.splice(0)) t.dispose();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('Transport: the key', () => {
  it('sends the key as Authorization: Bearer, with JSON accept and content type', async () => {
    const api = await serve((req, res) => json(res, 200, { headers: req.headers }));
    const response = await transport(api.origin).send('POST', '/v1/loops/sessions', { a: 1 });
    expect(response.status).toBe(200);
    expect(response.complete).toBe(true);
    expect(api.seen[0]?.authorization).toBe(`Bearer ${KEY}`);
    const headers = (JSON.parse(response.body) as { headers: Record<string, string> }).headers;
    expect(headers['content-type']).toBe('application/json');
    expect(headers.accept).toBe('application/json');
    expect(api.seen[0]?.body).toBe('{"a":1}');
  });

  it('follows a GET redirect within the same origin and keeps the key', async () => {
    const api = await serve((req, res) => {
      if (req.url === '/v1/loops/runs/old') {
        res.writeHead(302, { location: '/v1/loops/runs/new' });
        res.end();
      } else json(res, 200, { ok: true });
    });
    const response = await transport(api.origin).send('GET', '/v1/loops/runs/old');
    expect(response.status).toBe(200);
    expect(api.seen.map((s) => [s.url, s.authorization])).toEqual([
      ['/v1/loops/runs/old', `Bearer ${KEY}`],
      ['/v1/loops/runs/new', `Bearer ${KEY}`],
    ]);
  });

  it('drops the key on a GET redirect to another host (127.0.0.1 → localhost)', async () => {
    // Listens on every interface so that "localhost" reaches it whether it resolves to ::1 or 127.0.0.1.
    const other = await serve((_req, res) => json(res, 200, { ok: true }), '::', 'localhost');
    const api = await serve((_req, res) => {
      res.writeHead(307, { location: `${other.origin}/elsewhere?x=1` });
      res.end();
    });
    const response = await transport(api.origin).send('GET', '/v1/loops/capabilities');
    expect(response.status).toBe(200);
    expect(api.seen[0]?.authorization).toBe(`Bearer ${KEY}`);
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]?.url).toBe('/elsewhere?x=1');
    expect(other.seen[0]?.authorization).toBeUndefined();
  });

  it('drops the key on a GET redirect to another port of the same host (another origin)', async () => {
    const other = await serve((_req, res) => json(res, 200, { ok: true }));
    const api = await serve((_req, res) => {
      res.writeHead(301, { location: `${other.origin}/x` });
      res.end();
    });
    await transport(api.origin).send('GET', '/v1/loops/capabilities');
    expect(other.seen[0]?.authorization).toBeUndefined();
  });

  it('does not send the key again when a foreign host redirects back to the API origin', async () => {
    let apiOrigin = '';
    const other = await serve(
      (_req, res) => {
        res.writeHead(302, { location: `${apiOrigin}/back` });
        res.end();
      },
      '::',
      'localhost',
    );
    const api = await serve((req, res) => {
      if (req.url === '/back') json(res, 200, { ok: true });
      else {
        res.writeHead(302, { location: `${other.origin}/hop` });
        res.end();
      }
    });
    apiOrigin = api.origin;
    const response = await transport(api.origin).send('GET', '/v1/loops/runs');
    expect(response.status).toBe(200);
    expect(api.seen.map((s) => [s.url, s.authorization])).toEqual([
      ['/v1/loops/runs', `Bearer ${KEY}`],
      ['/back', undefined],
    ]);
  });

  it('stops after a bounded number of redirects (a loop ends with the redirect response)', async () => {
    const api = await serve((_req, res) => {
      res.writeHead(302, { location: '/loop' });
      res.end();
    });
    const response = await transport(api.origin).send('GET', '/loop');
    expect(response.status).toBe(302);
    expect(api.seen.length).toBeGreaterThan(1);
    expect(api.seen.length).toBeLessThanOrEqual(10);
  });
});

describe('Transport: writes and redirects', () => {
  it.each([301, 302, 303, 307, 308])('does not follow a %i answered to a POST (the write is never re-sent)', async (status) => {
    const other = await serve((_req, res) => json(res, 200, { run: 'second' }));
    const api = await serve((_req, res) => {
      res.writeHead(status, { location: `${other.origin}/v1/loops/runs` });
      res.end();
    });
    const response = await transport(api.origin).send('POST', '/v1/loops/runs', { name: 'r' });
    expect(response.status).toBe(status);
    expect(api.seen).toHaveLength(1);
    expect(other.seen).toHaveLength(0);
  });

  it('the client reports a POST redirect as a clear, non-retried error naming the route and the location', async () => {
    const api = await serve((_req, res) => {
      res.writeHead(308, { location: 'https://elsewhere.example/v1/loops/runs' });
      res.end();
    });
    const lines: string[] = [];
    const error = await client(api.origin, lines)
      .createRun({
        session_id: 's',
        base_model: 'Qwen/Qwen3-8B',
        name: 'n',
        lora_rank: 1,
        scale_down_delay_seconds: 1,
        availability_model: 'dedicated',
        replicas: 1,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toContain('POST /v1/loops/runs failed: HTTP 308');
    expect((error as ApiError).message).toContain('redirect to https://elsewhere.example/v1/loops/runs not followed');
    expect(api.seen).toHaveLength(1);
    expect(lines).toEqual([]);
  });
});

describe('Transport: deadlines and broken connections', () => {
  it('abandons a request the server never answers: NetworkError "timeout", within about the timeout', async () => {
    const api = await serve(() => {
      /* never answers */
    });
    const started = performance.now();
    const error = await transport(api.origin, 300)
      .send('GET', '/v1/loops/runs/abc')
      .catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).message).toBe('GET /v1/loops/runs/abc failed: timeout after 0.3s');
    expect((error as NetworkError).ambiguous).toBe(true);
    expect((error as NetworkError).retryable).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5000);
  });

  // The deadline covers the body too: a response whose body stalls must end as a timeout.
  it('times out a response whose body stalls after the headers (NetworkError "timeout")', async () => {
    const api = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"run":');
    });
    const started = performance.now();
    const error = await transport(api.origin, 300)
      .send('GET', '/v1/loops/runs/abc')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).reason).toMatch(/timeout/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('the client still retries a stalled body as an ambiguous failure', async () => {
    let calls = 0;
    const api = await serve((_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"session":');
      } else json(res, 200, { session: { id: 'sess123' } });
    });
    const lines: string[] = [];
    await expect(client(api.origin, lines, 2, 300).createSession()).resolves.toBe('sess123');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^create session: attempt 1 of 3 failed \(.+\); retrying in 0s$/);
  });

  it('marks a body cut short (Content-Length larger than sent, socket destroyed) as incomplete', async () => {
    const api = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"session":{"id":"abc', () => req.socket.destroy());
    });
    const response = await transport(api.origin, 5000).send('POST', '/v1/loops/sessions', {});
    expect(response.status).toBe(200);
    expect(response.complete).toBe(false);
    expect(response.body).toBe('{"session":{"id":"abc');
  });

  it('the client turns a body cut short into a retryable, ambiguous NetworkError, and retries it', async () => {
    let calls = 0;
    const api = await serve((req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
        res.write('{"session":{"id":"abc', () => req.socket.destroy());
      } else json(res, 200, { session: { id: 'sess123' } });
    });
    const lines: string[] = [];
    await expect(client(api.origin, lines).createSession()).resolves.toBe('sess123');
    expect(lines).toEqual([
      'create session: attempt 1 of 3 failed (connection closed before the response body was complete (HTTP 200)); retrying in 0s',
    ]);

    calls = 0;
    const api2 = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"session":{"id":"abc', () => req.socket.destroy());
    });
    const error = await client(api2.origin, [], 0)
      .createSession()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    const last = (error as RetriesExhaustedError).last;
    expect(last).toBeInstanceOf(NetworkError);
    expect(last.retryable).toBe(true);
    expect(last.ambiguous).toBe(true);
    expect(last.message).toContain('POST /v1/loops/sessions failed: connection closed before the response body was complete');
  });

  it('connection refused: NetworkError that is not ambiguous (the server never saw it)', async () => {
    const gone = await serve(() => undefined);
    const port = gone.port;
    await gone.close();
    servers.splice(servers.indexOf(gone), 1);
    const error = await transport(`http://127.0.0.1:${port}`)
      .send('POST', '/v1/loops/runs', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).message).toMatch(/^POST \/v1\/loops\/runs failed: network error: .*ECONNREFUSED/);
    expect((error as NetworkError).ambiguous).toBe(false);
    expect((error as NetworkError).retryable).toBe(true);
  });

  it('a connection reset after the request was sent is ambiguous (the server may have acted)', async () => {
    const api = await serve((req) => req.socket.destroy());
    const error = await transport(api.origin)
      .send('POST', '/v1/loops/runs', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).reason).toMatch(/^network error: /);
    expect((error as NetworkError).ambiguous).toBe(true);
    expect(api.seen).toHaveLength(1);
  });

  it('the key never appears in a transport error message', async () => {
    const api = await serve(() => undefined);
    const error = (await transport(api.origin, 200)
      .send('GET', '/v1/loops/runs')
      .catch((e: unknown) => e)) as Error;
    expect(`${error.message}\n${error.stack ?? ''}`).not.toContain(KEY);
  });
});
