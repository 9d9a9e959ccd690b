// Behind a proxy: the Loops transport tunnels through https_proxy/http_proxy and honours
// no_proxy (via @actions/http-client), and the lazy undici stand-in still builds a working
// ProxyAgent for the GitHub client. http-client never proxies loopback hosts, so the API is
// addressed by a made-up name that only the test proxy knows how to reach.

import { type Server, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NetworkError } from '../src/core/errors.js';
import { Transport } from '../src/loops/http.js';
import { ProxyAgent, fetch } from '../src/vendor/undici-lazy.js';
import { type Emulator, startEmulator } from './emulator/server.js';

let emulator: Emulator;
let proxy: Server;
let proxyUrl: string;
const tunnels: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
  proxy = createServer((_req, res) => res.writeHead(405).end());
  // Every CONNECT is tunnelled to the emulator, whatever host it names.
  proxy.on('connect', (req, socket, head) => {
    tunnels.push(req.url ?? '');
    const upstream = connect(emulator.port, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise((resolve) => proxy.close(resolve));
  await emulator.close();
});

const saved = { ...process.env };
afterEach(() => {
  for (const name of ['http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  tunnels.length = 0;
});

function transport(): Transport {
  return new Transport({ baseUrl: 'http://loops.test', apiKey: 'test-key', timeoutMs: 5000, userAgent: 'test' });
}

describe('behind a proxy', () => {
  it('tunnels API requests through http_proxy', async () => {
    process.env.http_proxy = proxyUrl;
    delete process.env.no_proxy;
    delete process.env.NO_PROXY;
    const t = transport();
    try {
      const response = await t.send('POST', '/v1/loops/sessions', {});
      expect(response.status).toBe(200);
      expect((JSON.parse(response.body) as { session: { id: string } }).session.id).toMatch(/^[a-z0-9]+$/);
    } finally {
      t.dispose();
    }
    expect(tunnels).toEqual(['loops.test:80']);
    expect(emulator.requests.at(-1)?.headers.authorization).toBe('Bearer test-key');
  });

  it('goes direct for hosts in no_proxy', async () => {
    process.env.http_proxy = proxyUrl;
    process.env.no_proxy = 'example.org,.test';
    const t = transport();
    try {
      const error = await t.send('GET', '/v1/loops/sessions/x').catch((e: unknown) => e);
      // Direct means a DNS lookup of the made-up host, which fails: proof the proxy was skipped.
      expect(error).toBeInstanceOf(NetworkError);
      expect((error as NetworkError).ambiguous).toBe(false);
    } finally {
      t.dispose();
    }
    expect(tunnels).toEqual([]);
  });

  it('lets the GitHub client reach its API through the proxy (lazy undici ProxyAgent)', async () => {
    const agent = new ProxyAgent({ uri: proxyUrl });
    const response = await fetch(`http://127.0.0.1:${emulator.port}/v1/loops/capabilities`, {
      dispatcher: agent as never,
      headers: { authorization: 'Bearer test-key' },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { supported_models: unknown[] }).supported_models.length).toBeGreaterThan(0);
    expect(tunnels).toEqual([`127.0.0.1:${emulator.port}`]);
  });
});
