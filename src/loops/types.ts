// The Loops API objects this action reads, and parsers that check the fields it relies on.
// Unknown fields are ignored and optional ones may be missing (the API changes often).

import { ShapeError } from '../core/errors.js';

export interface Sampler {
  id: string;
  /** Empty until the API knows it (an empty string is valid per the API description). */
  baseUrl: string;
  status?: string;
  /** The Baseten model and model deployment behind the sampler, when the API gives them. */
  modelId?: string;
  deploymentId?: string;
}

export interface Run {
  id: string;
  sessionId: string;
  /** Absent from runs made before the API had names (2026-06-23). */
  name?: string;
  baseModel: string;
  /** The trainer's base URL; empty when the API sends none. */
  baseUrl: string;
  createdAt: string;
  deploymentId?: string;
  status?: string;
  /** Who created the run (its `user.email`), when the API says. */
  userEmail?: string;
  sampler?: Sampler;
  /** The object as the API sent it, for the run_json output. */
  raw: Record<string, unknown>;
}

export interface Deployment {
  id: string;
  status?: string;
}

export type Obj = Record<string, unknown>;

export function object(value: unknown, where: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ShapeError(`${where} is ${value === undefined ? 'missing' : 'not an object'}`);
  }
  return value as Obj;
}

export function string(obj: Obj, key: string, where: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || value === '') {
    throw new ShapeError(`${where}.${key} is ${value === undefined ? 'missing' : 'not a non-empty string'}`);
  }
  return value;
}

/** A string that may be empty (the API allows it) but must be a string when present. */
export function stringOrEmpty(obj: Obj, key: string, where: string): string {
  const value = obj[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new ShapeError(`${where}.${key} is not a string`);
  return value;
}

export function optionalString(obj: Obj, key: string): string | undefined {
  const value = obj[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function statusName(obj: Obj): string | undefined {
  const status = obj.status;
  // An empty name is no status: a serverless sampler's may be missing in any of these shapes.
  if (typeof status === 'string') return status !== '' ? status : undefined;
  if (status && typeof status === 'object') return optionalString(status as Obj, 'name');
  return undefined;
}

export function array(obj: Obj, key: string, where: string): unknown[] {
  const value = obj[key];
  if (!Array.isArray(value)) throw new ShapeError(`${where}.${key} is ${value === undefined ? 'missing' : 'not a list'}`);
  return value;
}

export function parseSessionEnvelope(body: unknown): string {
  const session = object(object(body, 'body').session, 'session');
  return string(session, 'id', 'session');
}

export function parseRun(value: unknown, where = 'run'): Run {
  const run = object(value, where);
  const samplerValue = run.sampler;
  let sampler: Sampler | undefined;
  if (samplerValue !== null && samplerValue !== undefined) {
    const s = object(samplerValue, `${where}.sampler`);
    sampler = {
      id: string(s, 'id', `${where}.sampler`),
      baseUrl: stringOrEmpty(s, 'base_url', `${where}.sampler`),
      status: statusName(s),
      modelId: optionalString(s, 'model_id'),
      deploymentId: optionalString(s, 'deployment_id'),
    };
  }
  return {
    id: string(run, 'id', where),
    sessionId: string(run, 'session_id', where),
    name: optionalString(run, 'name'),
    baseModel: string(run, 'base_model', where),
    baseUrl: stringOrEmpty(run, 'base_url', where),
    createdAt: string(run, 'created_at', where),
    deploymentId: optionalString(run, 'deployment_id'),
    status: statusName(run),
    userEmail: userEmail(run),
    sampler,
    raw: run,
  };
}

function userEmail(obj: Obj): string | undefined {
  const user = obj.user;
  return user && typeof user === 'object' ? optionalString(user as Obj, 'email') : undefined;
}

/**
 * What can be read of a run whose object breaks the description: only its id is essential
 * (to report and deactivate it); undefined when even that is missing.
 */
export function salvageRun(body: unknown): Run | undefined {
  const run = body && typeof body === 'object' ? (body as Obj).run : undefined;
  if (!run || typeof run !== 'object' || Array.isArray(run)) return undefined;
  const r = run as Obj;
  const id = optionalString(r, 'id');
  if (!id) return undefined;
  const s = r.sampler && typeof r.sampler === 'object' ? (r.sampler as Obj) : undefined;
  const samplerId = s ? optionalString(s, 'id') : undefined;
  return {
    id,
    sessionId: optionalString(r, 'session_id') ?? '',
    name: optionalString(r, 'name'),
    baseModel: optionalString(r, 'base_model') ?? '',
    baseUrl: optionalString(r, 'base_url') ?? '',
    createdAt: optionalString(r, 'created_at') ?? '',
    deploymentId: optionalString(r, 'deployment_id'),
    status: statusName(r),
    sampler:
      s && samplerId
        ? {
            id: samplerId,
            baseUrl: optionalString(s, 'base_url') ?? '',
            status: statusName(s),
            modelId: optionalString(s, 'model_id'),
            deploymentId: optionalString(s, 'deployment_id'),
          }
        : undefined,
    raw: r,
  };
}

export function parseRunEnvelope(body: unknown): Run {
  return parseRun(object(body, 'body').run);
}

/** The runs that can be read; an unreadable item (someone else's old run, say) is skipped, not fatal. */
export function parseRunList(body: unknown): Run[] {
  const runs: Run[] = [];
  for (const [i, item] of array(object(body, 'body'), 'runs', 'body').entries()) {
    try {
      runs.push(parseRun(item, `runs[${i}]`));
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
    }
  }
  return runs;
}

export function parseDeploymentEnvelope(body: unknown): Deployment {
  const deployment = object(object(body, 'body').deployment, 'deployment');
  return { id: string(deployment, 'id', 'deployment'), status: statusName(deployment) };
}

/** A Loops deployment as the list gives it: what tells which runs it serves. */
export interface ListedDeployment extends Deployment {
  /** active_run_id and latest_run_id: they move to a continuation once one replaces our run. */
  runIds: string[];
  /** Its sampler's id, which is the id of the sampler of every run on it. */
  samplerId?: string;
}

/** Loops deployments with what ties them to runs (for runs whose deployment_id is null). Unreadable items are skipped. */
export function parseDeploymentList(body: unknown): ListedDeployment[] {
  return array(object(body, 'body'), 'deployments', 'body').flatMap((item) => {
    if (!item || typeof item !== 'object') return [];
    const d = item as Obj;
    const id = optionalString(d, 'id');
    if (!id) return [];
    const runIds = [optionalString(d, 'active_run_id'), optionalString(d, 'latest_run_id')].filter((v): v is string => v !== undefined);
    const sampler = d.sampler && typeof d.sampler === 'object' ? optionalString(d.sampler as Obj, 'id') : undefined;
    return [{ id, status: statusName(d), runIds, ...(sampler ? { samplerId: sampler } : {}) }];
  });
}

export function parseDeactivated(body: unknown): string {
  return string(object(body, 'body'), 'id', 'body');
}
