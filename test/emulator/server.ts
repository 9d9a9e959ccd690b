/**
 * Local emulator of the Baseten Loops management HTTP API (the /v1/loops/* routes this project uses).
 *
 * Only node built-ins. Shapes follow /work/shared/loops-api/openapi.yaml (spec 2026-08-22).
 * Validation is pydantic/FastAPI style and deliberately stricter than the real API
 * (unknown body properties are rejected, integers must be JSON integers).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export interface TimelineStep {
  status: string;
  /** How long this status lasts. The last step has no ms and stays forever. */
  ms?: number;
}

export interface SupportedModel {
  model_name: string;
  max_context_length: number;
  supports_vision_language: boolean;
  max_seq_len?: number;
  enabled?: boolean;
}

export interface Checkpoint {
  /** bt://loops:<run_id>/(weights|sampler_weights)/<name> */
  checkpoint_path: string;
}

export type FaultKind = 'status' | 'drop' | 'delay' | 'garbage' | 'html' | 'redirect' | 'transform';

export interface FaultSpec {
  /** HTTP method to match; default any. */
  method?: string;
  /** Matched against the URL pathname (exact string, or RegExp). */
  path: string | RegExp;
  /** How many matching requests it applies to; default 1; Infinity allowed. */
  times?: number;
  kind: FaultKind;
  /**
   * 'before' (default): the route does not run. 'after': the route runs (state changes), then the
   * fault replaces the response. 'late' (delay only): the route runs when the delay ends, even if
   * the client has given up by then — a server that is slow to act.
   */
  when?: 'before' | 'after' | 'late';
  /** For 'status' (default 500), 'html' (default 502), 'redirect' (default 307). */
  status?: number;
  /**
   * For 'status': the response body (object → JSON); default {"detail":"Injected fault"}.
   * For 'garbage': if given, sent complete (correct Content-Length) as an unparseable 200;
   * if omitted, the response is truncated (see README in the report).
   */
  body?: string | object;
  /** Extra response headers, e.g. {'Retry-After': '2'}. */
  headers?: Record<string, string>;
  /** For 'delay': hold the response this long (default 60000), then answer normally. */
  delayMs?: number;
  /** For 'redirect': Location header value (default: the same URL on this emulator). */
  location?: string;
  /**
   * For 'transform': rewrites the route's JSON answer (the route always runs first, whatever
   * `when` says) — an answer that breaks the description, or an extra item in a list.
   */
  transform?: (body: unknown) => unknown;
}

export interface EmulatorOptions {
  host?: string;
  port?: number;
  apiKeys?: string[];
  forbiddenKeys?: string[];
  samplerTimeline?: TimelineStep[];
  trainerTimeline?: TimelineStep[];
  models?: SupportedModel[];
  capabilities?: boolean;
  checkpoints?: string[];
  rateLimit?: { perSecond: number; burst?: number };
  latencyMs?: number;
  deploymentIdOnRuns?: boolean;
  now?: () => number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the raw string when it is not JSON, or undefined when there was no body. */
  body: unknown;
  /** Status answered; 0 when dropped or never answered. */
  status: number;
  at: number;
}

export interface LoopsUser {
  email: string | null;
}

export interface LoopsInstanceType {
  id: string;
  name: string;
  memory_limit_mib: number;
  millicpu_limit: number;
  gpu_count: number;
  gpu_type: string | null;
  gpu_memory_limit_mib: number | null;
}

export interface LoopsSession {
  id: string;
}

export interface LoopsSampler {
  id: string;
  base_url: string;
  base_model: string;
  created_at: string;
  model_id: string;
  deployment_id: string;
  status: { name: string };
  user: LoopsUser;
  instance_type: LoopsInstanceType | null;
  node_count: number;
}

export interface LoopsRun {
  id: string;
  session_id: string;
  deployment_id: string | null;
  name: string;
  base_model: string;
  base_url: string;
  created_at: string;
  status: { name: 'ACTIVE' | 'INACTIVE' };
  user: LoopsUser;
  sampler: LoopsSampler | null;
}

export interface LoopsDeployment {
  id: string;
  active_run_id: string | null;
  latest_run_id: string | null;
  base_model: string;
  base_url: string;
  status: { name: string };
  user: LoopsUser;
  created_at: string;
  availability_model: 'dedicated' | 'spot';
  instance_type: LoopsInstanceType;
  node_count: number;
  sampler: LoopsSampler | null;
}

export interface LoopsCheckpoint {
  checkpoint_id: string;
  id: string;
  run_id: string;
  target: 'sampler' | 'trainer';
  checkpoint_type: string;
  base_model: string | null;
  lora_adapter_config: Record<string, unknown> | null;
  size_bytes: number;
  sync_status: string | null;
  created_at: string;
}

export interface DeactivatedResource {
  id: string;
  base_model: string;
  user: LoopsUser;
}

