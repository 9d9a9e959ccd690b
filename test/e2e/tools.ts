// Helpers for the end-to-end tests: Prism (mock or validating proxy), a recording
// forwarder in front of it, and free ports.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { ROOT } from '../support/runner.js';

export { OPENAPI } from '../support/spec.js';
import { OPENAPI } from '../support/spec.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = http.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Prism {
  url: string;
  /** Everything Prism printed so far. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts Prism (`mock …` or `proxy …`) on a free loopback port; resolves once it listens.
 * Spawned with this Node (never through npx, which leaves orphans).
 */
export async function startPrism(mode: 'mock' | 'proxy', extraArgs: string[] = [], upstream?: string): Promise<Prism> {
  if (!existsSync(OPENAPI)) throw new Error(`The API description is missing: ${OPENAPI} (a copy of shared/loops-api/openapi.yaml)`);
  const bin = createRequire(import.meta.url).resolve('@stoplight/prism-cli/dist/index.js');
  const port = await freePort();
  const args = [bin, mode, ...extraArgs, '-h', '127.0.0.1', '-p', String(port), OPENAPI, ...(upstream ? [upstream] : [])];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  let output = '';
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Prism did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const m = /Prism is listening on (\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve((m[1] as string).replace(/\/+$/, ''));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`Prism exited (${code}) before listening:\n${output}`));
    });
  });
  return {
    url,
    log: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** Prism's "Violation" lines (request or response broke the description). */
export function violationLines(log: string): string[] {
  return log.split('\n').filter((l) => /violation/i.test(l));
}

export interface Exchange {
  method: string;
  /** Path and query as sent. */
  url: string;
  status: number;
  /** The sl-violations header Prism adds when a request or response broke the description. */
  violations?: string;
  requestBody: string;
  responseBody: string;
}

export interface Recorder {
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

/**
 * A forwarder in front of Prism that records every exchange, including the sl-violations
 * header (which the action never shows). `headersFor` may add request headers per request.
 */
export async function startRecorder(
  upstream: string,
  headersFor: (method: string, path: string) => Record<string, string> = () => ({}),
): Promise<Recorder> {
  const target = new URL(upstream);
  const exchanges: Exchange[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const requestBody = Buffer.concat(chunks);
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      const headers = { ...req.headers, ...headersFor(method, path.split('?')[0] ?? path), host: target.host };
      const upstreamReq = http.request({ host: target.hostname, port: target.port, method, path, headers }, (upstreamRes) => {
        const body: Buffer[] = [];
        upstreamRes.on('data', (c: Buffer) => body.push(c));
        upstreamRes.on('end', () => {
          const responseBody = Buffer.concat(body);
          const violations = upstreamRes.headers['sl-violations'];
          exchanges.push({
            method,
            url: path,
            status: upstreamRes.statusCode ?? 0,
            violations: Array.isArray(violations) ? violations.join(',') : violations,
            requestBody: requestBody.toString('utf8'),
            responseBody: responseBody.toString('utf8'),
          });
          const out = { ...upstreamRes.headers };
          delete out['transfer-encoding'];
          out['content-length'] = String(responseBody.length);
          res.writeHead(upstreamRes.statusCode ?? 502, out);
          res.end(responseBody);
        });
      });
      upstreamReq.on('error', (error) => {
        exchanges.push({ method, url: path, status: 0, requestBody: requestBody.toString('utf8'), responseBody: String(error) });
        res.destroy();
      });
      upstreamReq.end(requestBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** "GET /v1/loops/runs/{id}"-style route of an exchange, with IDs replaced by placeholders. */
export function routeOf(exchange: Pick<Exchange, 'method' | 'url'>): string {
  const path = (exchange.url.split('?')[0] ?? '')
    .replace(/^\/v1\/loops\/sessions\/[^/]+$/, '/v1/loops/sessions/{session_id}')
    .replace(/^\/v1\/loops\/runs\/[^/]+\/deactivate$/, '/v1/loops/runs/{run_id}/deactivate')
    .replace(/^\/v1\/loops\/runs\/[^/]+$/, '/v1/loops/runs/{run_id}')
    .replace(/^\/v1\/loops\/deployments\/[^/]+$/, '/v1/loops/deployments/{deployment_id}');
  return `${exchange.method} ${path}`;
}

// The fake GitHub API is the emulator's GitHub side (test/emulator/github/).
export { type FakeCheckRun, type FakeComment, type FakeGithub, type GithubRequest, setPull, startFakeGithub } from '../emulator/github/server.js';
