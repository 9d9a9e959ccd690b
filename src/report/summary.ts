// The job summary: one table describing the run, then every problem the step found.

import { formatSeconds } from '../core/text.js';
import type { Status } from './outputs.js';

/** The settings the summary shows (a Settings object fits). */
export interface SummarySettings {
  baseModel: string;
  loraRank: number;
  maxSeqLen?: number;
  seed?: number;
  checkpointPath?: string;
}

export interface SummaryData {
  settings: SummarySettings;
  status: Status;
  runId?: string;
  runName?: string;
  sessionId?: string;
  sessionCreated?: boolean;
  samplerBaseUrl?: string;
  /** What an eval job calls: `{sampler_base_url}/v1` and the model id to put in requests. */
  openaiBaseUrl?: string;
  samplerModel?: string;
  samplerStatus?: string;
  trainerStatus?: string;
  timeToReadyMs?: number;
  /** The run's availability mode with its billing line, as the API's last answer shows it. */
  mode?: string;
  /** What warm start did: asked to reuse a run, or why it was skipped. */
  warmStart?: string;
  /** The error, whole: a first line, then one problem per line (each "- …"). */
  message?: string;
  /** What the run's life in a pull request could not do, or did not do, and why. */
  notes?: string[];
  /** The failure's cause, fix and logs, as HTML (src/forensics/render.ts). */
  forensics?: string;
}

const NONE = '—';

export function summaryRows(data: SummaryData): Array<[string, string]> {
  const s = data.settings;
  return [
    ['Run', data.runId ? `${data.runId}${data.runName ? ` (${data.runName})` : ''}` : (data.runName ?? NONE)],
    ['Session', data.sessionId ? `${data.sessionId} (${data.sessionCreated ? 'new' : 'reused'})` : NONE],
    ['Base model', s.baseModel],
    ['LoRA rank', String(s.loraRank)],
    ['Sequence length', s.maxSeqLen !== undefined ? String(s.maxSeqLen) : 'model maximum'],
    ['Seed', s.seed !== undefined ? String(s.seed) : NONE],
    ['Checkpoint', s.checkpointPath ?? NONE],
    ['Sampler URL', data.samplerBaseUrl || NONE],
    ['OpenAI base URL', data.openaiBaseUrl || NONE],
    ['Sampler model', data.samplerModel || NONE],
    ['Status', statusText(data)],
    ...(data.mode ? [['Mode', data.mode] as [string, string]] : []),
    ...(data.warmStart ? [['Warm start', data.warmStart] as [string, string]] : []),
    ['Time to ready', data.timeToReadyMs !== undefined ? formatSeconds(Math.round(data.timeToReadyMs / 100) * 100) : NONE],
  ];
}

function statusText(data: SummaryData): string {
  const detail = [data.samplerStatus ? `sampler ${data.samplerStatus}` : '', data.trainerStatus ? `trainer ${data.trainerStatus}` : ''].filter(
    Boolean,
  );
  return detail.length ? `${data.status} (${detail.join(', ')})` : data.status;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A message as HTML: its first line as a paragraph, every further line (a problem) as a list item. */
export function renderMessage(message: string, lead = ''): string {
  const [first, ...rest] = message.split('\n');
  const items = rest.map((line) => line.replace(/^\s*- /, '')).filter((line) => line.trim());
  const list = items.length ? `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>\n` : '';
  return `<p>${escapeHtml(`${lead}${first ?? ''}`)}</p>\n${list}`;
}

/** The summary as HTML, the form the runner renders. */
export function renderSummary(data: SummaryData): string {
  const rows = summaryRows(data)
    .map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('');
  const notes = data.notes?.length ? `<p>Notes:</p>\n<ul>${data.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>\n` : '';
  return `<h3>Baseten Loops run</h3>\n<table>${rows}</table>\n${data.message ? renderMessage(data.message) : ''}${data.forensics ?? ''}${notes}`;
}

/** The summary when the step stopped before its inputs were usable: status, the problems, and their cause. */
export function renderErrorSummary(message: string, forensics = ''): string {
  return `<h3>Baseten Loops run</h3>\n${renderMessage(message, 'Status: error. ')}${forensics}`;
}

/** One run the stop action looked at, and what it did. */
export interface StopRow {
  runId: string;
  name: string;
  createdAt: string;
  /** How long the run had been up when it was stopped (created_at → the server's now); empty if it was not stopped. */
  upFor: string;
  why: string;
  did: string;
}

/** The stop action's summary: its status, every run it looked at and what it did, and any error. */
export function renderStopSummary(status: string, rows: StopRow[], message?: string): string {
  const head = '<tr><th>run</th><th>name</th><th>created</th><th>up for</th><th>chosen because</th><th>what happened</th></tr>';
  const body = rows
    .map((r) => `<tr>${[r.runId, r.name, r.createdAt, r.upFor, r.why, r.did].map((v) => `<td>${escapeHtml(v || NONE)}</td>`).join('')}</tr>`)
    .join('');
  const table = rows.length ? `<table>${head}${body}</table>\n` : message ? '' : '<p>No run matched the selectors.</p>\n';
  return `<h3>Baseten Loops: stop</h3>\n<p>Status: ${escapeHtml(status)}</p>\n${table}${message ? renderMessage(message) : ''}`;
}