export interface ValidationErrorItem {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export interface Emulator {
  url: string;
  port: number;
  requests: RecordedRequest[];
  runs(): LoopsRun[];
  sessions(): string[];
  fault(spec: FaultSpec): void;
  clearFaults(): void;
  setSamplerStatus(runId: string, status: string): void;
  setTrainerStatus(runId: string, status: string): void;
  configure(opts: Partial<EmulatorOptions>): void;
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------

export const DEFAULT_SAMPLER_TIMELINE: readonly TimelineStep[] = [
  { status: 'DEPLOYING', ms: 300 },
  { status: 'LOADING_MODEL', ms: 300 },
  { status: 'ACTIVE' },
];

export const DEFAULT_TRAINER_TIMELINE: readonly TimelineStep[] = [
  { status: 'CREATED', ms: 100 },
  { status: 'DEPLOYING', ms: 300 },
  { status: 'RUNNING' },
];

export const DEFAULT_MODELS: readonly SupportedModel[] = [
  { model_name: 'Qwen/Qwen3-0.6B', max_context_length: 8192, supports_vision_language: false },
  { model_name: 'Qwen/Qwen3-8B', max_context_length: 131072, supports_vision_language: false },
  { model_name: 'Qwen/Qwen3-4B-Instruct-2507', max_context_length: 40960, supports_vision_language: false },
  { model_name: 'Qwen/Qwen3-30B-A3B-Instruct-2507', max_context_length: 131072, supports_vision_language: false },
  { model_name: 'moonshotai/Kimi-K2.6', max_context_length: 131072, supports_vision_language: false },
  { model_name: 'zai-org/GLM-5.2-FP8', max_context_length: 65536, supports_vision_language: false },
];

export const DEFAULT_USER_EMAIL = 'ci@example.com';

const TRAINER_INSTANCE: LoopsInstanceType = {
  id: 'H100x8',
  name: 'H100:8x80GB',
  memory_limit_mib: 1_843_200,
  millicpu_limit: 184_000,
  gpu_count: 8,
  gpu_type: 'H100',
  gpu_memory_limit_mib: 81_920,
};

const SAMPLER_INSTANCE: LoopsInstanceType = {
  id: 'H100x1',
  name: 'H100:1x80GB',
  memory_limit_mib: 230_400,
  millicpu_limit: 23_000,
  gpu_count: 1,
  gpu_type: 'H100',
  gpu_memory_limit_mib: 81_920,
};

const TERMINAL_TRAINER = new Set(['FAILED', 'STOPPED', 'PREEMPTED']);
const DEAD_SAMPLER = new Set([
  'DEPLOY_FAILED',
  'BUILD_FAILED',
  'BUILD_STOPPED',
  'FAILED',
  'INACTIVE',
  'DEACTIVATING',
  'UNHEALTHY',
]);

const MAX_BODY_BYTES = 1024 * 1024;
const RUN_PATH_PATTERN = '^bt://loops:[^/]+/weights/.+$';
const CHECKPOINT_PATH_PATTERN = '^bt://loops:[^/]+/(weights|sampler_weights)/.+$';

// ---------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------

interface SessionState {
  id: string;
  trainingProjectId: string | null;
  createdAt: number;
}

interface SamplerState {
  id: string;
  modelId: string;
  modelDeploymentId: string;
  baseModel: string;
  createdAt: number;
  timeline: TimelineStep[];
  pinned: string | undefined;
}

interface DeploymentState {
  id: string;
  baseModel: string;
  baseUrl: string;
  createdAt: number;
  timeline: TimelineStep[];
  pinned: string | undefined;
  availability: 'dedicated' | 'spot';
  nodeCount: number;
  activeRunId: string | null;
  latestRunId: string | null;
  sampler: SamplerState | null;
}

interface RunState {
  id: string;
  sessionId: string;
  name: string;
  baseModel: string;
  createdAt: number;
  active: boolean;
  deployment: DeploymentState;
  exposeDeploymentId: boolean;
  sampler: SamplerState | null;
  loraRank: number;
}

interface Resp {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  record: RecordedRequest;
  url: URL;
  rawBody: string;
}

interface Route {
  pattern: RegExp;
  methods: Record<string, (ctx: Ctx, params: string[]) => Resp>;
  /** Only present when capabilities are on. */
  capabilitiesOnly?: boolean;
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function json(status: number, body: unknown, headers: Record<string, string> = {}): Resp {
  return {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

function detail(status: number, message: string, headers: Record<string, string> = {}): Resp {
  return json(status, { detail: message }, headers);
}

function validationError(items: ValidationErrorItem[]): Resp {
  return json(422, { detail: items });
}

function statusAt(timeline: readonly TimelineStep[], elapsedMs: number, fallback: string): string {
  let acc = 0;
  for (const step of timeline) {
    if (step.ms === undefined) return step.status;
    acc += step.ms;
    if (elapsedMs < acc) return step.status;
  }
  const last = timeline[timeline.length - 1];
  return last ? last.status : fallback;
}

function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const mime = (value.split(';')[0] ?? '').trim().toLowerCase();
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}

function charLength(s: string): number {
  return [...s].length;
}

// --- pydantic-style field validation ---------------------------------------

interface FieldSpec {
  name: string;
  kind: 'string' | 'integer' | 'enum';
  required?: boolean;
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  gt?: number;
  ge?: number;
  le?: number;
  values?: string[];
}

const CREATE_RUN_FIELDS: FieldSpec[] = [
  { name: 'session_id', kind: 'string', required: true },
  { name: 'base_model', kind: 'string', required: true },
  { name: 'name', kind: 'string', nullable: true, minLength: 1, maxLength: 255 },
  { name: 'max_seq_len', kind: 'integer', nullable: true },
  { name: 'lora_rank', kind: 'integer', ge: 1 },
  { name: 'seed', kind: 'integer', nullable: true },
  { name: 'scale_down_delay_seconds', kind: 'integer', gt: 0, le: 3600 },
  { name: 'availability_model', kind: 'enum', values: ['dedicated', 'spot'] },
  { name: 'replicas', kind: 'integer', ge: 1 },
  { name: 'path', kind: 'string', nullable: true, pattern: RUN_PATH_PATTERN },
  { name: 'reuse_from_run_id', kind: 'string', nullable: true },
  { name: 'reuse_from_session_id', kind: 'string', nullable: true },
];

const CREATE_SESSION_FIELDS: FieldSpec[] = [{ name: 'training_project_id', kind: 'string', nullable: true }];

function validateValue(spec: FieldSpec, value: unknown, loc: (string | number)[]): ValidationErrorItem | undefined {
  if (value === null && spec.nullable) return undefined;
  switch (spec.kind) {
    case 'string': {
      if (typeof value !== 'string') {
        return { type: 'string_type', loc, msg: 'Input should be a valid string', input: value };
      }
      const len = charLength(value);
      if (spec.minLength !== undefined && len < spec.minLength) {
        return {
          type: 'string_too_short',
          loc,
          msg: `String should have at least ${spec.minLength} character${spec.minLength === 1 ? '' : 's'}`,
          input: value,
          ctx: { min_length: spec.minLength },
        };
      }
      if (spec.maxLength !== undefined && len > spec.maxLength) {
        return {
          type: 'string_too_long',
          loc,
          msg: `String should have at most ${spec.maxLength} character${spec.maxLength === 1 ? '' : 's'}`,
          input: value,
          ctx: { max_length: spec.maxLength },
        };
      }
      if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(value)) {
        return {
          type: 'string_pattern_mismatch',
          loc,
          msg: `String should match pattern '${spec.pattern}'`,
          input: value,
          ctx: { pattern: spec.pattern },
        };
      }
      return undefined;
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return { type: 'int_type', loc, msg: 'Input should be a valid integer', input: value };
      }
      if (spec.gt !== undefined && !(value > spec.gt)) {
        return { type: 'greater_than', loc, msg: `Input should be greater than ${spec.gt}`, input: value, ctx: { gt: spec.gt } };
      }
      if (spec.ge !== undefined && !(value >= spec.ge)) {
        return {
          type: 'greater_than_equal',
          loc,
          msg: `Input should be greater than or equal to ${spec.ge}`,
          input: value,
          ctx: { ge: spec.ge },
        };
      }
      if (spec.le !== undefined && !(value <= spec.le)) {
        return {
          type: 'less_than_equal',
          loc,
          msg: `Input should be less than or equal to ${spec.le}`,
          input: value,
          ctx: { le: spec.le },
        };
      }
      return undefined;
    }
    case 'enum': {
      const values = spec.values ?? [];
      if (typeof value !== 'string' || !values.includes(value)) {
        const quoted = values.map((v) => `'${v}'`);
        const expected =
          quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1] ?? ''}`;
        return { type: 'enum', loc, msg: `Input should be ${expected}`, input: value, ctx: { expected } };
      }
      return undefined;
    }
  }
}

function validateObject(fields: FieldSpec[], body: Record<string, unknown>): ValidationErrorItem[] {
  const errors: ValidationErrorItem[] = [];
  for (const spec of fields) {
    if (!Object.prototype.hasOwnProperty.call(body, spec.name)) {
      if (spec.required) errors.push({ type: 'missing', loc: ['body', spec.name], msg: 'Field required', input: body });
      continue;
    }
    const err = validateValue(spec, body[spec.name], ['body', spec.name]);
    if (err) errors.push(err);
  }
  const known = new Set(fields.map((f) => f.name));
  for (const key of Object.keys(body)) {
    if (!known.has(key)) {
      errors.push({ type: 'extra_forbidden', loc: ['body', key], msg: 'Extra inputs are not permitted', input: body[key] });
    }
  }
  return errors;
}

type BodyResult = { ok: true; value: Record<string, unknown> | undefined } | { ok: false; resp: Resp };

/** Parse the request body the way FastAPI would for a pydantic model parameter. */
function readJsonBody(ctx: Ctx, required: boolean): BodyResult {
  const raw = ctx.rawBody;
  if (raw.length === 0) {
    if (required) {
      return { ok: false, resp: validationError([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]) };
    }
    return { ok: true, value: undefined };
  }
  const contentType = ctx.req.headers['content-type'];
  if (!isJsonContentType(contentType)) {
    return {
      ok: false,
      resp: validationError([
        {
          type: 'model_attributes_type',
          loc: ['body'],
          msg: `Input should be a valid dictionary or object to extract fields from (the request has a body but its Content-Type is ${
            contentType ? `'${contentType}'` : 'missing'
          }; send Content-Type: application/json)`,
          input: raw,
        },
      ]),
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    return {
      ok: false,
      resp: validationError([
        {
          type: 'json_invalid',
          loc: ['body', 0],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: e instanceof Error ? e.message : String(e) },
        },
      ]),
    };
  }
  if (parsed === null && !required) return { ok: true, value: undefined };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return {
      ok: false,
      resp: validationError([
        {
          type: 'model_attributes_type',
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          input: parsed,
        },
      ]),
    };
  }
  return { ok: true, value: parsed as Record<string, unknown> };
}

function htmlPage(status: number): string {
  const title = `${status} ${http.STATUS_CODES[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<h1>${title}</h1>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

// ---------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------

interface ResolvedOptions {
  apiKeys: string[];
  forbiddenKeys: string[];
  samplerTimeline: TimelineStep[];
  trainerTimeline: TimelineStep[];
  models: SupportedModel[];
  capabilities: boolean;
  checkpoints: string[];
  rateLimit: { perSecond: number; burst?: number } | undefined;
  latencyMs: number;
  deploymentIdOnRuns: boolean;
  now: () => number;
}

interface QueuedFault {
  spec: FaultSpec;
  remaining: number;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const config: ResolvedOptions = {
    apiKeys: ['test-key'],
    forbiddenKeys: [],
    samplerTimeline: [...DEFAULT_SAMPLER_TIMELINE],
    trainerTimeline: [...DEFAULT_TRAINER_TIMELINE],
    models: DEFAULT_MODELS.map((m) => ({ ...m })),
    capabilities: true,
    checkpoints: [],
    rateLimit: undefined,
    latencyMs: 0,
    deploymentIdOnRuns: true,
    now: Date.now,
  };

  let bucket: { tokens: number; last: number } | undefined;

  function applyOptions(o: Partial<EmulatorOptions>): void {
    if (o.apiKeys !== undefined) config.apiKeys = [...o.apiKeys];
    if (o.forbiddenKeys !== undefined) config.forbiddenKeys = [...o.forbiddenKeys];
    if (o.samplerTimeline !== undefined) {
      if (o.samplerTimeline.length === 0) throw new Error('samplerTimeline must have at least one step');
      config.samplerTimeline = o.samplerTimeline.map((s) => ({ ...s }));
    }
    if (o.trainerTimeline !== undefined) {
      if (o.trainerTimeline.length === 0) throw new Error('trainerTimeline must have at least one step');
      config.trainerTimeline = o.trainerTimeline.map((s) => ({ ...s }));
    }
    if (o.models !== undefined) config.models = o.models.map((m) => ({ ...m }));
    if (o.capabilities !== undefined) config.capabilities = o.capabilities;
    if (o.checkpoints !== undefined) config.checkpoints = [...o.checkpoints];
    if ('rateLimit' in o) {
      if (o.rateLimit !== undefined && !(o.rateLimit.perSecond > 0)) throw new Error('rateLimit.perSecond must be > 0');
      config.rateLimit = o.rateLimit === undefined ? undefined : { ...o.rateLimit };
      bucket = undefined;
    }
    if (o.latencyMs !== undefined) config.latencyMs = Math.max(0, o.latencyMs);
    if (o.deploymentIdOnRuns !== undefined) config.deploymentIdOnRuns = o.deploymentIdOnRuns;
    if (o.now !== undefined) config.now = o.now;
  }
  applyOptions(opts);

  // --- state ---
  const sessions = new Map<string, SessionState>();
  const runs = new Map<string, RunState>();
  const deployments = new Map<string, DeploymentState>();
  const usedIds = new Set<string>();
  let faults: QueuedFault[] = [];
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let closing = false;

  function newId(): string {
    for (;;) {
      const bytes = randomBytes(7);
      let id = '';
      for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
      if (!usedIds.has(id)) {
        usedIds.add(id);
        return id;
      }
    }
  }

  function iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  function later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  }

  // --- views ---
  const user = (): LoopsUser => ({ email: DEFAULT_USER_EMAIL });

  function samplerStatus(s: SamplerState): string {
    return s.pinned ?? statusAt(s.timeline, config.now() - s.createdAt, 'ACTIVE');
  }

  function deploymentStatus(d: DeploymentState): string {
    return d.pinned ?? statusAt(d.timeline, config.now() - d.createdAt, 'RUNNING');
  }

  function samplerView(s: SamplerState): LoopsSampler {
    return {
      id: s.id,
      base_url: `https://model-${s.modelId}.api.baseten.co/environments/loops/sync`,
      base_model: s.baseModel,
      created_at: iso(s.createdAt),
      model_id: s.modelId,
      deployment_id: s.modelDeploymentId,
      status: { name: samplerStatus(s) },
      user: user(),
      instance_type: { ...SAMPLER_INSTANCE },
      node_count: 1,
    };
  }

  function runView(r: RunState): LoopsRun {
    return {
      id: r.id,
      session_id: r.sessionId,
      deployment_id: r.exposeDeploymentId ? r.deployment.id : null,
      name: r.name,
      base_model: r.baseModel,
      base_url: r.deployment.baseUrl,
      created_at: iso(r.createdAt),
      status: { name: r.active ? 'ACTIVE' : 'INACTIVE' },
      user: user(),
      sampler: r.sampler ? samplerView(r.sampler) : null,
    };
  }

  function deploymentView(d: DeploymentState): LoopsDeployment {
    return {
      id: d.id,
      active_run_id: d.activeRunId,
      latest_run_id: d.latestRunId,
      base_model: d.baseModel,
      base_url: d.baseUrl,
      status: { name: deploymentStatus(d) },
      user: user(),
      created_at: iso(d.createdAt),
      availability_model: d.availability,
      instance_type: { ...TRAINER_INSTANCE },
      node_count: d.nodeCount,
      sampler: d.sampler ? samplerView(d.sampler) : null,
    };
  }

  function checkpointView(path: string): LoopsCheckpoint {
    const m = /^bt:\/\/loops:([^/]+)\/(weights|sampler_weights)\/(.+)$/.exec(path);
    const runId = m?.[1] ?? '';
    const run = runs.get(runId);
    const digest = createHash('sha256').update(path).digest();
    const mixed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let id = '';
    for (let i = 0; i < 7; i++) id += mixed[(digest[i] ?? 0) % mixed.length];
    return {
      checkpoint_id: m?.[3] ?? path,
      id,
      run_id: runId,
      target: m?.[2] === 'weights' ? 'trainer' : 'sampler',
      checkpoint_type: 'lora',
      base_model: run?.baseModel ?? null,
      lora_adapter_config: { r: run?.loraRank ?? 64 },
      size_bytes: 100_000_000 + (digest.readUInt32BE(8) % 100_000_000),
      sync_status: 'COMPLETE',
      created_at: iso(run?.createdAt ?? config.now()),
    };
  }

  // --- route handlers ---
  function createSession(ctx: Ctx): Resp {
    const body = readJsonBody(ctx, false);
    if (!body.ok) return body.resp;
    const errors = body.value ? validateObject(CREATE_SESSION_FIELDS, body.value) : [];
    if (errors.length > 0) return validationError(errors);
    const tp = body.value?.['training_project_id'];
    const s: SessionState = { id: newId(), trainingProjectId: typeof tp === 'string' ? tp : null, createdAt: config.now() };
    sessions.set(s.id, s);
    return json(200, { session: { id: s.id } });
  }

  function getSession(_ctx: Ctx, [id]: string[]): Resp {
    const s = sessions.get(id ?? '');
    return s ? json(200, { session: { id: s.id } }) : detail(404, 'Session not found');
  }

  function findReusable(body: Record<string, unknown>, baseModel: string): RunState | undefined {
    const replicas = typeof body['replicas'] === 'number' ? body['replicas'] : 1;
    if (replicas !== 1) return undefined;
    let candidate: RunState | undefined;
    const byRun = body['reuse_from_run_id'];
    const bySession = body['reuse_from_session_id'];
    if (typeof byRun === 'string') {
      candidate = runs.get(byRun);
    } else if (typeof bySession === 'string') {
      candidate = [...runs.values()].reverse().find((r) => r.sessionId === bySession && r.baseModel === baseModel);
    }
    if (!candidate || candidate.baseModel !== baseModel) return undefined;
    if (TERMINAL_TRAINER.has(deploymentStatus(candidate.deployment))) return undefined;
    return candidate;
  }

  function createRun(ctx: Ctx): Resp {
    const parsed = readJsonBody(ctx, true);
    if (!parsed.ok) return parsed.resp;
    const body = parsed.value ?? {};
    const errors = validateObject(CREATE_RUN_FIELDS, body);
    if (errors.length > 0) return validationError(errors);
    const sessionId = body['session_id'] as string;
    if (!sessions.has(sessionId)) return detail(404, 'Session not found');
    const baseModel = body['base_model'] as string;
    const now = config.now();
    const name = typeof body['name'] === 'string' ? body['name'] : baseModel;
    const replicas = typeof body['replicas'] === 'number' ? body['replicas'] : 1;
    const availability = body['availability_model'] === 'spot' ? 'spot' : 'dedicated';
    const loraRank = typeof body['lora_rank'] === 'number' ? body['lora_rank'] : 64;

    const reuse = findReusable(body, baseModel);
    let deployment: DeploymentState;
    let sampler: SamplerState;
    if (reuse) {
      deployment = reuse.deployment;
      const prevSampler = reuse.sampler;
      sampler =
        prevSampler && !DEAD_SAMPLER.has(samplerStatus(prevSampler))
          ? prevSampler
          : newSampler(baseModel, now);
      const prevActive = deployment.activeRunId ? runs.get(deployment.activeRunId) : undefined;
      if (prevActive) prevActive.active = false;
    } else {
      const depId = newId();
      deployment = {
        id: depId,
        baseModel,
        baseUrl: `https://model-${newId()}.api.baseten.co/environments/loops-trainer/sync`,
        createdAt: now,
        timeline: config.trainerTimeline.map((s) => ({ ...s })),
        pinned: undefined,
        availability,
        nodeCount: replicas,
        activeRunId: null,
        latestRunId: null,
        sampler: null,
      };
      deployments.set(depId, deployment);
      sampler = newSampler(baseModel, now);
    }
    const run: RunState = {
      id: newId(),
      sessionId,
      name,
      baseModel,
      createdAt: now,
      active: true,
      deployment,
      exposeDeploymentId: config.deploymentIdOnRuns,
      sampler,
      loraRank,
    };
    runs.set(run.id, run);
    deployment.activeRunId = run.id;
    deployment.latestRunId = run.id;
    deployment.sampler = sampler;
    return json(200, { run: runView(run) });
  }

  function newSampler(baseModel: string, now: number): SamplerState {
    return {
      id: newId(),
      modelId: newId(),
      modelDeploymentId: newId(),
      baseModel,
      createdAt: now,
      timeline: config.samplerTimeline.map((s) => ({ ...s })),
      pinned: undefined,
    };
  }

  function listRuns(ctx: Ctx): Resp {
    const q = ctx.url.searchParams;
    const runId = q.get('run_id');
    const baseModel = q.get('base_model');
    const list = [...runs.values()]
      .reverse()
      .filter((r) => (runId === null || r.id === runId) && (baseModel === null || r.baseModel === baseModel))
      .map(runView);
    return json(200, { runs: list });
  }

  function getRun(_ctx: Ctx, [id]: string[]): Resp {
    const r = runs.get(id ?? '');
    return r ? json(200, { run: runView(r) }) : detail(404, 'Run not found');
  }

  function deactivate(r: RunState): void {
    const d = r.deployment;
    const ownsInfra = d.activeRunId === null || d.activeRunId === r.id;
    r.active = false;
    if (ownsInfra) {
      d.pinned = 'STOPPED';
      d.activeRunId = null;
      if (r.sampler) r.sampler.pinned = 'INACTIVE';
    }
  }

  function deactivateRun(_ctx: Ctx, [id]: string[]): Resp {
    const r = runs.get(id ?? '');
    if (!r) return detail(404, 'Run not found');
    deactivate(r);
    const out: DeactivatedResource = { id: r.id, base_model: r.baseModel, user: user() };
    return json(200, out);
  }

  function getDeployment(_ctx: Ctx, [id]: string[]): Resp {
    const d = deployments.get(id ?? '');
    return d ? json(200, { deployment: deploymentView(d) }) : detail(404, 'Deployment not found');
  }

  /** Every deployment, newest first (the API returns them in every status; clients filter). */
  function listDeployments(): Resp {
    const all = [...deployments.values()].reverse().map(deploymentView);
    return json(200, { deployments: all });
  }

  function getCapabilities(ctx: Ctx): Resp {
    const model = ctx.url.searchParams.get('model');
    const list = config.models
      .filter((m) => model === null || model === '' || m.model_name === model)
      .map((m) => {
        const out: Record<string, unknown> = {
          model_name: m.model_name,
          max_context_length: m.max_context_length,
          supports_vision_language: m.supports_vision_language,
        };
        if (m.max_seq_len !== undefined) out['max_seq_len'] = m.max_seq_len;
        if (m.enabled !== undefined) out['enabled'] = m.enabled;
        return out;
      });
    return json(200, { supported_models: list });
  }

  function listCheckpoints(ctx: Ctx): Resp {
    const q = ctx.url.searchParams;
    const path = q.get('checkpoint_path');
    if (path !== null && !new RegExp(CHECKPOINT_PATH_PATTERN).test(path)) {
      return validationError([
        {
          type: 'string_pattern_mismatch',
          loc: ['query', 'checkpoint_path'],
          msg: `String should match pattern '${CHECKPOINT_PATH_PATTERN}'`,
          input: path,
          ctx: { pattern: CHECKPOINT_PATH_PATTERN },
        },
      ]);
    }
    const given = ['run_id', 'base_model', 'checkpoint_path'].filter((k) => q.has(k)).length;
    if (given !== 1) return detail(400, 'Exactly one of run_id, base_model or checkpoint_path is required');
    if (path !== null && config.checkpoints.includes(path)) {
      return json(200, { checkpoints: [checkpointView(path)] });
    }
    return json(200, { checkpoints: [] });
  }

  const routes: Route[] = [
    { pattern: /^\/v1\/loops\/sessions$/, methods: { POST: createSession } },
    { pattern: /^\/v1\/loops\/sessions\/([^/]+)$/, methods: { GET: getSession } },
    { pattern: /^\/v1\/loops\/runs$/, methods: { GET: listRuns, POST: createRun } },
    { pattern: /^\/v1\/loops\/runs\/([^/]+)$/, methods: { GET: getRun } },
    { pattern: /^\/v1\/loops\/runs\/([^/]+)\/deactivate$/, methods: { POST: deactivateRun } },
    { pattern: /^\/v1\/loops\/deployments$/, methods: { GET: listDeployments } },
    { pattern: /^\/v1\/loops\/deployments\/([^/]+)$/, methods: { GET: getDeployment } },
    { pattern: /^\/v1\/loops\/capabilities$/, methods: { GET: getCapabilities }, capabilitiesOnly: true },
    { pattern: /^\/v1\/loops\/checkpoints$/, methods: { GET: listCheckpoints }, capabilitiesOnly: true },
  ];

  function route(ctx: Ctx): Resp {
    const method = (ctx.req.method ?? 'GET').toUpperCase();
    const pathname = ctx.url.pathname;
    for (const r of routes) {
      const m = r.pattern.exec(pathname);
      if (!m) continue;
      if (r.capabilitiesOnly && !config.capabilities) return detail(404, 'Not Found');
      const handler = r.methods[method];
      if (!handler) {
        return detail(405, 'Method Not Allowed', { Allow: Object.keys(r.methods).join(', ') });
      }
      let params: string[];
      try {
        params = m.slice(1).map((p) => decodeURIComponent(p));
      } catch {
        return detail(404, 'Not Found');
      }
      return handler(ctx, params);
    }
    return detail(404, 'Not Found');
  }

  // --- rate limiting and auth ---
  function takeToken(): number | undefined {
    const rl = config.rateLimit;
    if (!rl) return undefined;
    const burst = Math.max(1, rl.burst ?? Math.ceil(rl.perSecond));
    const t = performance.now();
    if (!bucket) bucket = { tokens: burst, last: t };
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.last) / 1000) * rl.perSecond);
    bucket.last = t;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rl.perSecond));
  }

