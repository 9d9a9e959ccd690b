// Raw action inputs → one validated, typed Settings object. Pure: no I/O.
// Every problem is collected so that the user sees all of them at once.

export type WaitFor = 'none' | 'sampler' | 'trainer' | 'all';
export type AvailabilityModel = 'dedicated' | 'spot';

export interface Settings {
  /** Empty only in a dry run without a key. */
  apiKey: string;
  apiBaseUrl: string;
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
  maxRetries: number;
  requestTimeoutSeconds: number;
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
} as const satisfies Record<string, string>;

export type InputReader = (name: string) => string;

export type ParseResult =
  | { ok: true; settings: Settings; warnings: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

export const MISSING_KEY_MESSAGE =
  'api_key: no Baseten API key. Pass `api_key: ${{ secrets.BASETEN_API_KEY }}` or set the BASETEN_API_KEY ' +
  'environment variable. If the secret is set, note that GitHub does not pass secrets to workflows triggered ' +
  'from forks or by Dependabot; use `dry_run: true` for those, or run on pull_request_target with care.';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9._-]+)?$/;
const TRAINER_CHECKPOINT = /^bt:\/\/loops:[^/\s]+\/weights\/\S+$/;
const SAMPLER_CHECKPOINT = /^bt:\/\/loops:[^/\s]+\/sampler_weights\/\S+$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Loopback hosts for which plain http is allowed (the local emulator, a tunnel). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function show(value: string): string {
  const clipped = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return JSON.stringify(clipped);
}

