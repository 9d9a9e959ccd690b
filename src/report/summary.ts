// The job summary: one table describing the run.

import type { Settings } from '../inputs.js';
import { formatSeconds } from '../loops/http.js';
import type { Status } from './outputs.js';

export interface SummaryData {
  settings: Pick<Settings, 'baseModel' | 'loraRank' | 'maxSeqLen' | 'seed' | 'checkpointPath'>;
  status: Status;
  runId?: string;
  runName?: string;
  sessionId?: string;
  sessionCreated?: boolean;
  samplerBaseUrl?: string;
  samplerStatus?: string;
  trainerStatus?: string;
  timeToReadyMs?: number;
  message?: string;
}

const NONE = '—';

export function summaryRows(data: SummaryData): Array<[string, string]> {
  const s = data.settings;
  const rows: Array<[string, string]> = [
    ['Run', data.runId ? `${data.runId}${data.runName ? ` (${data.runName})` : ''}` : (data.runName ?? NONE)],
    ['Session', data.sessionId ? `${data.sessionId} (${data.sessionCreated ? 'new' : 'reused'})` : NONE],
    ['Base model', s.baseModel],
    ['LoRA rank', String(s.loraRank)],
    ['Sequence length', s.maxSeqLen !== undefined ? String(s.maxSeqLen) : 'model maximum'],
    ['Seed', s.seed !== undefined ? String(s.seed) : NONE],
    ['Checkpoint', s.checkpointPath ?? NONE],
    ['Sampler URL', data.samplerBaseUrl || NONE],
    ['Status', statusText(data)],
    ['Time to ready', data.timeToReadyMs !== undefined ? formatSeconds(Math.round(data.timeToReadyMs / 100) * 100) : NONE],
  ];
  return rows;
}

function statusText(data: SummaryData): string {
  const parts: string[] = [data.status];
  const detail = [
    data.samplerStatus ? `sampler ${data.samplerStatus}` : '',
    data.trainerStatus ? `trainer ${data.trainerStatus}` : '',
  ].filter(Boolean);
  if (detail.length) parts.push(`(${detail.join(', ')})`);
  return parts.join(' ');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

/** The summary as HTML, the form the runner renders. */
export function renderSummary(data: SummaryData): string {
  const rows = summaryRows(data)
    .map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('');
  const note = data.message ? `<p>${escapeHtml(data.message)}</p>\n` : '';
  return `<h3>Baseten Loops run</h3>\n<table>${rows}</table>\n${note}`;
}

/** The summary when the step stopped before its inputs were usable: status and the problems. */
export function renderErrorSummary(message: string): string {
  const [first, ...rest] = message.split('\n');
  const items = rest.map((line) => line.replace(/^- /, '')).filter(Boolean);
  const list = items.length ? `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>\n` : '';
  return `<h3>Baseten Loops run</h3>\n<p>Status: error. ${escapeHtml(first ?? '')}</p>\n${list}`;
}