  function authenticate(req: http.IncomingMessage): Resp | undefined {
    const header = req.headers.authorization;
    const m = header ? /^(Bearer|Api-Key)\s+(\S+)\s*$/i.exec(header) : null;
    const key = m?.[2];
    if (key !== undefined && config.apiKeys.includes(key)) return undefined;
    if (key !== undefined && config.forbiddenKeys.includes(key)) {
      return detail(403, 'This API key does not have the required permissions for this resource');
    }
    return detail(401, 'Invalid or missing API key');
  }

  function takeFault(method: string, pathname: string): FaultSpec | undefined {
    for (const f of faults) {
      if (f.spec.method && f.spec.method.toUpperCase() !== method) continue;
      const p = f.spec.path;
      let hit: boolean;
      if (typeof p === 'string') {
        hit = p === pathname;
      } else {
        p.lastIndex = 0;
        hit = p.test(pathname);
      }
      if (!hit) continue;
      f.remaining -= 1;
      if (f.remaining <= 0) faults = faults.filter((x) => x !== f);
      return f.spec;
    }
    return undefined;
  }

  // --- output ---
  function socketGone(ctx: Ctx): boolean {
    const s = ctx.res.socket;
    return closing || ctx.res.writableEnded || ctx.res.destroyed || !s || s.destroyed;
  }

