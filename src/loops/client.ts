// The Loops API: one method per route the action uses. Every method takes the same per-call
// options and retries with the shared policy, except createRun: creating a run is not
// idempotent, so it is one attempt and launch.ts decides what follows a failure.

import type { Log } from '../core/log.js';
import type { Clock, RetryPolicy } from '../core/retry.js';
import { withRetry } from '../core/retry.js';
import { interpret, scrub } from './answers.js';
import { Transport } from './http.js';
import { type Checkpoint, type SupportedModel, parseCapabilities, parseCheckpoints } from './catalog.js';
import { type LogLevel, type LogLine, parseLogs } from './logs.js';
import {
  type Deployment,
  type ListedDeployment,
  type Run,
  parseDeactivated,
  parseDeploymentEnvelope,
  parseDeploymentList,
  parseRunEnvelope,
  parseRunList,
  parseSessionEnvelope,
} from './types.js';

export interface CreateRunBody {
  session_id: string;
  base_model: string;
  name: string;
  lora_rank?: number;
  scale_down_delay_seconds?: number;
  availability_model?: string;
  replicas?: number;
  max_seq_len?: number;
  seed?: number;
  path?: string;
  reuse_from_run_id?: string;
  reuse_from_session_id?: string;
  /** Assumed REST spelling of the SDK's scope (see modes.ts); sent only when not `auto`. */
  scope?: 'serverless' | 'deployment';
}

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  policy: RetryPolicy;
  clock: Clock;
  /** Retry lines go to `info`. */
  log: Log;
  userAgent: string;
}

/** Limits for a call that must finish quickly (deactivating while the runner is cancelling). */
export interface Hurry {
  maxRetries: number;
  timeoutMs: number;
  maxRetryAfterMs: number;
}

/** Per call, for every method: `signal` ends retrying (cancellation or a deadline); `hurry` tightens the limits. */
export interface CallOptions {
  signal?: AbortSignal;
  hurry?: Hurry;
}

/** The window and page of a logs request (both logs routes take the same). */
export interface LogQuery {
  /** Epoch ms; the API's default is 30 minutes before the end. */
  startMs?: number;
  /** Epoch ms; the API's default is now. */
  endMs?: number;
  direction?: 'asc' | 'desc';
  /** 1..1000; the API's default is 500. */
  limit?: number;
  /** The API then drops lines without a level. */
  minLevel?: LogLevel;
}

/** Which of the caller's runs GET /v1/loops/runs returns. */
export interface RunFilter {
  baseModel?: string;
}

interface Request<T> {
  operation: string;
  /** Never DELETE: Loops' DELETE routes delete the user's checkpoints, and no path of this action may call one. */
  method: 'GET' | 'POST';
  path: string;
  parse: (body: unknown) => T;
  body?: unknown;
  /** One attempt only (for a request that must not be repeated blindly). */
  once?: boolean;
}

/** Without any Date header from the server, how far its clock may be from ours, either way. */
export const CLOCK_SKEW_MS = 120_000;

export class LoopsClient {
  private readonly transport: Transport;

  constructor(private readonly options: ClientOptions) {
    this.transport = new Transport({ ...options, now: () => options.clock.now() });
  }

  createSession(trainingProjectId?: string, opts: CallOptions = {}): Promise<string> {
    const body = trainingProjectId ? { training_project_id: trainingProjectId } : {};
    return this.call({ operation: 'create session', method: 'POST', path: '/v1/loops/sessions', parse: parseSessionEnvelope, body }, opts);
  }

  getSession(sessionId: string, opts: CallOptions = {}): Promise<string> {
    const path = `/v1/loops/sessions/${enc(sessionId)}`;
    return this.call({ operation: 'get session', method: 'GET', path, parse: parseSessionEnvelope }, opts);
  }

  /** One attempt: a failure may or may not have created the run (see launch.ts). */
  createRun(body: CreateRunBody, opts: CallOptions = {}): Promise<Run> {
    return this.call({ operation: 'create run', method: 'POST', path: '/v1/loops/runs', parse: parseRunEnvelope, body, once: true }, opts);
  }

  listRuns(filter: RunFilter = {}, opts: CallOptions = {}): Promise<Run[]> {
    const query = new URLSearchParams();
    if (filter.baseModel) query.set('base_model', filter.baseModel);
    const path = `/v1/loops/runs${query.size ? `?${query.toString()}` : ''}`;
    return this.call({ operation: 'list runs', method: 'GET', path, parse: parseRunList }, opts);
  }

  getRun(runId: string, opts: CallOptions = {}): Promise<Run> {
    return this.call({ operation: 'get run', method: 'GET', path: `/v1/loops/runs/${enc(runId)}`, parse: parseRunEnvelope }, opts);
  }

  getDeployment(deploymentId: string, opts: CallOptions = {}): Promise<Deployment> {
    const path = `/v1/loops/deployments/${enc(deploymentId)}`;
    return this.call({ operation: 'get deployment', method: 'GET', path, parse: parseDeploymentEnvelope }, opts);
  }

