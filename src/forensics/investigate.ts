// When a launch fails: read the run's logs as show_logs asks (after the GPUs were stopped: the
// failure path deactivates first), print them in the step log, and name the cause. And, for
// show_logs: always, the stream of trainer lines while the wait goes on. Nothing here throws:
// logs explain a failure, they never become one.

import * as core from '@actions/core';
import type { Log } from '../core/log.js';
import type { ShowLogs } from './show-logs.js';
import type { Clock } from '../core/retry.js';
import type { LoopsClient } from '../loops/client.js';
import type { Run } from '../loops/types.js';
import { type Cause, classify } from './causes.js';
import { type FetchOptions, type Gathered, fetchSampler, fetchTrainer } from './fetch.js';
import { type Printer, type Redact, formatLine, printLogs } from './render.js';
import { LogStream } from './stream.js';

/** How a wait that did not end ready ends: the statuses whose logs are read. */
const LOOKED_INTO: ReadonlySet<string> = new Set(['failed', 'timed_out', 'cancelled']);

export interface Failure {
  /** The step's status. */
  status: string;
  error: unknown;
  run?: Run;
  client?: LoopsClient;
  showLogs: ShowLogs;
  trainerStatus?: string;
  samplerStatus?: string;
  /** The stream of show_logs: always, which has the trainer's lines already. */
  stream?: LogStream;
  /** Our clock (ms) by which every logs request must have answered. */
  deadline: number;
  clock: Clock;
  redact: Redact;
  printer: Printer;
}

export interface Findings {
  cause: Cause;
  /** What each source gave (nothing when no logs were read). */
  gathered: Gathered[];
}

export async function investigate(f: Failure): Promise<Findings> {
  const { run, client } = f;
  const gathered = run && client && f.showLogs !== 'never' && LOOKED_INTO.has(f.status) ? await gather(client, run, f) : [];
  printLogs(gathered, f.printer, f.redact);
  const logs = gathered.flatMap((g) => (g.state === 'lines' ? [{ source: g.source, lines: g.lines }] : []));
  const cause = classify({ status: f.status, error: f.error, trainerStatus: f.trainerStatus, samplerStatus: f.samplerStatus, logs });
  return { cause, gathered };
}

/** Both sources at once, within the one deadline. */
function gather(client: LoopsClient, run: Run, f: Failure): Promise<Gathered[]> {
  const opts = { client, run, deadline: f.deadline, clock: f.clock };
  return Promise.all([f.stream ? fromStream(f.stream, opts) : fetchTrainer(opts), fetchSampler(opts)]);
}

/**
 * The streamed lines. When the stream could not catch up (behind, or its last request failed), the
 * newest lines are read afresh and only those it had not printed are printed, as streamed lines.
 */
async function fromStream(stream: LogStream, opts: FetchOptions): Promise<Gathered> {
  if (!(await stream.finish(opts.deadline)) && !stream.stopped) {
    const fresh = await fetchTrainer(opts);
    if (fresh.state === 'lines') stream.absorb(fresh.lines);
    else if (stream.recent().length === 0) return fresh;
  }
  const lines = stream.recent();
  if (lines.length === 0 && stream.stopped) return { source: 'trainer', state: stream.stopped.state, why: stream.stopped.why };
  return { source: 'trainer', state: 'lines', lines, streamed: true };
}

/** show_logs: always — the trainer's new lines printed as the wait observes the run. */
export function streamLogs(o: { client: LoopsClient; run: Run; clock: Clock; timeoutMs: number; log: Log; redact: Redact }): LogStream {
  return new LogStream({
    client: o.client,
    run: o.run,
    clock: o.clock,
    timeoutMs: o.timeoutMs,
    print: (line) => o.log.info(`trainer | ${formatLine(line, o.redact)}`),
    note: (text) => o.log.info(text),
  });
}

/** The runner's collapsed groups; every line goes through the Log, which neutralises workflow commands. */
export function actionsPrinter(log: Log): Printer {
  return {
    group: (title, lines) => {
      core.startGroup(title);
      for (const line of lines) log.info(line);
      core.endGroup();
    },
    info: (line) => log.info(line),
  };
}
