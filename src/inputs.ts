// Raw action inputs → one validated, typed Settings object. Pure: no I/O. Every problem is
// collected so that the user sees all of them at once, each naming its input.

import { SHOW_LOGS, type ShowLogs } from './forensics/show-logs.js';
import { CONTROL_CHARS, FieldReader, type InputReader, show } from './fields.js';

export type { InputReader } from './fields.js';
export type WaitFor = 'none' | 'sampler' | 'trainer' | 'all';

export type AvailabilityModel = 'dedicated' | 'spot';
/** `auto`: Baseten chooses the availability mode (see modes.ts). */
export type Scope = 'auto' | 'serverless' | 'deployment';
/** `auto`: on for events about a pull request. */
export type Toggle = 'auto' | 'true' | 'false';

/** What every entry (main, post, stop) needs to talk to the API. */
export interface Connection {
  /** Empty only in a dry run without a key. */
  apiKey: string;
  apiBaseUrl: string;
  maxRetries: number;
  requestTimeoutSeconds: number;
}

export interface Settings extends Connection {
  baseModel: string;
  sessionId?: string;
  trainingProjectId?: string;
  /** Undefined: derived from the GitHub context. */
  runName?: string;
  loraRank: number;
  maxSeqLen?: number;
  seed?: number;
  scaleDownDelaySeconds: number;
  checkpointPath?: string;
  reuseFromRunId?: string;
  reuseFromSessionId?: string;
  availabilityModel: AvailabilityModel;
  replicas: number;
  waitFor: WaitFor;
  waitTimeoutSeconds: number;
  pollIntervalSeconds: number;
  preflight: boolean;
  deactivateOnFailure: boolean;
  deactivateAtJobEnd: boolean;
  commentOnPr: boolean;
  githubToken: string;
  dryRun: boolean;
  supersede: Toggle;
  warmStart: Toggle;
  adoptOnRerun: boolean;
  legKey: string;
  verifySampler: boolean;
  scope: Scope;
  showLogs: ShowLogs;
}

/** A Toggle for this event: `auto` is on when the event is about a pull request (context.ts pullRequestOf). */
export function isOn(toggle: Toggle, onPullRequest: boolean): boolean {
  return toggle === 'auto' ? onPullRequest : toggle === 'true';
}

/** The defaults declared in action.yml; applied here too so that a missing env var means the same thing. */
export const DEFAULTS = {
  api_base_url: 'https://api.baseten.co',
  lora_rank: '64',
  scale_down_delay_seconds: '3600',
  availability_model: 'dedicated',
  replicas: '1',
  wait_for: 'sampler',
  wait_timeout_seconds: '1800',
  poll_interval_seconds: '10',
  preflight: 'true',
  deactivate_on_failure: 'true',
  deactivate_at_job_end: 'false',
  comment_on_pr: 'false',
  dry_run: 'false',
  max_retries: '4',
  request_timeout_seconds: '30',
  supersede: 'auto',
  warm_start: 'auto',
  adopt_on_rerun: 'true',
  verify_sampler: 'true',
  scope: 'auto',
  show_logs: 'on_failure',
} as const satisfies Record<string, string>;

export type ParseResult<T> = { ok: true; settings: T; warnings: string[] } | { ok: false; errors: string[]; warnings: string[] };

export const MISSING_KEY_MESSAGE =
  'api_key: no Baseten API key. Pass `api_key: ${{ secrets.BASETEN_API_KEY }}` or set the BASETEN_API_KEY ' +
  'environment variable. If the secret is set, note that GitHub does not pass secrets to workflows triggered ' +
  'from forks or by Dependabot; use `dry_run: true` for those, or run on pull_request_target with care.';

const MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9._-]+)?$/;
const TRAINER_CHECKPOINT = /^bt:\/\/loops:[^/\s]+\/weights\/\S+$/;
const SAMPLER_CHECKPOINT = /^bt:\/\/loops:[^/\s]+\/sampler_weights\/\S+$/;

/** Loopback hosts for which plain http is allowed (the local emulator, a tunnel). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** api_key, api_base_url, max_retries, request_timeout_seconds. */
export function readConnection(f: FieldReader, env: Record<string, string | undefined>, keyRequired: boolean): Connection {
  // The key: from the input, else the environment. Never echoed.
  const apiKey = f.text('api_key') || (env.BASETEN_API_KEY ?? '').trim();
  if (!apiKey && keyRequired) f.fail(MISSING_KEY_MESSAGE);
  // Only printable ASCII can travel in a header; anything else is a copy-paste accident.
  if (apiKey && !/^[\x21-\x7e]+$/.test(apiKey)) {
    f.fail('api_key: contains spaces, control or non-ASCII characters; check how the secret was stored');
  }
  return {
    apiKey,
    apiBaseUrl: parseBaseUrl(f, f.text('api_base_url')),
    maxRetries: f.integer('max_retries', { min: 0, max: 20 }),
    requestTimeoutSeconds: f.decimal('request_timeout_seconds', { min: 0.1, max: 600 }),
  };
}

