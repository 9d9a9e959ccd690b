// What this workspace can use: the models of GET /v1/loops/capabilities (with their serverless
// access and limits) and the checkpoints of GET /v1/loops/checkpoints. The serverless fields
// are newer than the published API description, so they are read defensively (see
// parseServerless for what is assumed).

import { type Obj, array, object, optionalString, string } from './types.js';

export interface SupportedModel {
  name: string;
  maxSeqLen?: number;
  enabled: boolean;
  remediation?: string;
  /** Whether this workspace can run the model serverless; undefined when the answer does not say. */
  serverless?: boolean;
  /** Serverless limits for the model, when the answer carries any. */
  serverlessLimits?: ServerlessLimits;
}

export interface ServerlessLimits {
  loraRank?: number;
  seqLen?: number;
}

export interface Checkpoint {
  id: string;
  checkpointId: string;
  runId?: string;
  /** `trainer` (weights) or `sampler` (sampler_weights). */
  target?: string;
  baseModel?: string;
  /** `lora_config`: undefined when the answer has no such field, null when the API says it cannot be loaded. */
  loraConfig?: Obj | null;
  /** `expires_at` (ISO), when it has one. */
  expiresAt?: string;
}

const positiveInteger = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;

const firstInteger = (obj: Obj, keys: string[]): number | undefined => keys.map((k) => positiveInteger(obj[k])).find((v) => v !== undefined);

/**
 * ASSUMPTION (unpublished shape): Baseten's docs say "each model in the response has a
 * `serverless` field" and nothing of its type. Read as: a boolean; or an object (its
 * `enabled`/`available`/`supported` boolean when it has one, else true), whose numeric
 * `max_lora_rank`/`max_rank` and `max_seq_len`/`max_sequence_length` are the serverless limits;
 * null or "false"/"disabled" as false, "true"/"enabled" as true. Limits may also come as
 * `serverless_max_lora_rank` / `serverless_max_seq_len` beside it. Absent or anything else:
 * unknown (an API from before serverless).
 */
export function parseServerless(model: Obj): Pick<SupportedModel, 'serverless' | 'serverlessLimits'> {
  const field = model.serverless;
  let serverless: boolean | undefined;
  let inner: Obj = {};
  if (typeof field === 'boolean') serverless = field;
  else if (field === null) serverless = false;
  else if (typeof field === 'string') serverless = { true: true, enabled: true, false: false, disabled: false }[field.toLowerCase()];
  else if (typeof field === 'object' && !Array.isArray(field)) {
    inner = field as Obj;
    serverless = [inner.enabled, inner.available, inner.supported].find((v): v is boolean => typeof v === 'boolean') ?? true;
  }
  const limits: ServerlessLimits = {
    loraRank: firstInteger(inner, ['max_lora_rank', 'max_rank']) ?? positiveInteger(model.serverless_max_lora_rank),
    seqLen: firstInteger(inner, ['max_seq_len', 'max_sequence_length']) ?? positiveInteger(model.serverless_max_seq_len),
  };
  const known = limits.loraRank !== undefined || limits.seqLen !== undefined;
  return { serverless, ...(known ? { serverlessLimits: limits } : {}) };
}

export function parseCapabilities(body: unknown): SupportedModel[] {
  return array(object(body, 'body'), 'supported_models', 'body').map((item, i) => {
    const where = `supported_models[${i}]`;
    const model = object(item, where);
    const maxSeqLen = [model.max_seq_len, model.max_context_length].map(positiveInteger).find((v) => v !== undefined);
    const details = model.enablement_details;
    const remediation = details && typeof details === 'object' ? optionalString(details as Obj, 'remediation') : undefined;
    return { name: string(model, 'model_name', where), maxSeqLen, enabled: model.enabled !== false, remediation, ...parseServerless(model) };
  });
}

/** `lora_config` as the answer has it: absent is unknown (undefined), null means "cannot be loaded"; another type is unknown too. */
function loraConfig(checkpoint: Obj): Obj | null | undefined {
  if (!('lora_config' in checkpoint)) return undefined;
  const value = checkpoint.lora_config;
  if (value === null) return null;
  return typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : undefined;
}

export function parseCheckpoints(body: unknown): Checkpoint[] {
  return array(object(body, 'body'), 'checkpoints', 'body').map((item, i) => {
    const checkpoint = object(item, `checkpoints[${i}]`);
    return {
      id: optionalString(checkpoint, 'id') ?? '',
      checkpointId: optionalString(checkpoint, 'checkpoint_id') ?? '',
      runId: optionalString(checkpoint, 'run_id'),
      target: optionalString(checkpoint, 'target'),
      baseModel: optionalString(checkpoint, 'base_model'),
      loraConfig: loraConfig(checkpoint),
      expiresAt: optionalString(checkpoint, 'expires_at'),
    };
  });
}