  function withLatency(fn: () => void): void {
    if (config.latencyMs > 0) later(config.latencyMs, fn);
    else fn();
  }

  function send(ctx: Ctx, r: Resp): void {
    withLatency(() => {
      if (socketGone(ctx)) return;
      ctx.record.status = r.status;
      ctx.res.writeHead(r.status, { ...r.headers, 'Content-Length': String(Buffer.byteLength(r.body)) });
      ctx.res.end(r.body);
    });
  }

  function drop(ctx: Ctx): void {
    ctx.record.status = 0;
    ctx.req.socket.destroy();
  }

  function sendTruncated(ctx: Ctx, r: Resp): void {
    withLatency(() => {
      if (socketGone(ctx)) return;
      const full = Buffer.from(r.body);
      const half = full.subarray(0, Math.max(1, Math.floor(full.length / 2)));
      ctx.record.status = r.status;
      ctx.res.writeHead(r.status, { ...r.headers, 'Content-Length': String(full.length) });
      ctx.res.write(half, () => {
        ctx.req.socket.destroy();
      });
    });
  }

  function faultResponse(spec: FaultSpec, ctx: Ctx, routed: Resp | undefined): void {
    const extra = spec.headers ?? {};
    switch (spec.kind) {
      case 'status': {
        const status = spec.status ?? 500;
        const body = spec.body ?? { detail: 'Injected fault' };
        let resp: Resp;
        if (typeof body === 'string') {
          let isJson = true;
          try {
            JSON.parse(body);
          } catch {
            isJson = false;
          }
          resp = { status, headers: { 'Content-Type': isJson ? 'application/json' : 'text/plain; charset=utf-8' }, body };
        } else {
          resp = json(status, body);
        }
        resp.headers = { ...resp.headers, ...extra };
        send(ctx, resp);
        return;
      }
      case 'transform': {
        const answer = routed ?? route(ctx);
        const changed = spec.transform ? spec.transform(JSON.parse(answer.body)) : JSON.parse(answer.body);
        send(ctx, { ...answer, headers: { ...answer.headers, ...extra }, body: JSON.stringify(changed) });
        return;
      }
      case 'html': {
        const status = spec.status ?? 502;
        send(ctx, { status, headers: { 'Content-Type': 'text/html', ...extra }, body: htmlPage(status) });
        return;
      }
      case 'redirect': {
        const status = spec.status ?? 307;
        const location = spec.location ?? `${emulator.url}${ctx.url.pathname}${ctx.url.search}`;
        send(ctx, json(status, { detail: 'Redirect' }, { Location: location, ...extra }));
        return;
      }
      case 'drop':
        drop(ctx);
        return;
      case 'garbage': {
        const headers = { 'Content-Type': 'application/json', ...extra };
        if (spec.body !== undefined) {
          const body = typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
          send(ctx, { status: 200, headers, body });
          return;
        }
        const full =
          routed && routed.body.length >= 2
            ? routed.body
            : JSON.stringify({ run: { id: 'abc1234', status: { name: 'ACTIVE' }, base_url: 'https://example.invalid' } });
        sendTruncated(ctx, { status: 200, headers, body: full });
        return;
      }
      case 'delay': {
        // Handled by the caller.
        return;
      }
    }
  }

