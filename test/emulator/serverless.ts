/**
 * Availability modes at create time (Baseten docs, 2026-11): with the default scope a run is
 * serverless when the workspace has serverless access to the model, and dedicated when it has
 * none, when the LoRA rank or sequence length is beyond serverless for the model, or when the
 * run reuses another run's deployments (reuse_from_*, whatever the source). `scope: serverless`
 * fails instead of falling back; `scope: deployment` forces dedicated. Also the capacity
 * refusal (429, details.reason loops_capacity). What is not published is modelled here: the
 * refusal bodies, and a max_seq_len left null counting as within the serverless limit.
 */
import type { Config } from './config.js';
import { type Resp, detail, json } from './responses.js';
import type { SupportedModel } from './types.js';

export type ModeChoice = { ok: true; serverless: boolean } | { ok: false; resp: Resp };

/** The model's `serverless` as this workspace's capabilities answer shows it: capable, and accessible. */
export function serverlessFor(config: Config, model: SupportedModel): boolean {
  const access = config.serverlessAccess;
  const granted = access === 'all' || (Array.isArray(access) && access.includes(model.model_name));
  return model.serverless === true && granted;
}

/** Why the body is beyond the model's serverless limits, or undefined. */
function beyond(model: SupportedModel, body: Record<string, unknown>): string | undefined {
  const rank = typeof body['lora_rank'] === 'number' ? body['lora_rank'] : 64;
  const seq = typeof body['max_seq_len'] === 'number' ? body['max_seq_len'] : undefined;
  const maxRank = model.serverless_max_lora_rank;
  const maxSeq = model.serverless_max_seq_len;
  if (maxRank !== undefined && rank > maxRank) return `lora_rank ${rank} is above the serverless maximum of ${maxRank}`;
  if (maxSeq !== undefined && seq !== undefined && seq > maxSeq) return `max_seq_len ${seq} is above the serverless maximum of ${maxSeq}`;
  return undefined;
}

export function chooseMode(config: Config, body: Record<string, unknown>): ModeChoice {
  const scope = body['scope'];
  if (scope === 'deployment') return { ok: true, serverless: false };
  const model = config.models.find((m) => m.model_name === body['base_model']);
  const reuse = ['reuse_from_run_id', 'reuse_from_session_id'].find((k) => typeof body[k] === 'string');
  const why =
    !model || !serverlessFor(config, model)
      ? `this workspace has no serverless access to ${String(body['base_model'])}`
      : (beyond(model, body) ?? (reuse ? `${reuse} reuses another run's deployments, which needs the dedicated mode` : undefined));
  if (scope !== 'serverless') return { ok: true, serverless: why === undefined };
  return why === undefined ? { ok: true, serverless: true } : { ok: false, resp: detail(400, `scope is serverless, but ${why}`) };
}

/** The next capacity refusal, when one is due (options.capacity), counted down. */
export function capacityRefusal(config: Config): Resp | undefined {
  if (!(config.capacity.refusals > 0)) return undefined;
  config.capacity.refusals -= 1;
  const retry = config.capacity.retryAfterSeconds;
  return json(429, {
    error: 'Baseten has no capacity for this run right now',
    details: { reason: 'loops_capacity' },
    ...(retry !== undefined ? { retry_after: retry } : {}),
  });
}
