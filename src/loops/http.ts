// One HTTP exchange with a deadline, over @actions/http-client (which brings proxy support:
// https_proxy / no_proxy). No retries here. Redirects are followed by this code, not the
// library, so that the key is never sent to another origin and writes are never re-sent.
// Every answer's Date header tells how far the server's clock is from ours.

import type { IncomingMessage } from 'node:http';
import { HttpClient } from '@actions/http-client';
import { NetworkError } from '../core/errors.js';
import { formatSeconds } from '../core/text.js';

export interface HttpResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  /** False when the body ended early (connection dropped mid-body). */
  complete: boolean;
}

export interface TransportOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  userAgent: string;
  /** Our clock (ms since the epoch), to compare with the server's Date header. */
  now?: () => number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

export class Transport {
  private readonly http: HttpClient;
  private readonly now: () => number;
  /** The server's clock minus ours, from the latest Date header; undefined until one arrives. */
  clockOffsetMs: number | undefined;

  constructor(private readonly options: TransportOptions) {
    this.http = new HttpClient(options.userAgent, [], {
      allowRedirects: false,
      allowRetries: false,
      keepAlive: true,
      socketTimeout: options.timeoutMs,
    });
    this.now = options.now ?? Date.now;
  }

  /** Sends one request; throws NetworkError when no complete response arrives in time. */
  async send(method: string, path: string, body?: unknown, timeoutMs = this.options.timeoutMs): Promise<HttpResponse> {
    const route = path.split('?')[0] ?? path;
    const data = body === undefined ? null : JSON.stringify(body);
    let url = new URL(this.options.baseUrl + path);
    let sendKey = true;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (sendKey) headers.authorization = `Bearer ${this.options.apiKey}`;
      if (data !== null) headers['content-type'] = 'application/json';
      const response = await this.exchange(method, route, url, data, headers, timeoutMs);
      this.noteServerDate(response.headers.date);
      const location = response.headers.location;
      if (!REDIRECTS.has(response.status) || !location || method !== 'GET' || hop >= MAX_REDIRECTS) {
        return response;
      }
      const next = new URL(location, url);
      if (url.protocol === 'https:' && next.protocol !== 'https:') {
        throw new NetworkError(method, route, `redirect to ${next.protocol}// refused (would downgrade from https)`, {
          ambiguous: false,
        });
      }
      // The key is for the API's own origin only.
      if (next.origin !== url.origin) sendKey = false;
      url = next;
    }
  }

  /**
   * The server stamps Date (truncated to the second) before its answer reaches us, so its clock
   * when the answer arrives is at least Date: `Date − arrival` can only put the server's clock
   * early, never late — and an early estimate never makes this step's own run look too old.
   */
  private noteServerDate(header: string | undefined): void {
    const date = header ? Date.parse(header) : Number.NaN;
    if (Number.isNaN(date)) return;
    this.clockOffsetMs = date - this.now();
  }

  private exchange(
    method: string,
    route: string,
    url: URL,
    data: string | null,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      let message: IncomingMessage | undefined;
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => {
        // Settle first: destroying the message emits 'aborted' at once, which would otherwise
        // report a stalled body as a closed connection.
        finish(() => reject(new NetworkError(method, route, `timeout after ${formatSeconds(timeoutMs)}`, { ambiguous: true })));
        message?.destroy();
      }, timeoutMs);

      this.http.request(method, url.href, data, headers).then(
        (response) => {
          message = response.message;
          const chunks: Buffer[] = [];
          message.on('data', (chunk: Buffer) => chunks.push(chunk));
          const done = (complete: boolean): void =>
            finish(() =>
              resolve({
                status: message?.statusCode ?? 0,
                headers: message?.headers ?? {},
                body: Buffer.concat(chunks).toString('utf8'),
                complete,
              }),
            );
          message.on('end', () => done(true));
          message.on('aborted', () => done(false));
          message.on('error', () => done(false));
          message.on('close', () => done(message?.complete ?? false));
        },
        (error: unknown) => finish(() => reject(toNetworkError(method, route, error, timeoutMs))),
      );
    });
  }

  dispose(): void {
    this.http.dispose();
  }
}

function toNetworkError(method: string, route: string, error: unknown, timeoutMs: number): NetworkError {
  const err = error as NodeJS.ErrnoException;
  const message = err?.message ?? String(error);
  if (message.startsWith('Request timeout')) {
    return new NetworkError(method, route, `timeout after ${formatSeconds(timeoutMs)}`, { ambiguous: true });
  }
  const code = err?.code ? `${err.code}` : '';
  // A refused or unresolvable connection never reached the server.
  const neverSent = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
  const reason = code && !message.includes(code) ? `${code} (${message})` : message;
  return new NetworkError(method, route, `network error: ${reason}`, { ambiguous: !neverSent });
}
