// show_logs: always — new trainer lines printed while the wait goes on. Politely: at most one
// request per poll (none while one is under way), one attempt each, and the wait never waits for
// it. The time window moves on with the lines: each request asks, oldest first, from the
// millisecond of the last line printed (the API's window is in ms, timestamps in ns), and the lines
// of that millisecond already printed are recognised and skipped — counted, so that two identical
// lines are both printed once. A full page continues from where it stopped, so no line is skipped.
// Assumed (unpublished): start_epoch_millis is inclusive, by the millisecond of a line's timestamp
// (were it exclusive, re-reading that millisecond would only find nothing to skip).
// Limit: a line the server indexes late, with a time before the last one printed, is not shown.

import { raceAbort } from '../core/abort.js';
import type { Clock } from '../core/retry.js';
import type { LoopsClient } from '../loops/client.js';
import type { LogLine } from '../loops/logs.js';
import type { Run } from '../loops/types.js';
import { lastChance, trainerDeploymentOf, whyFailed, windowStart } from './fetch.js';

export interface StreamOptions {
  client: LoopsClient;
  run: Run;
  clock: Clock;
  /** request_timeout_seconds, in ms. */
  timeoutMs: number;
  /** Prints one new line. */
  print: (line: LogLine) => void;
  /** Says something about the stream itself (once per kind of trouble). */
  note: (text: string) => void;
  /** Lines per request (the API allows 1..1000). */
  pageSize?: number;
  /** How many of the newest lines to keep for the failure report. */
  keep?: number;
}

const NS_PER_MS = 1_000_000n;
/** Consecutive failed requests after which the stream gives up. */
const GIVE_UP_AFTER = 3;
/** Looks for the deployment of a run without deployment_id before giving up. */
const LOOKUPS = 3;
/** Requests at the end of the wait to catch up with what is left (within the deadline). */
const CATCH_UP = 5;

const msOf = (line: LogLine): number => Number(BigInt(line.timestamp) / NS_PER_MS);
const keyOf = (line: LogLine): string => [line.timestamp, line.replica ?? '', line.level ?? '', line.message].join('\u0000');

export class LogStream {
  private readonly pageSize: number;
  private readonly keep: number;
  private run: Run;
  private deploymentId: string | undefined;
  private lookups = 0;
  private observed = 0;
  private inFlight: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  /** The last page was full: more lines may be waiting. */
  private behind = false;
  /** The millisecond the next request starts from, and how often each line of it was printed. */
  private fromMs: number;
  private printedInFromMs = new Map<string, number>();
  private readonly newest: LogLine[] = [];
  /** Why the stream stopped, when it did: nothing to read, or reading failed. */
  stopped: { state: 'none' | 'failed'; why: string } | undefined;

  constructor(private readonly opts: StreamOptions) {
    this.pageSize = opts.pageSize ?? 1000;
    this.keep = opts.keep ?? 200;
    this.run = opts.run;
    this.fromMs = windowStart(opts.run, opts.client.serverNow().ms) ?? opts.clock.now();
  }

  /** Called with every observation of the wait; the first (the create's answer) is not a poll. */
  observe(run: Run): void {
    this.run = run;
    if (this.observed++ === 0 || this.inFlight || this.closed || this.stopped) return;
    this.inFlight = this.pull(this.opts.clock.now() + this.opts.timeoutMs).finally(() => (this.inFlight = undefined));
  }

  /**
   * The end of the wait: the request under way (if any) gets until `deadline`, then a few more
   * catch up with what is left. True when every line up to now was printed.
   */
  async finish(deadline: number): Promise<boolean> {
    if (this.inFlight) await raceAbort(this.inFlight, AbortSignal.timeout(Math.max(0, deadline - this.opts.clock.now())));
    for (let i = 0; i < CATCH_UP && !this.inFlight && !this.stopped && this.opts.clock.now() < deadline; i++) {
      await this.pull(deadline);
      if (!this.behind || this.failures > 0) break;
    }
    this.closed = true;
    return !this.inFlight && !this.behind && this.failures === 0 && !this.stopped;
  }

  /** Resolves once no request is under way. */
  async idle(): Promise<void> {
    await this.inFlight;
  }

  /** The newest lines seen, newest first. */
  recent(): LogLine[] {
    return [...this.newest].reverse();
  }

  /** One request: the deployment (for a run without deployment_id, a few times at most), or a page of lines. */
  private async pull(deadline: number): Promise<void> {
    try {
      const call = lastChance(deadline, this.opts.clock);
      this.deploymentId = this.run.deploymentId ?? this.deploymentId;
      if (!this.deploymentId) {
        this.deploymentId = await trainerDeploymentOf(this.opts.client, this.run, call);
        if (!this.deploymentId && ++this.lookups >= LOOKUPS) {
          this.stopped = { state: 'none', why: `run ${this.run.id} has no Loops deployment (a serverless run has none)` };
          this.opts.note(`show_logs: no trainer logs to stream: ${this.stopped.why}`);
        }
        return;
      }
      const from = this.fromMs;
      const page = await this.opts.client.getTrainerLogs(this.deploymentId, { startMs: from, direction: 'asc', limit: this.pageSize }, call);
      this.failures = 0;
      if (!this.closed) this.take(page, from);
    } catch (error) {
      if (++this.failures === 1)
        this.opts.note(`show_logs: could not read the trainer's logs (${whyFailed(error)}); trying again on the next poll`);
      if (this.failures >= GIVE_UP_AFTER) {
        this.stopped = { state: 'failed', why: `${whyFailed(error)}; ${GIVE_UP_AFTER} requests in a row failed` };
        this.opts.note(`show_logs: streaming stopped: ${this.stopped.why}`);
      }
    }
  }

  /**
   * Lines read apart from the stream (the newest, read afresh when it could not catch up): prints,
   * oldest first, only those it has not printed, so that no line is shown twice.
   */
  absorb(lines: readonly LogLine[]): void {
    const ns = (line: LogLine): bigint => BigInt(line.timestamp);
    this.printNew([...lines].sort((a, b) => (ns(a) < ns(b) ? -1 : ns(a) > ns(b) ? 1 : 0)));
  }

  /** Prints the page's new lines (oldest first) and moves the window on. */
  private take(page: LogLine[], from: number): void {
    this.behind = page.length >= this.pageSize;
    this.printNew(page);
    // A full page inside one millisecond would come back the same: the rest of that millisecond is given up, and said.
    const last = page.at(-1);
    if (page.length >= this.pageSize && last && msOf(last) === from) {
      this.opts.note(`show_logs: more than ${this.pageSize} trainer log lines within one millisecond; the rest of that millisecond is not shown`);
      this.fromMs = from + 1;
      this.printedInFromMs = new Map();
    }
  }

  /** Prints the lines (oldest first) after the last one printed, the ones of its millisecond not printed yet included. */
  private printNew(lines: readonly LogLine[]): void {
    let again = new Map(this.printedInFromMs);
    for (const line of lines) {
      const ms = msOf(line);
      if (ms < this.fromMs) continue;
      const key = keyOf(line);
      if (ms === this.fromMs) {
        const left = again.get(key) ?? 0;
        if (left > 0) {
          again.set(key, left - 1);
          continue;
        }
      } else {
        this.fromMs = ms;
        this.printedInFromMs = new Map();
        again = new Map();
      }
      this.printedInFromMs.set(key, (this.printedInFromMs.get(key) ?? 0) + 1);
      this.opts.print(line);
      this.newest.push(line);
      if (this.newest.length > this.keep) this.newest.shift();
    }
  }
}
