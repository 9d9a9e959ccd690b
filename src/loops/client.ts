// The Loops API: one method per route the action uses, each with the shared retry policy.

import { ApiError, type LoopsError, MalformedResponseError, NetworkError, describeErrorBody } from './errors.js';
import { type HttpResponse, Transport } from './http.js';
import {
  type Checkpoint,
  type Deployment,
  type Run,
  ShapeError,
  type SupportedModel,
  parseCapabilities,
  parseCheckpoints,
  parseDeactivated,
  parseDeploymentEnvelope,
  parseDeploymentList,
  parseRunEnvelope,
  parseRunList,
  parseSessionEnvelope,
} from './types.js';
import { type Clock, type RetryPolicy, parseRetryAfter, withRetry } from '../retry.js';

export interface CreateRunBody {
  session_id: string;
  base_model: string;
  name: string;
  lora_rank: number;
  scale_down_delay_seconds: number;
  availability_model: string;
  replicas: number;
  max_seq_len?: number;
  seed?: number;
  path?: string;
  reuse_from_run_id?: string;
  reuse_from_session_id?: string;
}

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  policy: RetryPolicy;
  clock: Clock;
  log: (line: string) => void;
  userAgent: string;
}

/** Per call: `signal` ends retrying when the workflow is cancelled (or a deadline passes). */
export interface CallContext {
  signal?: AbortSignal;
}

/** Limits for a call that must finish quickly (deactivating while the runner is cancelling). */
export interface Hurry {
  maxRetries: number;
  timeoutMs: number;
  maxRetryAfterMs: number;
}

interface CallOptions<T> extends CallContext {
  body?: unknown;
  recover?: (error: LoopsError) => Promise<T | undefined>;
  hurry?: Hurry;
}

export class LoopsClient {
  private readonly transport: Transport;

  constructor(private readonly options: ClientOptions) {
    this.transport = new Transport(options);
  }

  createSession(trainingProjectId?: string, ctx: CallContext = {}): Promise<string> {
    const body = trainingProjectId ? { training_project_id: trainingProjectId } : {};
    return this.call('create session', 'POST', '/v1/loops/sessions', parseSessionEnvelope, { ...ctx, body });
  }

  getSession(sessionId: string, ctx: CallContext = {}): Promise<string> {
    return this.call('get session', 'GET', `/v1/loops/sessions/${enc(sessionId)}`, parseSessionEnvelope, ctx);
  }

  /** Creating a run is not idempotent: `recover` decides what to do after an ambiguous failure. */
  createRun(body: CreateRunBody, recover: (error: LoopsError) => Promise<Run | undefined>, ctx: CallContext = {}): Promise<Run> {
    return this.call('create run', 'POST', '/v1/loops/runs', parseRunEnvelope, { ...ctx, body, recover });
  }

  listRuns(baseModel: string): Promise<Run[]> {
    return this.call('list runs', 'GET', `/v1/loops/runs?base_model=${enc(baseModel)}`, parseRunList);
  }

  getRun(runId: string, ctx: CallContext = {}): Promise<Run> {
    return this.call('get run', 'GET', `/v1/loops/runs/${enc(runId)}`, parseRunEnvelope, ctx);
  }

  getDeployment(deploymentId: string, ctx: CallContext = {}): Promise<Deployment> {
    return this.call('get deployment', 'GET', `/v1/loops/deployments/${enc(deploymentId)}`, parseDeploymentEnvelope, ctx);
  }

  /** The Loops deployment serving a run, for runs that do not name theirs (deployment_id null). */
  async findDeploymentOfRun(runId: string, ctx: CallContext = {}): Promise<Deployment | undefined> {
    const deployments = await this.call('list deployments', 'GET', '/v1/loops/deployments', parseDeploymentList, ctx);
    return deployments.find((d) => d.runIds.includes(runId));
  }

  deactivateRun(runId: string, hurry?: Hurry): Promise<string> {
    return this.call('deactivate run', 'POST', `/v1/loops/runs/${enc(runId)}/deactivate`, parseDeactivated, { hurry });
  }

  getCapabilities(ctx: CallContext = {}): Promise<SupportedModel[]> {
    return this.call('get capabilities', 'GET', '/v1/loops/capabilities', parseCapabilities, ctx);
  }

  findCheckpoint(checkpointPath: string, ctx: CallContext = {}): Promise<Checkpoint[]> {
    return this.call(
      'check checkpoint',
      'GET',
      `/v1/loops/checkpoints?checkpoint_path=${enc(checkpointPath)}`,
      parseCheckpoints,
      ctx,
    );
  }

  dispose(): void {
    this.transport.dispose();
  }

  private call<T>(
    operation: string,
    method: string,
    path: string,
    parse: (body: unknown) => T,
    opts: CallOptions<T> = {},
  ): Promise<T> {
    const { hurry } = opts;
    const policy = hurry
      ? { ...this.options.policy, maxRetries: Math.min(hurry.maxRetries, this.options.policy.maxRetries), maxRetryAfterMs: hurry.maxRetryAfterMs }
      : this.options.policy;
    const timeoutMs = hurry ? Math.min(hurry.timeoutMs, this.options.timeoutMs) : this.options.timeoutMs;
    return withRetry(
      operation,
      async () => {
        const response = await this.transport.send(method, path, opts.body, timeoutMs);
        // Whatever the server sends back (an error page echoing headers, say) must not carry the
        // key into an error, a log line or an output: scrub it before anything reads the body.
        if (this.options.apiKey) response.body = response.body.split(this.options.apiKey).join('***');
        return interpret(response, method, path, parse, this.options.clock);
      },
      { policy, clock: this.options.clock, log: this.options.log, recover: opts.recover, signal: opts.signal },
    );
  }
}

function enc(value: string): string {
  return encodeURIComponent(value);
}

function interpret<T>(response: HttpResponse, method: string, path: string, parse: (body: unknown) => T, clock: Clock): T {
  const route = path.split('?')[0] ?? path;
  if (!response.complete) {
    throw new NetworkError(method, route, `connection closed before the response body was complete (HTTP ${response.status})`, {
      ambiguous: true,
    });
  }
  if (response.status < 200 || response.status >= 300) {
    let detail = describeErrorBody(response.body);
    if (response.status >= 300 && response.status < 400) {
      detail = `redirect to ${String(response.headers.location ?? '(no location)')} not followed${detail ? `; ${detail}` : ''}`;
    }
    throw new ApiError(method, route, response.status, detail, parseRetryAfter(response.headers['retry-after'], clock.now()));
  }
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    const kind = /^\s*</.test(response.body) ? 'an HTML page' : 'not JSON';
    throw new MalformedResponseError(method, route, `HTTP ${response.status} body is ${kind}: ${describeErrorBody(response.body) || '(empty)'}`, true);
  }
  try {
    return parse(json);
  } catch (error) {
    if (error instanceof ShapeError) throw new MalformedResponseError(method, route, error.message, false, json);
    throw error;
  }
}
