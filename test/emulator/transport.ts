/**
 * Writing answers: latency, the Date header from the server clock, the optional BOM, and the
 * broken ways of answering (dropped connection, truncated body). Timers are tracked so that
 * close() can cancel every one.
 */
import type http from 'node:http';
import type { Config } from './config.js';
import type { RecordedRequest } from './options.js';
import { type Resp, isJsonContentType } from './responses.js';

export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.pending.delete(t);
      fn();
    }, ms);
    this.pending.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.pending.delete(t);
  }

  cancelAll(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}

export interface TransportEnv {
  config: Config;
  timers: Timers;
  closing(): boolean;
}

/** One request and its response. */
export class Exchange {
  constructor(
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
    readonly record: RecordedRequest,
    private readonly env: TransportEnv,
  ) {}

  /** The client is gone (or the emulator is closing): nothing can be written. */
  gone(): boolean {
    const s = this.res.socket;
    return this.env.closing() || this.res.writableEnded || this.res.destroyed || !s || s.destroyed;
  }

  send(r: Resp): void {
    this.withLatency(() => {
      if (this.gone()) return;
      const { headers, body } = this.finish(r);
      this.record.status = r.status;
      this.res.writeHead(r.status, { ...headers, 'Content-Length': String(body.length) });
      this.res.end(body);
    });
  }

  /** Half the body, then the connection is cut (Content-Length promises the whole). */
  sendTruncated(r: Resp): void {
    this.withLatency(() => {
      if (this.gone()) return;
      const { headers, body } = this.finish(r);
      const half = body.subarray(0, Math.max(1, Math.floor(body.length / 2)));
      this.record.status = r.status;
      this.res.writeHead(r.status, { ...headers, 'Content-Length': String(body.length) });
      this.res.write(half, () => {
        this.req.socket.destroy();
      });
    });
  }

  drop(): void {
    this.record.status = 0;
    this.req.socket.destroy();
  }

  /** The Date header on the server clock; the BOM before a JSON body when asked for. */
  private finish(r: Resp): { headers: Record<string, string>; body: Buffer } {
    const { config } = this.env;
    const headers = { ...(config.dateHeader ? { Date: new Date(config.now()).toUTCString() } : {}), ...r.headers };
    // Node adds a Date of its own (the runner's clock) unless told not to.
    if (!config.dateHeader) this.res.sendDate = false;
    const contentType = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    const bom = config.bom && isJsonContentType(contentType);
    return { headers, body: Buffer.from(bom ? `\uFEFF${r.body}` : r.body) };
  }

  private withLatency(fn: () => void): void {
    const ms = this.env.config.latencyMs;
    if (ms > 0) this.env.timers.later(ms, fn);
    else fn();
  }
}