/** Parses and checks every input; never throws. */
export function parseInputs(read: InputReader, env: Record<string, string | undefined>): ParseResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const raw = (name: string): string => (read(name) ?? '').trim();
  const withDefault = (name: keyof typeof DEFAULTS): string => raw(name) || DEFAULTS[name];
  const optional = (name: string): string | undefined => raw(name) || undefined;

  const bool = (name: keyof typeof DEFAULTS): boolean => {
    const value = withDefault(name);
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE'].includes(value)) return false;
    errors.push(`${name}: must be true or false (got ${show(value)})`);
    return false;
  };

  const integer = (name: string, value: string | undefined, min?: number, max?: number): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^[+-]?\d+$/.test(value)) {
      errors.push(`${name}: must be a whole number${range(min, max)} (got ${show(value)})`);
      return undefined;
    }
    const n = Number(value);
    if (!Number.isSafeInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
      errors.push(`${name}: must be a whole number${range(min, max)} (got ${show(value)})`);
      return undefined;
    }
    return n;
  };

  const decimal = (name: string, value: string, min: number, max: number): number | undefined => {
    if (!/^\+?(\d+(\.\d*)?|\.\d+)$/.test(value)) {
      errors.push(`${name}: must be a number${range(min, max)} (got ${show(value)})`);
      return undefined;
    }
    const n = Number(value);
    if (!(n >= min && n <= max)) {
      errors.push(`${name}: must be a number${range(min, max)} (got ${show(value)})`);
      return undefined;
    }
    return n;
  };

  const oneOf = <T extends string>(name: keyof typeof DEFAULTS, allowed: readonly T[]): T => {
    const value = withDefault(name).toLowerCase();
    if ((allowed as readonly string[]).includes(value)) return value as T;
    errors.push(`${name}: must be one of ${allowed.join(', ')} (got ${show(withDefault(name))})`);
    return allowed[0] as T;
  };

  const id = (name: string): string | undefined => {
    const value = optional(name);
    if (value !== undefined && !ID_PATTERN.test(value)) {
      errors.push(`${name}: must be a Loops ID (letters, digits, '-' or '_'; got ${show(value)})`);
      return undefined;
    }
    return value;
  };

  // The key: from the input, else the environment. Never echoed.
  const dryRun = bool('dry_run');
  const apiKey = raw('api_key') || (env.BASETEN_API_KEY ?? '').trim();
  if (!apiKey && !dryRun) errors.push(MISSING_KEY_MESSAGE);
  // Only printable ASCII can travel in a header; anything else is a copy-paste accident.
  if (apiKey && !/^[\x21-\x7e]+$/.test(apiKey)) {
    errors.push('api_key: contains spaces, control or non-ASCII characters; check how the secret was stored');
  }

  const apiBaseUrl = parseBaseUrl(withDefault('api_base_url'), errors);

  const baseModel = raw('base_model');
  if (!baseModel) errors.push('base_model: required (a Hugging Face model ID such as Qwen/Qwen3-8B)');
  else if (!MODEL_PATTERN.test(baseModel) || baseModel.length > 200) {
    errors.push(`base_model: must be a Hugging Face model ID such as Qwen/Qwen3-8B (got ${show(baseModel)})`);
  }

  const sessionId = id('session_id');
  const trainingProjectId = id('training_project_id');
  if (sessionId && trainingProjectId) {
    warnings.push('training_project_id is ignored because session_id reuses an existing session');
  }

  const runName = optional('run_name');
  if (runName !== undefined && (runName.length > 255 || CONTROL_CHARS.test(runName))) {
    errors.push(`run_name: must be 1 to 255 printable characters (got ${runName.length} characters)`);
  }

  const loraRank = integer('lora_rank', withDefault('lora_rank'), 1);
  const maxSeqLen = integer('max_seq_len', optional('max_seq_len'), 1);
  const seed = integer('seed', optional('seed'));
  const scaleDown = integer('scale_down_delay_seconds', withDefault('scale_down_delay_seconds'), 1, 3600);

  const checkpointPath = optional('checkpoint_path');
  if (checkpointPath !== undefined && !TRAINER_CHECKPOINT.test(checkpointPath)) {
    const hint = SAMPLER_CHECKPOINT.test(checkpointPath)
      ? '; that is a sampler checkpoint (sampler_weights), a run starts from a trainer checkpoint (weights)'
      : '';
    errors.push(
      `checkpoint_path: must look like bt://loops:<run_id>/weights/<checkpoint_name> (got ${show(checkpointPath)})${hint}`,
    );
  }

  const reuseFromRunId = id('reuse_from_run_id');
  const reuseFromSessionId = id('reuse_from_session_id');
  if (reuseFromSessionId) {
    warnings.push('reuse_from_session_id is deprecated by the Loops API; prefer reuse_from_run_id');
  }

  const availabilityModel = oneOf('availability_model', ['dedicated', 'spot'] as const);
  const replicas = integer('replicas', withDefault('replicas'), 1);
  if (replicas !== undefined && replicas !== 1 && (reuseFromRunId || reuseFromSessionId)) {
    warnings.push('replicas is not 1, so the API provisions fresh infrastructure instead of reusing it');
  }
  const waitFor = oneOf('wait_for', ['none', 'sampler', 'trainer', 'all'] as const);
  const waitTimeout = integer('wait_timeout_seconds', withDefault('wait_timeout_seconds'), 1, 21600);
  const pollInterval = decimal('poll_interval_seconds', withDefault('poll_interval_seconds'), 0.1, 3600);
  const preflight = bool('preflight');
  const deactivateOnFailure = bool('deactivate_on_failure');
  const deactivateAtJobEnd = bool('deactivate_at_job_end');
  const commentOnPr = bool('comment_on_pr');
  const githubToken = raw('github_token') || (env.GITHUB_TOKEN ?? '').trim();
  const maxRetries = integer('max_retries', withDefault('max_retries'), 0, 20);
  const requestTimeout = decimal('request_timeout_seconds', withDefault('request_timeout_seconds'), 0.1, 600);

  if (errors.length > 0) return { ok: false, errors, warnings };
  return {
    ok: true,
    warnings,
    settings: {
      apiKey,
      apiBaseUrl: apiBaseUrl as string,
      baseModel,
      sessionId,
      trainingProjectId,
      runName,
      loraRank: loraRank as number,
      maxSeqLen,
      seed,
      scaleDownDelaySeconds: scaleDown as number,
      checkpointPath,
      reuseFromRunId,
      reuseFromSessionId,
      availabilityModel,
      replicas: replicas as number,
      waitFor,
      waitTimeoutSeconds: waitTimeout as number,
      pollIntervalSeconds: pollInterval as number,
      preflight,
      deactivateOnFailure,
      deactivateAtJobEnd,
      commentOnPr,
      githubToken,
      dryRun,
      maxRetries: maxRetries as number,
      requestTimeoutSeconds: requestTimeout as number,
    },
  };
}

function range(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

function parseBaseUrl(value: string, errors: string[]): string | undefined {
  if (/[?#]/.test(value)) {
    errors.push('api_base_url: must not contain a query or a fragment');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    errors.push(`api_base_url: not a valid URL (got ${show(value)})`);
    return undefined;
  }
  if (url.username || url.password) {
    errors.push('api_base_url: must not contain credentials');
    return undefined;
  }
  if (url.protocol === 'https:') return url.href.replace(/\/+$/, '');
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return url.href.replace(/\/+$/, '');
    errors.push(
      `api_base_url: must use https (plain http is allowed only for localhost, 127.0.0.0/8 and ::1; got ${show(value)})`,
    );
    return undefined;
  }
  errors.push(`api_base_url: must be an https:// URL (got ${show(value)})`);
  return undefined;
}
