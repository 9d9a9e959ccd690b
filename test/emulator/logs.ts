/**
 * The logs routes: a trainer's, GET /v1/loops/deployments/{deployment_id}/logs, and a sampler's,
 * GET /v1/models/{model_id}/deployments/{deployment_id}/logs (an ordinary Baseten model
 * deployment's). Query as the API describes it: start_epoch_millis (default 30 minutes before
 * the end), end_epoch_millis (default now), a window of at most 7 days, direction asc|desc,
 * limit 1..1000 (default 500), min_level (drops lines without a level). Timestamps are epoch
 * nanoseconds as strings. A line is served once its time has come (the server clock). Not
 * documented, so chosen here: direction defaults to asc, and start and end are inclusive.
 */
import { visible } from './routes-runs.js';
import { type Resp, detail, json, validationError } from './responses.js';
import type { Ctx, Route } from './router.js';
import type { DeploymentState, LogEntry, LogLevel, World } from './store.js';
import type { ValidationErrorItem } from './types.js';
import { type FieldSpec, validateValue } from './validation.js';

const LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARNING', 'ERROR'];
const DEFAULT_SPAN_MS = 30 * 60_000;
const MAX_SPAN_MS = 7 * 24 * 3600_000;
const NS_PER_MS = 1_000_000n;
const LIMIT: FieldSpec = { name: 'limit', kind: 'integer', ge: 1, le: 1000 };

export interface LogQuery {
  start: number;
  end: number;
  direction: 'asc' | 'desc';
  limit: number;
  minLevel: LogLevel | null;
}

/** One line as the API answers with it. */
export interface LogLineView {
  timestamp: string;
  message: string;
  replica: string | null;
  request_id: string | null;
  level: LogLevel | null;
}

function integer(q: URLSearchParams, name: string, errors: ValidationErrorItem[]): number | undefined {
  const raw = q.get(name);
  if (raw === null) return undefined;
  if (/^[+-]?\d+$/.test(raw.trim()) && Number.isSafeInteger(Number(raw))) return Number(raw);
  errors.push({
    type: 'int_parsing',
    loc: ['query', name],
    msg: 'Input should be a valid integer, unable to parse string as an integer',
    input: raw,
  });
  return undefined;
}

function oneOf<T extends string>(q: URLSearchParams, name: string, values: readonly T[], errors: ValidationErrorItem[]): T | undefined {
  const raw = q.get(name);
  if (raw === null) return undefined;
  const match = values.find((v) => v === raw);
  if (match === undefined) {
    const quoted = values.map((v) => `'${v}'`);
    const expected = `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1) ?? ''}`;
    errors.push({ type: 'enum', loc: ['query', name], msg: `Input should be ${expected}`, input: raw, ctx: { expected } });
  }
  return match;
}

/** The query, checked as FastAPI would (422 naming each bad parameter), then the window (400). */
export function readLogQuery(q: URLSearchParams, now: number): { ok: true; query: LogQuery } | { ok: false; resp: Resp } {
  const errors: ValidationErrorItem[] = [];
  const startGiven = integer(q, 'start_epoch_millis', errors);
  const endGiven = integer(q, 'end_epoch_millis', errors);
  const limit = integer(q, 'limit', errors) ?? 500;
  // The API's bounds, checked by the same validation as request bodies (pydantic's ge/le).
  const limitError = q.has('limit') ? validateValue(LIMIT, limit, ['query', 'limit']) : undefined;
  if (limitError) errors.push(limitError);
  const direction = oneOf(q, 'direction', ['asc', 'desc'] as const, errors) ?? 'asc';
  const minLevel = oneOf(q, 'min_level', LEVELS, errors) ?? null;
  if (errors.length > 0) return { ok: false, resp: validationError(errors) };
  const end = endGiven ?? now;
  const start = startGiven ?? end - DEFAULT_SPAN_MS;
  if (start > end) return { ok: false, resp: detail(400, 'start_epoch_millis must not be after end_epoch_millis') };
  if (end - start > MAX_SPAN_MS) return { ok: false, resp: detail(400, 'The time window may not exceed 7 days') };
  return { ok: true, query: { start, end, direction, limit, minLevel } };
}

/** The lines a query selects, in its direction (lines sharing a timestamp keep the order they were logged in). */
export function selectLines(lines: readonly LogEntry[], query: LogQuery, now: number): LogLineView[] {
  const rank = (level: LogLevel | null): number => (level === null ? -1 : LEVELS.indexOf(level));
  const picked = lines
    .filter((line) => {
      const ms = Number(line.ns / NS_PER_MS);
      if (ms < query.start || ms > query.end || ms > now) return false;
      return query.minLevel === null || (line.level !== null && rank(line.level) >= rank(query.minLevel));
    })
    .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  if (query.direction === 'desc') picked.reverse();
  return picked.slice(0, query.limit).map((line) => ({
    timestamp: line.ns.toString(),
    message: line.message,
    replica: line.replica,
    request_id: null,
    level: line.level,
  }));
}

function answer(lines: readonly LogEntry[], ctx: Ctx): Resp {
  const read = readLogQuery(ctx.url.searchParams, ctx.now);
  return read.ok ? json(200, { logs: selectLines(lines, read.query, ctx.now) }) : read.resp;
}

function trainerLogs(world: World, ctx: Ctx, [id]: string[]): Resp {
  const d = world.store.deployments.get(id ?? '');
  return d && visible(d, ctx.now) ? answer(d.logs, ctx) : detail(404, 'Deployment not found');
}

/** The sampler is a Baseten model deployment: both of its ids must match. */
function samplerLogs(world: World, ctx: Ctx, [modelId, deploymentId]: string[]): Resp {
  const d: DeploymentState | undefined = world.store.samplerByModelId(modelId ?? '');
  if (!d || d.sampler.modelDeploymentId !== deploymentId || !visible(d, ctx.now)) return detail(404, 'Model deployment not found');
  return answer(d.sampler.logs, ctx);
}

export const LOG_ROUTES: Route[] = [
  { pattern: /^\/v1\/loops\/deployments\/([^/]+)\/logs$/, methods: { GET: trainerLogs } },
  { pattern: /^\/v1\/models\/([^/]+)\/deployments\/([^/]+)\/logs$/, methods: { GET: samplerLogs } },
];
