// The pull-request comment: one per pull request and leg, found again by a hidden marker. It
// shows this run and, below it, this pull request's runs of the same slot (live, superseded,
// stopped), with a machine-readable copy of that table the stop action updates.

import type { Status } from './outputs.js';

/** The parts of the GitHub context the comment uses (a GithubContext fits). */
export interface CommentContext {
  eventName: string;
  repository: string;
  job: string;
  runId: string;
  serverUrl: string;
  apiUrl: string;
  pullRequest?: { number: number; headSha?: string };
}

export type RunState = 'this run' | 'live' | 'superseded' | 'stopped';

export interface RunRow {
  id: string;
  sha7: string;
  state: RunState;
}

export interface CommentData {
  settings: { baseModel: string; loraRank: number; checkpointPath?: string };
  /** The leg this comment belongs to (see run-name.ts). */
  leg: string;
  status: Status;
  runId?: string;
  runName?: string;
  samplerBaseUrl?: string;
  openaiBaseUrl?: string;
  samplerModel?: string;
  samplerStatus?: string;
  trainerStatus?: string;
  /** The availability mode with its billing line; what warm start did. */
  mode?: string;
  warmStart?: string;
  message?: string;
  /** The failure's cause, fix and logs, as HTML (src/forensics/render.ts). */
  forensics?: string;
  /** This pull request's runs of this slot, newest first. */
  runs?: RunRow[];
}

export const MARKER_PREFIX = '<!-- baseten-loops-launch ';

export function commentMarker(data: Pick<CommentData, 'leg'>): string {
  return `${MARKER_PREFIX}leg=${data.leg.replace(/[^A-Za-z0-9._-]/g, '')} -->`;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

/** Text from a server or a user inside a table cell: one line, no HTML, no table breaks, no mentions. */
export function cell(text: string): string {
  return text
    .replace(CONTROL, ' ')
    .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] as string)
    .replace(/\|/g, '\\|')
    .replace(/@/g, '@\u200b');
}

