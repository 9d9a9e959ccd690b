// Errors thrown by the Loops client. Each names the method and route it concerns and says
// whether retrying could help (`retryable`) and whether the server may have acted (`ambiguous`).

export abstract class LoopsError extends Error {
  abstract readonly retryable: boolean;
  /** True when the request may have reached the server and changed state. */
  abstract readonly ambiguous: boolean;
  /** Delay the server asked for (Retry-After), in milliseconds. */
  readonly retryAfterMs: number | undefined = undefined;
  /** A short reason for retry log lines, e.g. "HTTP 503" or "timeout after 30s". */
  abstract readonly reason: string;

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

/**
 * The server's explanation from an error body: a FastAPI `detail` (string or pydantic list),
 * an `error`/`message` field, or a short excerpt of a non-JSON body (HTML tags stripped).
 */
export function describeErrorBody(body: string): string {
  const text = body.trim();
  if (!text) return '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return excerpt(text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' '));
  }
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const obj = json as Record<string, unknown>;
    for (const key of ['detail', 'error', 'message']) {
      const value = obj[key];
      if (typeof value === 'string') return excerpt(value);
      if (Array.isArray(value)) return excerpt(value.map(describeValidationItem).join('; '));
      if (value && typeof value === 'object') {
        const inner = (value as Record<string, unknown>).message;
        if (typeof inner === 'string') return excerpt(inner);
      }
    }
  }
  if (typeof json === 'string') return excerpt(json);
  return excerpt(JSON.stringify(json));
}

function describeValidationItem(item: unknown): string {
  if (!item || typeof item !== 'object') return String(item);
  const { loc, msg } = item as { loc?: unknown; msg?: unknown };
  const where = Array.isArray(loc)
    ? loc.filter((part, i) => !(i === 0 && (part === 'body' || part === 'query' || part === 'path'))).join('.')
    : '';
  const message = typeof msg === 'string' ? msg : JSON.stringify(item);
  return where ? `${where}: ${message}` : message;
}

function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