  // --- request handling ---
  async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > MAX_BODY_BYTES) return undefined;
      chunks.push(buf);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    const record: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body: undefined,
      status: 0,
      at: config.now(),
    };
    requests.push(record);

    let rawBody: string | undefined;
    try {
      rawBody = await readBody(req);
    } catch {
      return; // client went away mid-body
    }
    const ctx: Ctx = { req, res, record, url, rawBody: rawBody ?? '' };
    if (rawBody === undefined) {
      send(ctx, detail(413, 'Request body too large'));
      return;
    }
    if (rawBody.length > 0) {
      try {
        record.body = JSON.parse(rawBody);
      } catch {
        record.body = rawBody;
      }
    }

    const retryAfter = takeToken();
    if (retryAfter !== undefined) {
      send(ctx, detail(429, 'Rate limit exceeded', { 'Retry-After': String(retryAfter) }));
      return;
    }
    const authError = authenticate(req);
    if (authError) {
      send(ctx, authError);
      return;
    }

    const fault = takeFault(record.method, url.pathname);
    if (!fault) {
      send(ctx, route(ctx));
      return;
    }
    const when = fault.when ?? 'before';
    if (fault.kind === 'delay') {
      const ms = fault.delayMs ?? 60_000;
      if (when === 'after') {
        const resp = route(ctx);
        const t = later(ms, () => send(ctx, resp));
        res.on('close', () => clearPending(t));
      } else if (when === 'late') {
        // A slow server: it acts after the delay whether or not the client is still waiting.
        later(ms, () => {
          const resp = route(ctx);
          if (!socketGone(ctx)) send(ctx, resp);
        });
      } else {
        const t = later(ms, () => {
          if (socketGone(ctx)) return; // client gave up: the route never runs
          send(ctx, route(ctx));
        });
        res.on('close', () => clearPending(t));
      }
      return;
    }
    if (when === 'after') {
      const resp = route(ctx);
      faultResponse(fault, ctx, resp);
    } else {
      faultResponse(fault, ctx, undefined);
    }
  }

  function clearPending(t: NodeJS.Timeout): void {
    clearTimeout(t);
    timers.delete(t);
  }

  // --- server ---
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        const body = JSON.stringify({ detail: `Emulator error: ${err instanceof Error ? err.message : String(err)}` });
        res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
        res.end(body);
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closePromise: Promise<void> | undefined;

  const emulator: Emulator = {
    url: `http://${urlHost}:${port}`,
    port,
    requests,
    runs: () => [...runs.values()].map(runView),
    sessions: () => [...sessions.keys()],
    fault(spec: FaultSpec): void {
      const times = spec.times ?? 1;
      if (!(times > 0)) throw new Error('fault.times must be > 0');
      faults.push({ spec: { ...spec }, remaining: times });
    },
    clearFaults(): void {
      faults = [];
    },
    setSamplerStatus(runId: string, status: string): void {
      const r = runs.get(runId);
      if (!r) throw new Error(`Unknown run ${runId}`);
      if (!r.sampler) throw new Error(`Run ${runId} has no sampler`);
      r.sampler.pinned = status;
    },
    setTrainerStatus(runId: string, status: string): void {
      const r = runs.get(runId);
      if (!r) throw new Error(`Unknown run ${runId}`);
      r.deployment.pinned = status;
    },
    configure(o: Partial<EmulatorOptions>): void {
      applyOptions(o);
    },
    reset(): void {
      sessions.clear();
      runs.clear();
      deployments.clear();
      usedIds.clear();
      faults = [];
      requests.length = 0;
      bucket = undefined;
    },
    close(): Promise<void> {
      if (closePromise) return closePromise;
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      closePromise = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        sockets.clear();
      });
      return closePromise;
    },
  };
  return emulator;
}