/** Inline code that its content cannot break out of. */
export function code(text: string): string {
  const flat = text.replace(CONTROL, ' ').replace(/\|/g, '¦');
  const fence = '`'.repeat(Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  const pad = fence.length > 1 ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

const RUNS_START = '<!-- baseten-loops-launch-runs -->';
const RUNS_DATA = /<!-- baseten-loops-launch-runs-data (\[.*?\]) -->/;
const STATE_TEXT: Record<RunState, string> = { 'this run': '**live** (this run)', live: 'live', superseded: 'superseded', stopped: 'stopped' };

/** The runs table, with its machine-readable copy. */
export function renderRuns(rows: RunRow[]): string {
  const safe = rows
    .slice(0, 20)
    .map((r) => ({ id: r.id.replace(/[^A-Za-z0-9_-]/g, ''), sha7: r.sha7.replace(/[^0-9a-f]/g, ''), state: r.state }));
  return [
    RUNS_START,
    '#### Runs of this pull request from this step',
    '',
    '| run | commit | state |',
    '|---|---|---|',
    ...safe.map((r) => `| ${code(r.id)} | ${code(r.sha7)} | ${STATE_TEXT[r.state]} |`),
    `<!-- baseten-loops-launch-runs-data ${JSON.stringify(safe)} -->`,
  ].join('\n');
}

/** The runs table a comment carries, if any. */
export function parseRuns(body: string): RunRow[] | undefined {
  const data = RUNS_DATA.exec(body)?.[1];
  if (!data) return undefined;
  try {
    const rows: unknown = JSON.parse(data);
    if (!Array.isArray(rows)) return undefined;
    return rows.filter((r: unknown): r is RunRow => {
      const row = (r && typeof r === 'object' ? r : {}) as Partial<Record<keyof RunRow, unknown>>;
      return typeof row.id === 'string' && typeof row.sha7 === 'string' && typeof row.state === 'string' && row.state in STATE_TEXT;
    });
  } catch {
    return undefined;
  }
}

/** The comment with its runs table replaced (or appended). */
export function withRuns(body: string, rows: RunRow[]): string {
  const start = body.indexOf(RUNS_START);
  const match = RUNS_DATA.exec(body);
  if (start < 0 || !match) return `${body.trimEnd()}\n\n${renderRuns(rows)}\n`;
  return `${body.slice(0, start)}${renderRuns(rows)}${body.slice(match.index + match[0].length)}`;
}

export function renderComment(ctx: CommentContext, data: CommentData): string {
  const runLink = ctx.repository && ctx.runId ? `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}` : '';
  const statuses = [data.samplerStatus && `sampler ${data.samplerStatus}`, data.trainerStatus && `trainer ${data.trainerStatus}`]
    .filter(Boolean)
    .join(', ');
  const rows: Array<[string, string]> = [
    ['Run', data.runId ? `${code(data.runId)}${data.runName ? ` (${cell(data.runName)})` : ''}` : '—'],
    ['Sampler URL', data.samplerBaseUrl ? code(data.samplerBaseUrl) : '—'],
    ['OpenAI base URL', data.openaiBaseUrl ? code(data.openaiBaseUrl) : '—'],
    ['Sampler model', data.samplerModel ? code(data.samplerModel) : '—'],
    ['Status', `**${data.status}**${statuses ? ` (${cell(statuses)})` : ''}`],
    ...(data.mode ? [['Mode', cell(data.mode)] as [string, string]] : []),
    ...(data.warmStart ? [['Warm start', cell(data.warmStart)] as [string, string]] : []),
    ['Base model', code(data.settings.baseModel)],
    ['LoRA rank', String(data.settings.loraRank)],
  ];
  if (data.settings.checkpointPath) rows.push(['Checkpoint', code(data.settings.checkpointPath)]);
  if (runLink) rows.push(['Workflow run', `[${cell(ctx.job || 'logs')}](${runLink})`]);
  const problems = (data.message ?? '').split('\n').filter((line) => line.trim());
  return [
    commentMarker(data),
    `### Baseten Loops run${ctx.pullRequest?.headSha ? ` for ${cell(ctx.pullRequest.headSha.slice(0, 7))}` : ''}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    ...(problems.length ? ['', ...problems.map((line) => cell(line))] : []),
    ...(data.forensics ? ['', data.forensics.trimEnd()] : []),
    ...(data.runs?.length ? ['', renderRuns(data.runs)] : []),
    '',
  ].join('\n');
}

// Appendices: sections of a comment that another step owns (the eval report's Eval section, one
// per check name and leg), each between an opening and a closing marker carrying its key. Whoever
// rewrites the comment keeps the appendices it does not own, so that the launch's update on a new
// push does not wipe the report's section and the report's write does not wipe the launch's table.

const APPENDIX = /<!-- baseten-loops-appendix ([0-9a-f]{16}) -->\n[\s\S]*?\n<!-- \/baseten-loops-appendix \1 -->/g;
const APPENDIX_KEY = /^[0-9a-f]{16}$/;

const appendixOpen = (key: string): string => `<!-- baseten-loops-appendix ${key} -->`;
const appendixClose = (key: string): string => `<!-- /baseten-loops-appendix ${key} -->`;

/** Every appendix a comment carries, whole (markers included), in order. */
export function appendicesOf(body: string): string[] {
  return [...body.matchAll(APPENDIX)].map((m) => m[0]);
}

/** The content of the appendix `key`, if the comment has it. */
export function appendixOf(body: string, key: string): string | undefined {
  const found = appendicesOf(body).find((a) => a.startsWith(`${appendixOpen(key)}\n`));
  return found?.slice(appendixOpen(key).length + 1, -(appendixClose(key).length + 1));
}

/** The comment with the appendix `key` replaced in place, or appended. */
export function withAppendix(body: string, key: string, content: string): string {
  if (!APPENDIX_KEY.test(key)) throw new Error(`not an appendix key: ${key}`);
  // Content is rendered by this project, never raw text from outside; a marker in it is a bug.
  if (content.includes('<!-- baseten-loops-appendix') || content.includes('<!-- /baseten-loops-appendix')) {
    throw new Error('an appendix cannot hold an appendix marker');
  }
  const block = `${appendixOpen(key)}\n${content.trim()}\n${appendixClose(key)}`;
  const existing = appendicesOf(body).find((a) => a.startsWith(`${appendixOpen(key)}\n`));
  if (existing) return body.replace(existing, () => block);
  return `${body.trimEnd()}${body.trim() ? '\n\n' : ''}${block}\n`;
}
