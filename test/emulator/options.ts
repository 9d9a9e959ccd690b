/** The emulator's public API: its options, its fault specs, what it records and its handle. */
import type { StoryName } from './stories.js';
import type { LogLevel } from './store.js';
import type { CheckpointSpec, LoopsCheckpoint, LoopsRun, SupportedModel, TimelineStep } from './types.js';

export type FaultKind = 'status' | 'drop' | 'delay' | 'garbage' | 'html' | 'redirect' | 'transform';

export interface FaultSpec {
  /** HTTP method to match; default any. */
  method?: string;
  /** Matched against the URL pathname (exact string, or RegExp). Sampler paths too. */
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
   * if omitted, the response is truncated mid-body.
   */
  body?: string | object;
  /** Extra response headers, e.g. {'Retry-After': '2'}. */
  headers?: Record<string, string>;
  /** Armed only once a request matching this has been received (not that request itself): a fault at a chosen moment. */
  afterSeen?: { method?: string; path: string | RegExp };
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

/** What POST /v1/loops/runs/{id}/deactivate answers for a run that is already INACTIVE. */
export type DeactivateInactive = 'ok' | 'conflict' | 'not_found';

/** Where samplers say they live (their base_url). */
export type SamplerBaseUrl = 'emulator' | 'baseten' | ((modelId: string) => string);

/** Where trainers say they live (a run's and its deployment's base_url); a function gets the deployment id. */
export type TrainerBaseUrl = 'emulator' | 'baseten' | ((deploymentId: string) => string);

export interface EmulatorOptions {
  host?: string;
  port?: number;
  apiKeys?: string[];
  forbiddenKeys?: string[];
  samplerTimeline?: TimelineStep[];
  trainerTimeline?: TimelineStep[];
  models?: SupportedModel[];
  capabilities?: boolean;
  /** Planted checkpoints: a path, or a path with the fields to show. */
  checkpoints?: Array<string | CheckpointSpec>;
  /** An extra limit on every API request (a token bucket answering Retry-After), on top of endpointRateLimits. */
  rateLimit?: { perSecond: number; burst?: number };
  latencyMs?: number;
  deploymentIdOnRuns?: boolean;
  /** The server clock (ms): created_at, status timelines, the Date header. Default Date.now. */
  now?: () => number;
  /** Default true; false: answers carry no Date header (a proxy that strips it), so a client cannot learn the server's clock. */
  dateHeader?: boolean;
  /** For this long after a run is created, reads do not see it (404, left out of lists). Default 0. */
  readAfterWriteMs?: number;
  /** Default 'ok'. */
  deactivateInactive?: DeactivateInactive;
  /** API key → user email (keys listed here are valid keys). Default: every key is ci@example.com. */
  users?: Record<string, string>;
  /** For this long after a sampler is created its base_url is "". Default 0. */
  samplerUrlDelayMs?: number;
  /** The create-run body fields this server knows; others get 422 extra_forbidden. Default: all. */
  createRunFields?: string[];
  /** Every JSON body starts with a UTF-8 BOM. */
  bom?: boolean;
  /** Default 'emulator': `${url}/sampler/${model_id}`, served by this emulator. */
  samplerBaseUrl?: SamplerBaseUrl;
  /**
   * 'emulator': `${url}/trainer/${deployment id}`, where this emulator answers what the SDK calls
   * on a trainer (trainer.ts). Default 'baseten': `https://model-….api.baseten.co/…`, the form of
   * the real API, which nothing here serves. The default stays 'baseten' because no action calls
   * a trainer, so no test needs one served, and the tests of the run record pin that shape; the
   * demo, which prints every URL it is given, asks for 'emulator'.
   */
  trainerBaseUrl?: TrainerBaseUrl;
  /** How long a woken sampler stays WAKING_UP (its trainer DEPLOYING). Default 300. */
  wakeMs?: number;
  /** A deployment idle for scale_down_delay_seconds × this many ms scales to zero. Default 0 = never. */
  scaleDownMsPerSecond?: number;
  /**
   * Which models this workspace may run serverless (of those whose entry says `serverless`).
   * Default 'none': every run is dedicated, as before serverless existed, so that the tests of the
   * dedicated path keep their meaning; a test or the demo asks for serverless.
   */
  serverlessAccess?: ServerlessAccess;
  /** How a serverless run's sampler looks (the JSON is not published). */
  serverlessSampler?: ServerlessSampler;
  /** Capacity refusals: the next `refusals` creates answer 429 loops_capacity (Infinity: all of them). Default none. */
  capacity?: { refusals: number; retryAfterSeconds?: number };
  /** Baseten's documented management-API rate limits, per key and per endpoint; false turns them off. Default on. */
  endpointRateLimits?: EndpointRateLimits | false;
  /**
   * The failure story of deployments created from now on (stories.ts): their status timelines
   * and log lines. Undefined: the configured timelines, with a log line as each status begins.
   */
  story?: StoryName;
}

export type ServerlessAccess = 'none' | 'all' | string[];

export interface ServerlessSampler {
  /** 'absent' (default): no `status` field; 'shown': the status the timeline gives; 'empty': `status: ""`. */
  status?: 'absent' | 'shown' | 'empty';
  /** Default true: a base URL this emulator serves /v1/models at; false: base_url "". */
  baseUrl?: boolean;
  /** What its /v1/models answers over time: ACTIVE answers, anything before is a 503. Default: ACTIVE at once. */
  timeline?: TimelineStep[];
}

/** "All other /v1/* endpoints 100 requests/second"; "deployment activate/deactivate 20/min". */
export interface EndpointRateLimits {
  perSecond: number;
  deploymentActionsPerMinute: number;
}

/** A log line a test adds to a run's trainer or sampler (emulator.addLogs). */
export interface AddedLogLine {
  message: string;
  /** Default INFO; null: no level. */
  level?: LogLevel | null;
  replica?: string | null;
  /** Server-clock ms; default now. */
  atMs?: number;
  /** Nanoseconds into that millisecond (lines with the same atMs and ns share one timestamp); default 0. */
  ns?: number;
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

/** Server-clock ms; `to` undefined while the GPUs are still held. */
export interface GpuInterval {
  from: number;
  to?: number;
}

export interface DeploymentUsage {
  id: string;
  /** Every run that ran on it, oldest first. */
  runIds: string[];
  createdAt: number;
  /** When the trainer held GPUs (CREATED/DEPLOYING/RUNNING). */
  gpu: GpuInterval[];
}

export interface CreateRunOptions {
  /** The API key that creates it (its user owns the run). Default: the first known key. */
  key?: string;
  /** Server-clock ms; default now. A time in the past plants an old run. */
  createdAt?: number;
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
  /** Creates a run through the same validation and store code as POST /v1/loops/runs. */
  createRun(body: Record<string, unknown>, opts?: CreateRunOptions): LoopsRun;
  createSession(): string;
  /** Adds a LoRA adapter to the run's sampler (listed by its /v1/models). */
  publishAdapter(runId: string, name: string): void;
  /** Puts the run's deployment and sampler in SCALED_TO_ZERO now. */
  scaleToZero(runId: string): void;
  /** GPU accounting, one entry per dedicated deployment, oldest first (serverless runs hold no GPUs). */
  deployments(): DeploymentUsage[];
  /** The planted checkpoints that still exist, as GET /v1/loops/checkpoints lists them. */
  checkpoints(): LoopsCheckpoint[];
  /** Adds lines to the logs of the run's trainer (its Loops deployment) or sampler. */
  addLogs(runId: string, target: 'trainer' | 'sampler', lines: AddedLogLine[]): void;
}