  listDeployments(opts: CallOptions = {}): Promise<ListedDeployment[]> {
    return this.call({ operation: 'list deployments', method: 'GET', path: '/v1/loops/deployments', parse: parseDeploymentList }, opts);
  }

  /** The Loops deployment serving a run that does not name its own (deployment_id null): see deploymentOf. */
  async findDeploymentOfRun(run: Pick<Run, 'id' | 'sampler'>, opts: CallOptions = {}): Promise<Deployment | undefined> {
    return deploymentOf(run, await this.listDeployments(opts));
  }

  /** A trainer's logs: those of the run's Loops deployment. */
  getTrainerLogs(deploymentId: string, query: LogQuery, opts: CallOptions = {}): Promise<LogLine[]> {
    const path = `/v1/loops/deployments/${enc(deploymentId)}/logs${logQuery(query)}`;
    return this.call({ operation: 'get trainer logs', method: 'GET', path, parse: parseLogs }, opts);
  }

  /**
   * A sampler's logs: it is an ordinary Baseten model deployment (sampler.model_id, sampler.deployment_id).
   * Assumed (unpublished): the route takes the trainer route's window, direction and limit and answers
   * the same shape; the reference names the route, the API description does not have it.
   */
  getSamplerLogs(modelId: string, deploymentId: string, query: LogQuery, opts: CallOptions = {}): Promise<LogLine[]> {
    const path = `/v1/models/${enc(modelId)}/deployments/${enc(deploymentId)}/logs${logQuery(query)}`;
    return this.call({ operation: 'get sampler logs', method: 'GET', path, parse: parseLogs }, opts);
  }

  deactivateRun(runId: string, opts: CallOptions = {}): Promise<string> {
    const path = `/v1/loops/runs/${enc(runId)}/deactivate`;
    return this.call({ operation: 'deactivate run', method: 'POST', path, parse: parseDeactivated }, opts);
  }

  getCapabilities(opts: CallOptions = {}): Promise<SupportedModel[]> {
    return this.call({ operation: 'get capabilities', method: 'GET', path: '/v1/loops/capabilities', parse: parseCapabilities }, opts);
  }

  findCheckpoint(checkpointPath: string, opts: CallOptions = {}): Promise<Checkpoint[]> {
    const path = `/v1/loops/checkpoints?checkpoint_path=${enc(checkpointPath)}`;
    return this.call({ operation: 'check checkpoint', method: 'GET', path, parse: parseCheckpoints }, opts);
  }

  /**
   * The server's current time, from the Date headers of its answers (`known` false until one
   * arrived: then it is our own clock).
   */
  /** The server's clock now: ours moved by the Date headers seen; `known` false when none was (then see CLOCK_SKEW_MS). */
  serverNow(): { ms: number; known: boolean } {
    const offset = this.transport.clockOffsetMs;
    return { ms: this.options.clock.now() + (offset ?? 0), known: offset !== undefined };
  }

  dispose(): void {
    this.transport.dispose();
  }

  private call<T>(request: Request<T>, opts: CallOptions): Promise<T> {
    const { hurry } = opts;
    const base = this.options.policy;
    const policy = hurry ? { ...base, maxRetries: Math.min(hurry.maxRetries, base.maxRetries), maxRetryAfterMs: hurry.maxRetryAfterMs } : base;
    const timeoutMs = hurry ? Math.min(hurry.timeoutMs, this.options.timeoutMs) : this.options.timeoutMs;
    const attempt = async (): Promise<T> => {
      const response = await this.transport.send(request.method, request.path, request.body, timeoutMs);
      response.body = scrub(response.body, this.options.apiKey);
      return interpret(response, request.method, request.path, request.parse, this.options.clock.now());
    };
    if (request.once) return attempt();
    const log = (line: string): void => this.options.log.info(line);
    return withRetry(request.operation, attempt, { policy, clock: this.options.clock, log, signal: opts.signal });
  }
}

/**
 * The deployment a run is on, among listed ones: the one whose sampler is the run's sampler (a
 * deployment's sampler is every one of its runs' sampler), else one naming the run as its active
 * or latest run. Matching by run id alone finds nothing once a continuation has replaced the run.
 */
export function deploymentOf(run: Pick<Run, 'id' | 'sampler'>, deployments: ListedDeployment[]): ListedDeployment | undefined {
  const samplerId = run.sampler?.id;
  return (samplerId ? deployments.find((d) => d.samplerId === samplerId) : undefined) ?? deployments.find((d) => d.runIds.includes(run.id));
}

function enc(value: string): string {
  return encodeURIComponent(value);
}

function logQuery(query: LogQuery): string {
  const q = new URLSearchParams();
  if (query.startMs !== undefined) q.set('start_epoch_millis', String(Math.floor(query.startMs)));
  if (query.endMs !== undefined) q.set('end_epoch_millis', String(Math.floor(query.endMs)));
  if (query.direction) q.set('direction', query.direction);
  if (query.limit !== undefined) q.set('limit', String(query.limit));
  if (query.minLevel) q.set('min_level', query.minLevel);
  return q.size ? `?${q.toString()}` : '';
}
