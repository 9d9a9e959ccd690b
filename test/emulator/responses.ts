/** The route-level answer (status, headers, body) and the error bodies the API uses. */
import http from 'node:http';
import type { ValidationErrorItem } from './types.js';

export interface Resp {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Resp {
  return {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** FastAPI's error shape: {"detail": "..."}. */
export function detail(status: number, message: string, headers: Record<string, string> = {}): Resp {
  return json(status, { detail: message }, headers);
}

/** FastAPI's 422 for a body that does not fit the pydantic model. */
export function validationError(items: ValidationErrorItem[]): Resp {
  return json(422, { detail: items });
}

/** The error page a proxy in front of the API answers with. */
export function htmlPage(status: number): string {
  const title = `${status} ${http.STATUS_CODES[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<h1>${title}</h1>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const mime = (value.split(';')[0] ?? '').trim().toLowerCase();
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}

/** A 4xx from emulator.createRun: the status and detail the route would have answered. */
export class EmulatorRequestError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(`${status} ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
    this.name = 'EmulatorRequestError';
  }
}
