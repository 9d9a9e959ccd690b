/** The emulator's settings: defaults, what start and configure() may change, and who a key is. */
import {
  DEFAULT_API_KEY,
  DEFAULT_ENDPOINT_RATE_LIMITS,
  DEFAULT_MODELS,
  DEFAULT_SAMPLER_TIMELINE,
  DEFAULT_TRAINER_TIMELINE,
  DEFAULT_USER_EMAIL,
  DEFAULT_WAKE_MS,
} from './defaults.js';
import type {
  DeactivateInactive,
  EmulatorOptions,
  EndpointRateLimits,
  SamplerBaseUrl,
  ServerlessAccess,
  ServerlessSampler,
  TrainerBaseUrl,
} from './options.js';
import { STORY_NAMES, type StoryName } from './stories.js';
import type { CheckpointSpec, SupportedModel, TimelineStep } from './types.js';
import { type FieldSpec, createRunSpecs } from './validation.js';

export interface Config {
  apiKeys: string[];
  forbiddenKeys: string[];
  samplerTimeline: TimelineStep[];
  trainerTimeline: TimelineStep[];
  models: SupportedModel[];
  capabilities: boolean;
  /** The planted checkpoints that exist (DELETE removes them). */
  checkpoints: CheckpointSpec[];
  rateLimit: { perSecond: number; burst?: number } | undefined;
  latencyMs: number;
  deploymentIdOnRuns: boolean;
  now: () => number;
  dateHeader: boolean;
  readAfterWriteMs: number;
  deactivateInactive: DeactivateInactive;
  users: Record<string, string>;
  samplerUrlDelayMs: number;
  createRunFields: FieldSpec[];
  bom: boolean;
  samplerBaseUrl: SamplerBaseUrl;
  trainerBaseUrl: TrainerBaseUrl;
  wakeMs: number;
  scaleDownMsPerSecond: number;
  serverlessAccess: ServerlessAccess;
  serverlessSampler: Required<ServerlessSampler>;
  /** Capacity refusals still to answer, and the retry_after they carry. */
  capacity: { refusals: number; retryAfterSeconds: number | undefined };
  endpointRateLimits: EndpointRateLimits | false;
  story: StoryName | undefined;
}

const SERVERLESS_SAMPLER: Required<ServerlessSampler> = { status: 'absent', baseUrl: true, timeline: [{ status: 'ACTIVE' }] };

export function defaultConfig(): Config {
  return {
    apiKeys: [DEFAULT_API_KEY],
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
    dateHeader: true,
    readAfterWriteMs: 0,
    deactivateInactive: 'ok',
    users: {},
    samplerUrlDelayMs: 0,
    createRunFields: createRunSpecs(undefined),
    bom: false,
    samplerBaseUrl: 'emulator',
    trainerBaseUrl: 'baseten',
    wakeMs: DEFAULT_WAKE_MS,
    scaleDownMsPerSecond: 0,
    serverlessAccess: 'none',
    serverlessSampler: { ...SERVERLESS_SAMPLER },
    capacity: { refusals: 0, retryAfterSeconds: undefined },
    endpointRateLimits: { ...DEFAULT_ENDPOINT_RATE_LIMITS },
    story: undefined,
  };
}

const checkpointSpec = (c: string | CheckpointSpec): CheckpointSpec => (typeof c === 'string' ? { path: c } : { ...c });

function timeline(name: string, steps: TimelineStep[]): TimelineStep[] {
  if (steps.length === 0) throw new Error(`${name} must have at least one step`);
  return steps.map((s) => ({ ...s }));
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new Error(`${name} must be a finite number ≥ 0`);
  return value;
}

/** The options of the original emulator. Returns true when the rate limit changed. */
function applyBase(c: Config, o: Partial<EmulatorOptions>): boolean {
  if (o.apiKeys !== undefined) c.apiKeys = [...o.apiKeys];
  if (o.forbiddenKeys !== undefined) c.forbiddenKeys = [...o.forbiddenKeys];
  if (o.samplerTimeline !== undefined) c.samplerTimeline = timeline('samplerTimeline', o.samplerTimeline);
  if (o.trainerTimeline !== undefined) c.trainerTimeline = timeline('trainerTimeline', o.trainerTimeline);
  if (o.models !== undefined) c.models = o.models.map((m) => ({ ...m }));
  if (o.capabilities !== undefined) c.capabilities = o.capabilities;
  if (o.checkpoints !== undefined) c.checkpoints = o.checkpoints.map(checkpointSpec);
  if (o.latencyMs !== undefined) c.latencyMs = Math.max(0, o.latencyMs);
  if (o.deploymentIdOnRuns !== undefined) c.deploymentIdOnRuns = o.deploymentIdOnRuns;
  if (o.now !== undefined) c.now = o.now;
  if (o.dateHeader !== undefined) c.dateHeader = o.dateHeader;
  if (!('rateLimit' in o)) return false;
  if (o.rateLimit !== undefined && !(o.rateLimit.perSecond > 0)) throw new Error('rateLimit.perSecond must be > 0');
  c.rateLimit = o.rateLimit === undefined ? undefined : { ...o.rateLimit };
  return true;
}

