// Every error the action raises, in one place. Errors from the Loops API name the method and
// route, and say whether retrying could help (`retryable`) and whether the server may have
// acted (`ambiguous`); the flow's own errors carry what the step should report.

/** What the retry policy needs to know about a failure: nothing more. */
export interface Retryable {
  readonly retryable: boolean;
  /** True when the request may have reached the server and changed state. */
  readonly ambiguous: boolean;
  /** A short reason for retry log lines, e.g. "HTTP 503" or "timeout after 30s". */
  readonly reason: string;
  /** Delay the server asked for (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
}

export function isRetryable(error: unknown): error is Error & Retryable {
  return error instanceof Error && (error as Partial<Retryable>).retryable === true;
}

export abstract class LoopsError extends Error implements Retryable {
  abstract readonly retryable: boolean;
  abstract readonly ambiguous: boolean;
  abstract readonly reason: string;
  readonly retryAfterMs: number | undefined = undefined;

  constructor(
    readonly method: string,
    readonly route: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The server answered with a non-2xx status. */
export class ApiError extends LoopsError {
  override readonly retryAfterMs: number | undefined;
  readonly retryable: boolean;
  readonly ambiguous: boolean;
  readonly reason: string;

  constructor(
    method: string,
    route: string,
    readonly status: number,
    readonly detail: string,
    retryAfterMs?: number,
    /** The error body's machine-readable reason (`details.reason`), e.g. `loops_capacity`. */
    readonly code?: string,
  ) {
    const text = STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : '';
    super(method, route, `${method} ${route} failed: HTTP ${status}${text}${detail ? `: ${detail}` : ''}${hintFor(status)}`);
    this.retryAfterMs = retryAfterMs;
    this.retryable = isRetryableStatus(status);
    // A 429 is a refusal before any work; 408 and 5xx may come after the server acted.
    this.ambiguous = status === 408 || status >= 500;
    this.reason = `HTTP ${status}${text}`;
  }
}

function hintFor(status: number): string {
  if (status === 401) {
    return '. The API key was rejected: check that the secret holds a current Baseten API key (Settings → API keys).';
  }
  if (status === 403) {
    return '. The API key lacks permission: Loops needs a key that can manage the organization’s training projects, and Loops must be enabled for the workspace.';
  }
  return '';
}

/** No usable response: connection refused or reset, timeout, a body cut short. */
export class NetworkError extends LoopsError {
  readonly retryable = true;
  readonly ambiguous: boolean;
  readonly reason: string;

  constructor(method: string, route: string, reason: string, opts: { ambiguous: boolean }) {
    super(method, route, `${method} ${route} failed: ${reason}`);
    this.reason = reason;
    this.ambiguous = opts.ambiguous;
  }
}

/** A 2xx whose body is not what the API describes. Unreadable bodies may be transient; wrong shapes are not. */
export class MalformedResponseError extends LoopsError {
  readonly ambiguous = true;
  readonly reason: string;

  constructor(
    method: string,
    route: string,
    problem: string,
    readonly retryable: boolean,
    /** The parsed body, when it was JSON of the wrong shape. */
    readonly body?: unknown,
  ) {
    super(method, route, `${method} ${route} returned an unexpected response: ${problem}`);
    this.reason = `unexpected response (${problem})`;
  }
}

/** Raised by the response parsers; the client wraps it with the route. */
export class ShapeError extends Error {}

/** The workflow was cancelled while an operation was waiting to retry. */
export class CancelledError extends Error {
  constructor(readonly operation: string) {
    super(`${operation}: stopped because the workflow was cancelled`);
    this.name = 'CancelledError';
  }
}

export class RetriesExhaustedError extends Error {
  constructor(
    readonly operation: string,
    readonly attempts: number,
    readonly last: Error & Retryable,
  ) {
    super(`${last.message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
    this.name = 'RetriesExhaustedError';
  }
}

/** A problem the user can fix (inputs, a missing session, preflight): reported as is. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** A run exists but the step ends without it launched or ready. */
export class RunFailure extends Error {
  constructor(
    readonly status: 'failed' | 'timed_out' | 'cancelled',
    message: string,
  ) {
    super(message);
    this.name = 'RunFailure';
  }
}

/**
 * The API kept refusing to create the run for lack of capacity (HTTP 429 with `details.reason`
 * `loops_capacity`) until the retry window closed. Nothing was created: a refusal comes before
 * any work. `last` is the final refusal.
 */
export class CapacityError extends Error {
  constructor(
    readonly waitedMs: number,
    readonly last: ApiError,
    message: string,
  ) {
    super(message);
    this.name = 'CapacityError';
  }
}

/** The `details.reason` Baseten gives a capacity refusal. */
export const CAPACITY_REASON = 'loops_capacity';

/** A capacity refusal: a 429 whose body says `loops_capacity`. */
export function isCapacityRefusal(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 429 && error.code === CAPACITY_REASON;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
