/**
 * Pydantic/FastAPI-style validation, deliberately stricter than the real API: unknown body
 * properties are rejected (extra_forbidden) and integers must be JSON integers.
 */
import { type Resp, isJsonContentType, validationError } from './responses.js';
import type { ValidationErrorItem } from './types.js';

export interface FieldSpec {
  name: string;
  kind: 'string' | 'integer' | 'enum';
  required?: boolean;
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  gt?: number;
  ge?: number;
  le?: number;
  values?: string[];
}

export const RUN_PATH_PATTERN = '^bt://loops:[^/]+/weights/.+$';
export const CHECKPOINT_PATH_PATTERN = '^bt://loops:[^/]+/(weights|sampler_weights)/.+$';

/** CreateLoopsRunRequest of the current API (openapi.yaml), and the assumed `scope`. */
export const CREATE_RUN_FIELDS: readonly FieldSpec[] = [
  { name: 'session_id', kind: 'string', required: true },
  { name: 'base_model', kind: 'string', required: true },
  { name: 'name', kind: 'string', nullable: true, minLength: 1, maxLength: 255 },
  { name: 'max_seq_len', kind: 'integer', nullable: true },
  { name: 'lora_rank', kind: 'integer', ge: 1 },
  { name: 'seed', kind: 'integer', nullable: true },
  { name: 'scale_down_delay_seconds', kind: 'integer', gt: 0, le: 3600 },
  { name: 'availability_model', kind: 'enum', values: ['dedicated', 'spot'] },
  { name: 'replicas', kind: 'integer', ge: 1 },
  { name: 'path', kind: 'string', nullable: true, pattern: RUN_PATH_PATTERN },
  { name: 'reuse_from_run_id', kind: 'string', nullable: true },
  { name: 'reuse_from_session_id', kind: 'string', nullable: true },
  // Newer than the description: the SDK's scope, assumed to be this body field on REST.
  { name: 'scope', kind: 'enum', values: ['serverless', 'deployment'] },
];

export const CREATE_SESSION_FIELDS: readonly FieldSpec[] = [{ name: 'training_project_id', kind: 'string', nullable: true }];

/** The create-run fields an older server knows: the required ones always, the rest as listed. */
export function createRunSpecs(names: readonly string[] | undefined): FieldSpec[] {
  if (names === undefined) return [...CREATE_RUN_FIELDS];
  const unknown = names.filter((n) => !CREATE_RUN_FIELDS.some((f) => f.name === n));
  if (unknown.length > 0) throw new Error(`createRunFields: unknown field(s) ${unknown.join(', ')}`);
  return CREATE_RUN_FIELDS.filter((f) => f.required || names.includes(f.name));
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}

function checkString(spec: FieldSpec, value: unknown, loc: (string | number)[]): ValidationErrorItem | undefined {
  if (typeof value !== 'string') return { type: 'string_type', loc, msg: 'Input should be a valid string', input: value };
  const len = [...value].length;
  if (spec.minLength !== undefined && len < spec.minLength) {
    const msg = `String should have at least ${spec.minLength} character${plural(spec.minLength)}`;
    return { type: 'string_too_short', loc, msg, input: value, ctx: { min_length: spec.minLength } };
  }
  if (spec.maxLength !== undefined && len > spec.maxLength) {
    const msg = `String should have at most ${spec.maxLength} character${plural(spec.maxLength)}`;
    return { type: 'string_too_long', loc, msg, input: value, ctx: { max_length: spec.maxLength } };
  }
  if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(value)) {
    const msg = `String should match pattern '${spec.pattern}'`;
    return { type: 'string_pattern_mismatch', loc, msg, input: value, ctx: { pattern: spec.pattern } };
  }
  return undefined;
}

function checkInteger(spec: FieldSpec, value: unknown, loc: (string | number)[]): ValidationErrorItem | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return { type: 'int_type', loc, msg: 'Input should be a valid integer', input: value };
  }
  if (spec.gt !== undefined && !(value > spec.gt)) {
    return { type: 'greater_than', loc, msg: `Input should be greater than ${spec.gt}`, input: value, ctx: { gt: spec.gt } };
  }
  if (spec.ge !== undefined && !(value >= spec.ge)) {
    const msg = `Input should be greater than or equal to ${spec.ge}`;
    return { type: 'greater_than_equal', loc, msg, input: value, ctx: { ge: spec.ge } };
  }
  if (spec.le !== undefined && !(value <= spec.le)) {
    const msg = `Input should be less than or equal to ${spec.le}`;
    return { type: 'less_than_equal', loc, msg, input: value, ctx: { le: spec.le } };
  }
  return undefined;
}

function checkEnum(spec: FieldSpec, value: unknown, loc: (string | number)[]): ValidationErrorItem | undefined {
  const values = spec.values ?? [];
  if (typeof value === 'string' && values.includes(value)) return undefined;
  const quoted = values.map((v) => `'${v}'`);
  const expected = quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1] ?? ''}`;
  return { type: 'enum', loc, msg: `Input should be ${expected}`, input: value, ctx: { expected } };
}

export function validateValue(spec: FieldSpec, value: unknown, loc: (string | number)[]): ValidationErrorItem | undefined {
  if (value === null && spec.nullable) return undefined;
  if (spec.kind === 'string') return checkString(spec, value, loc);
  if (spec.kind === 'integer') return checkInteger(spec, value, loc);
  return checkEnum(spec, value, loc);
}

/** Every problem of the body, in field order, then the unknown fields. */
export function validateObject(fields: readonly FieldSpec[], body: Record<string, unknown>): ValidationErrorItem[] {
  const errors: ValidationErrorItem[] = [];
  for (const spec of fields) {
    if (!Object.prototype.hasOwnProperty.call(body, spec.name)) {
      if (spec.required) errors.push({ type: 'missing', loc: ['body', spec.name], msg: 'Field required', input: body });
      continue;
    }
    const err = validateValue(spec, body[spec.name], ['body', spec.name]);
    if (err) errors.push(err);
  }
  const known = new Set(fields.map((f) => f.name));
  for (const key of Object.keys(body)) {
    if (!known.has(key)) {
      errors.push({ type: 'extra_forbidden', loc: ['body', key], msg: 'Extra inputs are not permitted', input: body[key] });
    }
  }
  return errors;
}

export type BodyResult = { ok: true; value: Record<string, unknown> | undefined } | { ok: false; resp: Resp };

function notAnObject(input: unknown, why = ''): BodyResult {
  const msg = `Input should be a valid dictionary or object to extract fields from${why}`;
  return { ok: false, resp: validationError([{ type: 'model_attributes_type', loc: ['body'], msg, input }]) };
}

/** Parse the request body the way FastAPI would for a pydantic model parameter. */
export function readJsonBody(raw: string, contentType: string | undefined, required: boolean): BodyResult {
  if (raw.length === 0) {
    if (!required) return { ok: true, value: undefined };
    return { ok: false, resp: validationError([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]) };
  }
  if (!isJsonContentType(contentType)) {
    const type = contentType ? `'${contentType}'` : 'missing';
    return notAnObject(raw, ` (the request has a body but its Content-Type is ${type}; send Content-Type: application/json)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    const item = { type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error } };
    return { ok: false, resp: validationError([item]) };
  }
  if (parsed === null && !required) return { ok: true, value: undefined };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return notAnObject(parsed);
  return { ok: true, value: parsed as Record<string, unknown> };
}