/** Parses and checks every input of the launch step; never throws. */
export function parseInputs(read: InputReader, env: Record<string, string | undefined>): ParseResult<Settings> {
  const f = new FieldReader(read, DEFAULTS);
  const dryRun = f.bool('dry_run');
  const settings: Settings = {
    ...readConnection(f, env, !dryRun),
    baseModel: baseModel(f),
    sessionId: f.id('session_id'),
    trainingProjectId: f.id('training_project_id'),
    runName: runName(f),
    loraRank: f.integer('lora_rank', { min: 1 }),
    maxSeqLen: f.optionalInteger('max_seq_len', { min: 1 }),
    seed: f.optionalInteger('seed'),
    scaleDownDelaySeconds: f.integer('scale_down_delay_seconds', { min: 1, max: 3600 }),
    checkpointPath: checkpointPath(f),
    reuseFromRunId: f.id('reuse_from_run_id'),
    reuseFromSessionId: f.id('reuse_from_session_id'),
    availabilityModel: f.oneOf('availability_model', ['dedicated', 'spot']),
    replicas: f.integer('replicas', { min: 1 }),
    waitFor: f.oneOf('wait_for', ['none', 'sampler', 'trainer', 'all']),
    waitTimeoutSeconds: f.integer('wait_timeout_seconds', { min: 1, max: 21600 }),
    pollIntervalSeconds: f.decimal('poll_interval_seconds', { min: 0.1, max: 3600 }),
    preflight: f.bool('preflight'),
    deactivateOnFailure: f.bool('deactivate_on_failure'),
    deactivateAtJobEnd: f.bool('deactivate_at_job_end'),
    commentOnPr: f.bool('comment_on_pr'),
    githubToken: f.text('github_token') || (env.GITHUB_TOKEN ?? '').trim(),
    dryRun,
    supersede: f.oneOf('supersede', ['auto', 'true', 'false']),
    warmStart: f.oneOf('warm_start', ['auto', 'true', 'false']),
    adoptOnRerun: f.bool('adopt_on_rerun'),
    legKey: f.text('leg_key'),
    verifySampler: f.bool('verify_sampler'),
    scope: f.oneOf('scope', ['auto', 'serverless', 'deployment']),
    showLogs: f.oneOf('show_logs', SHOW_LOGS),
  };
  warnAboutCombinations(f, settings);
  if (f.errors.length > 0) return { ok: false, errors: f.errors, warnings: f.warnings };
  return { ok: true, settings, warnings: f.warnings };
}

function baseModel(f: FieldReader): string {
  const value = f.text('base_model');
  if (!value) f.fail('base_model: required (a Hugging Face model ID such as Qwen/Qwen3-8B)');
  else if (!MODEL_PATTERN.test(value) || value.length > 200) {
    f.fail(`base_model: must be a Hugging Face model ID such as Qwen/Qwen3-8B (got ${show(value)})`);
  }
  return value;
}

/** The API counts a name's length in characters (code points), not UTF-16 units. */
function runName(f: FieldReader): string | undefined {
  const value = f.optional('run_name');
  const length = value === undefined ? 0 : [...value].length;
  if (value !== undefined && (length > 255 || CONTROL_CHARS.test(value))) {
    f.fail(`run_name: must be 1 to 255 printable characters (got ${length} characters)`);
  }
  return value;
}

function checkpointPath(f: FieldReader): string | undefined {
  const value = f.optional('checkpoint_path');
  if (value !== undefined && !TRAINER_CHECKPOINT.test(value)) {
    const hint = SAMPLER_CHECKPOINT.test(value)
      ? `; that is a sampler checkpoint (sampler_weights), a run starts from a trainer checkpoint (weights): ` +
        `use ${value.replace('/sampler_weights/', '/weights/')} if the run saved one`
      : '';
    f.fail(`checkpoint_path: must look like bt://loops:<run_id>/weights/<checkpoint_name> (got ${show(value)})${hint}`);
  }
  return value;
}

function warnAboutCombinations(f: FieldReader, s: Settings): void {
  if (s.runName !== undefined && (s.supersede === 'true' || s.warmStart === 'true')) {
    f.warn('run_name is set, so supersede and warm_start are off: they need the default run name, which says where a run comes from');
  }
  if (s.sessionId && s.trainingProjectId) f.warn('training_project_id is ignored because session_id reuses an existing session');
  if (s.reuseFromSessionId) f.warn('reuse_from_session_id is deprecated by the Loops API; prefer reuse_from_run_id');
  if (s.scope === 'serverless' && (s.reuseFromRunId || s.reuseFromSessionId)) {
    const input = s.reuseFromRunId ? 'reuse_from_run_id' : 'reuse_from_session_id';
    f.fail(
      `scope: serverless cannot go with ${input}: reusing another run's infrastructure makes a run dedicated, so the create would fail. ` +
        `Leave ${input} empty for a serverless run, or set scope: deployment (or auto) to reuse on dedicated GPUs`,
    );
  }
  if (s.replicas !== 1 && (s.reuseFromRunId || s.reuseFromSessionId)) {
    f.warn('replicas is not 1, so the API provisions fresh infrastructure instead of reusing it');
  }
}

function parseBaseUrl(f: FieldReader, value: string): string {
  let url: URL | undefined;
  try {
    url = /[?#]/.test(value) ? undefined : new URL(value);
  } catch {
    url = undefined;
  }
  if (/[?#]/.test(value)) f.fail('api_base_url: must not contain a query or a fragment');
  else if (!url) f.fail(`api_base_url: not a valid URL (got ${show(value)})`);
  else if (url.username || url.password) f.fail('api_base_url: must not contain credentials');
  else if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return url.href.replace(/\/+$/, '');
  } else if (url.protocol === 'http:') {
    f.fail(`api_base_url: must use https (plain http is allowed only for localhost, 127.0.0.0/8 and ::1; got ${show(value)})`);
  } else f.fail(`api_base_url: must be an https:// URL (got ${show(value)})`);
  return '';
}