/** The options that model facts of the real API. */
function applyFacts(c: Config, o: Partial<EmulatorOptions>): void {
  if (o.readAfterWriteMs !== undefined) c.readAfterWriteMs = nonNegative('readAfterWriteMs', o.readAfterWriteMs);
  if (o.deactivateInactive !== undefined) {
    if (!['ok', 'conflict', 'not_found'].includes(o.deactivateInactive)) {
      throw new Error(`deactivateInactive must be 'ok', 'conflict' or 'not_found'`);
    }
    c.deactivateInactive = o.deactivateInactive;
  }
  if (o.users !== undefined) c.users = { ...o.users };
  if (o.samplerUrlDelayMs !== undefined) c.samplerUrlDelayMs = nonNegative('samplerUrlDelayMs', o.samplerUrlDelayMs);
  if ('createRunFields' in o) c.createRunFields = createRunSpecs(o.createRunFields);
  if (o.bom !== undefined) c.bom = o.bom;
  if (o.samplerBaseUrl !== undefined) c.samplerBaseUrl = o.samplerBaseUrl;
  if (o.trainerBaseUrl !== undefined) c.trainerBaseUrl = o.trainerBaseUrl;
  if (o.wakeMs !== undefined) c.wakeMs = nonNegative('wakeMs', o.wakeMs);
  if (o.scaleDownMsPerSecond !== undefined) {
    c.scaleDownMsPerSecond = nonNegative('scaleDownMsPerSecond', o.scaleDownMsPerSecond);
  }
  applyModes(c, o);
}

/** The options of availability modes, capacity, the documented rate limits, and failure stories. */
function applyModes(c: Config, o: Partial<EmulatorOptions>): void {
  if (o.serverlessAccess !== undefined) c.serverlessAccess = Array.isArray(o.serverlessAccess) ? [...o.serverlessAccess] : o.serverlessAccess;
  if (o.serverlessSampler !== undefined) {
    const steps = o.serverlessSampler.timeline;
    c.serverlessSampler = {
      ...SERVERLESS_SAMPLER,
      ...o.serverlessSampler,
      timeline: steps ? timeline('serverlessSampler.timeline', steps) : SERVERLESS_SAMPLER.timeline,
    };
  }
  if (o.capacity !== undefined) {
    const { refusals, retryAfterSeconds } = o.capacity;
    if (!(refusals >= 0)) throw new Error('capacity.refusals must be ≥ 0 (Infinity: every create)');
    c.capacity = { refusals, retryAfterSeconds };
  }
  if (o.endpointRateLimits !== undefined) {
    const limits = o.endpointRateLimits;
    if (limits && !(limits.perSecond > 0 && limits.deploymentActionsPerMinute > 0)) throw new Error('endpointRateLimits must be > 0');
    c.endpointRateLimits = limits && { ...limits };
  }
  if ('story' in o) {
    if (o.story !== undefined && !STORY_NAMES.includes(o.story)) throw new Error(`story must be one of ${STORY_NAMES.join(', ')}`);
    c.story = o.story;
  }
}

/** Applies options (at start or through configure()). Returns true when the rate limit changed. */
export function applyOptions(c: Config, o: Partial<EmulatorOptions>): boolean {
  const rateLimitChanged = applyBase(c, o);
  applyFacts(c, o);
  return rateLimitChanged;
}

/** Keys in apiKeys or users are valid; forbiddenKeys lack the scope. */
export function keyStatus(c: Config, key: string | undefined): 'ok' | 'forbidden' | 'unknown' {
  if (key === undefined) return 'unknown';
  if (c.apiKeys.includes(key)) return 'ok';
  if (c.forbiddenKeys.includes(key)) return 'forbidden';
  return Object.prototype.hasOwnProperty.call(c.users, key) ? 'ok' : 'unknown';
}

export function emailOf(c: Config, key: string | undefined): string {
  if (key !== undefined && Object.prototype.hasOwnProperty.call(c.users, key)) return c.users[key] ?? DEFAULT_USER_EMAIL;
  return DEFAULT_USER_EMAIL;
}

/** The key emulator.createRun uses when none is given. */
export function defaultKey(c: Config): string | undefined {
  return c.apiKeys[0] ?? Object.keys(c.users)[0];
}
