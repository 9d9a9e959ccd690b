// The evidence, shown: log lines in the step log (a collapsed group each), and the cause with its
// fix and the lines in the job summary and the pull-request comment (a <details> block each, ERROR
// lines first). Log text is hostile: escape sequences, control and bidi characters go, the key is
// redacted, each line is cut to a fixed length, workflow commands are neutralised in the step log
// (by the Log), HTML is escaped and @ mentions broken elsewhere, and every block has a size budget.

import { escapeHtml } from '../report/summary.js';
import type { Cause } from './causes.js';
import type { Gathered, LogSource } from './fetch.js';
import type { LogLine } from '../loops/logs.js';

/** Lines shown per source in the step log, the summary and the comment. */
export const SHOWN_LINES = 30;
/** Characters of a log message shown (the rest is cut, with an ellipsis). */
export const MESSAGE_CHARS = 300;
/** Characters of HTML per block: the summary's are far below GitHub's 1 MiB, the comment's below its 65,536 characters. */
export const BUDGET = { summary: 24_000, comment: 8_000 } as const;

export type Redact = (text: string) => string;

const TITLE: Record<LogSource, string> = { trainer: 'Trainer logs', sampler: 'Sampler logs' };
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A server's text as one inert line: no escape sequences, controls or bidi overrides, the key redacted, cut to `max` characters. */
export function cleanText(text: string, redact: Redact, max = MESSAGE_CHARS): string {
  const flat = redact(text.replace(ESCAPES, '').replace(CONTROLS, ' ').replace(BIDI, '')).trimEnd();
  const chars = [...flat];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : flat;
}

function timeOf(line: LogLine): string {
  const ms = Number(BigInt(line.timestamp) / 1_000_000n);
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? line.timestamp : date.toISOString();
}

/** `✖ 2026-11-03T10:00:01.123Z ERROR   [replica] message`: ERROR lines marked ✖, WARNING ⚠. */
export function formatLine(line: LogLine, redact: Redact): string {
  const mark = line.level === 'ERROR' ? '✖' : line.level === 'WARNING' ? '⚠' : ' ';
  const replica = line.replica ? `[${cleanText(line.replica, redact, 40)}] ` : '';
  return `${mark} ${timeOf(line)} ${(line.level ?? '').padEnd(7)} ${replica}${cleanText(line.message, redact)}`;
}

/** The newest `SHOWN_LINES` of lines given newest first, oldest first. */
export function lastLines(lines: readonly LogLine[]): LogLine[] {
  return lines.slice(0, SHOWN_LINES).reverse();
}

/** Prints a collapsed group in the step log. */
export interface Printer {
  group(title: string, lines: string[]): void;
  info(line: string): void;
}

/** Each source in the step log: its last lines in a collapsed group, or why there are none. */
export function printLogs(gathered: readonly Gathered[], printer: Printer, redact: Redact): void {
  for (const g of gathered) {
    const title = TITLE[g.source];
    if (g.state === 'none') printer.info(`${title}: none, because ${g.why}`);
    else if (g.state === 'failed') printer.info(`${title}: could not be read (${cleanText(g.why, redact)})`);
    else if (g.streamed) printer.info(`${title}: streamed above (show_logs: always)`);
    else if (g.lines.length === 0) printer.info(`${title}: no lines since the run was created`);
    else {
      const shown = lastLines(g.lines);
      printer.group(
        `${title} (last ${shown.length} lines)`,
        shown.map((line) => formatLine(line, redact)),
      );
    }
  }
}

/** The error line's account of the cause (the summary and comment say the same). */
export function causeText(cause: Cause): string {
  return `Cause (failure_reason: ${cause.reason}): ${cause.means} Fix: ${cause.fix}`;
}

/** A server's text as HTML: escaped, @ mentions broken. */
function inert(text: string): string {
  return escapeHtml(text).replace(/@/g, '@\u200b');
}

/** This action's own text (the cause table's) as HTML, its `code` spans kept. */
function prose(text: string): string {
  return inert(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** The cause and the logs as HTML (for the job summary, and for the comment, whose Markdown takes it as is). */
export function renderFindings(cause: Cause, gathered: readonly Gathered[], where: keyof typeof BUDGET, redact: Redact): string {
  const evidence = cause.evidence ? `<br>\nEvidence: ${inert(cleanText(cause.evidence, redact, 240))}` : '';
  const parts = [
    `<p><b>Cause</b> (<code>failure_reason: ${cause.reason}</code>): ${prose(cause.means)}<br>\n<b>Fix:</b> ${prose(cause.fix)}${evidence}</p>`,
  ];
  for (const g of gathered) parts.push(renderSource(g, BUDGET[where], redact));
  return `${parts.join('\n\n')}\n`;
}

/** One source: a <details> block of its last lines, ERROR lines first; or a sentence. */
function renderSource(g: Gathered, budget: number, redact: Redact): string {
  const title = TITLE[g.source];
  if (g.state === 'none') return `<p>${title}: none, because ${inert(cleanText(g.why, redact))}.</p>`;
  if (g.state === 'failed') return `<p>${title}: could not be read (${inert(cleanText(g.why, redact))}).</p>`;
  if (g.lines.length === 0) return `<p>${title}: no lines since the run was created.</p>`;
  const shown = lastLines(g.lines);
  const errors = shown.filter((line) => line.level === 'ERROR');
  const ordered = [...errors, ...shown.filter((line) => line.level !== 'ERROR')];
  const rows: string[] = [];
  let size = 0;
  for (const line of ordered) {
    // Every row starts with its mark and time: a blank line would end the HTML block in Markdown.
    const row = inert(formatLine(line, redact));
    if (size + row.length > budget) break;
    rows.push(row);
    size += row.length + 1;
  }
  const cut = ordered.length - rows.length;
  const more = cut > 0 ? `\n… ${cut} more line${cut === 1 ? '' : 's'} left out (size limit)` : '';
  const counted = errors.length ? `, ${errors.length} ERROR first` : '';
  return `<details><summary>${title} (last ${shown.length} lines${counted})</summary>\n<pre>\n${rows.join('\n')}${more}\n</pre>\n</details>`;
}
