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

interface CallOptions<T> {
  body?: unknown;
  recover?: (error: LoopsError) => Promise<T | undefined>;
  maxRetries?: number;
}

export class LoopsClient {
  private readonly transport: Transport;

  constructor(private readonly options: ClientOptions) {
    this.transport = new Transport(options);
  }

  createSession(trainingProjectId?: string): Promise<string> {
    const body = trainingProjectId ? { training_project_id: trainingProjectId } : {};
    return this.call('create session', 'POST', '/v1/loops/sessions', parseSessionEnvelope, { body });
  }

  getSession(sessionId: string): Promise<string> {
    return this.call('get session', 'GET', `/v1/loops/sessions/${enc(sessionId)}`, parseSessionEnvelope);
  }

  /** Creating a run is not idempotent: `recover` decides what to do after an ambiguous failure. */
  createRun(body: CreateRunBody, recover: (error: LoopsError) => Promise<Run | undefined>): Promise<Run> {
    return this.call('create run', 'POST', '/v1/loops/runs', parseRunEnvelope, { body, recover });
  }

  listRuns(baseModel: string): Promise<Run[]> {
    return this.call('list runs', 'GET', `/v1/loops/runs?base_model=${enc(baseModel)}`, parseRunList);
  }

  getRun(runId: string): Promise<Run> {
    return this.call('get run', 'GET', `/v1/loops/runs/${enc(runId)}`, parseRunEnvelope);
  }

  getDeployment(deploymentId: string): Promise<Deployment> {
    return this.call('get deployment', 'GET', `/v1/loops/deployments/${enc(deploymentId)}`, parseDeploymentEnvelope);
  }

  deactivateRun(runId: string, maxRetries?: number): Promise<string> {
    return this.call('deactivate run', 'POST', `/v1/loops/runs/${enc(runId)}/deactivate`, parseDeactivated, {
      maxRetries,
    });
  }

  getCapabilities(): Promise<SupportedModel[]> {
    return this.call('get capabilities', 'GET', '/v1/loops/capabilities', parseCapabilities);
  }

  findCheckpoint(checkpointPath: string): Promise<Checkpoint[]> {
    return this.call(
      'check checkpoint',
      'GET',
      `/v1/loops/checkpoints?checkpoint_path=${enc(checkpointPath)}`,
      parseCheckpoints,
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
    const policy = { ...this.options.policy, maxRetries: opts.maxRetries ?? this.options.policy.maxRetries };
    return withRetry(
      operation,
      async () => {
        const response = await this.transport.send(method, path, opts.body);
        // Whatever the server sends back (an error page echoing headers, say) must not carry the
        // key into an error, a log line or an output: scrub it before anything reads the body.
        if (this.options.apiKey) response.body = response.body.split(this.options.apiKey).join('***');
        return interpret(response, method, path, parse, this.options.clock);
      },
      { policy, clock: this.options.clock, log: this.options.log, recover: opts.recover },
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
    if (error instanceof ShapeError) throw new MalformedResponseError(method, route, error.message, false);
    throw error;
  }
}
