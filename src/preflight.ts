// Checks before anything is created: the base model is supported (with suggestions on a
// typo), max_seq_len fits it, scope fits what this workspace can run serverless, and the
// checkpoint at checkpoint_path exists and can be loaded (checkpoint-check.ts). Skipped with a
// warning when the endpoints are unavailable; a rejected key still fails, since nothing else
// would work. It also predicts the run's availability mode (modes.ts) for the warm start.

import { checkCheckpoint } from './checkpoint-check.js';
import { ApiError, CancelledError, RetriesExhaustedError, UserError } from './core/errors.js';
import type { Log } from './core/log.js';
import type { Settings } from './inputs.js';
import type { SupportedModel } from './loops/catalog.js';
import type { CallOptions, LoopsClient } from './loops/client.js';
import { type Prediction, beyondServerless, modeWarnings, predictMode } from './modes.js';

/**
 * The checks (when `preflight` is on) and the predicted mode. With preflight off, the
 * capabilities are still read when the warm start needs the prediction (`forWarmStart`).
 */
export async function preflight(
  client: LoopsClient,
  settings: Settings,
  log: Log,
  opts: CallOptions,
  forWarmStart: boolean,
): Promise<Prediction | undefined> {
  if (!settings.preflight) return forWarmStart ? predictOnly(client, settings, log, opts) : undefined;
  const [models, checkpoints] = await Promise.allSettled([
    client.getCapabilities(opts),
    settings.checkpointPath ? client.findCheckpoint(settings.checkpointPath, opts) : Promise.resolve(undefined),
  ]);
  const problems: string[] = [];
  const checked: string[] = [];

  if (models.status === 'fulfilled') {
    problems.push(...checkModel(settings, models.value), ...checkScope(settings, models.value));
    checked.push(settings.maxSeqLen !== undefined ? 'base_model, max_seq_len' : 'base_model');
  } else skipOrThrow(models.reason, 'base_model and max_seq_len', log);

  if (checkpoints.status === 'fulfilled') {
    if (checkpoints.value) {
      problems.push(...checkCheckpoint(settings, checkpoints.value, client.serverNow().ms));
      checked.push('checkpoint_path');
    }
  } else skipOrThrow(checkpoints.reason, 'checkpoint_path', log);

  if (problems.length > 0) {
    throw new UserError(`Preflight found problems (nothing was created):\n${problems.map((p) => `- ${p}`).join('\n')}`);
  }
  if (checked.length > 0) log.info(`Preflight passed (${checked.join(', ')})`);
  return predicted(settings, models.status === 'fulfilled' ? models.value : undefined, log);
}

/** The prediction alone: whatever goes wrong only makes it unknown (the warm start then works as before). */
async function predictOnly(client: LoopsClient, settings: Settings, log: Log, opts: CallOptions = {}): Promise<Prediction> {
  try {
    return predicted(settings, await client.getCapabilities(opts), log);
  } catch (error) {
    if ((error instanceof RetriesExhaustedError ? error.last : error) instanceof CancelledError) throw error;
    return predicted(settings, undefined, log);
  }
}

function predicted(settings: Settings, models: SupportedModel[] | undefined, log: Log): Prediction {
  const prediction = predictMode(settings, models);
  log.info(`Availability mode expected: ${prediction.mode} (${prediction.why})`);
  for (const warning of modeWarnings(settings, prediction)) log.warning(warning);
  return prediction;
}

function skipOrThrow(error: unknown, what: string, log: Log): void {
  const last = error instanceof RetriesExhaustedError ? error.last : error;
  if (last instanceof CancelledError || (last instanceof ApiError && last.status === 401)) throw last;
  if (!(last instanceof Error)) throw error;
  log.warning(`Preflight check of ${what} skipped: ${last.message}`);
}

export function checkModel(settings: Pick<Settings, 'baseModel' | 'maxSeqLen'>, models: SupportedModel[]): string[] {
  const model = models.find((m) => m.name === settings.baseModel);
  if (!model) {
    const suggestions = closestNames(
      settings.baseModel,
      models.map((m) => m.name),
    );
    const hint = suggestions.length ? ` Did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?` : '';
    return [`base_model: "${settings.baseModel}" is not a model this workspace can fine-tune on Loops.${hint}`];
  }
  const problems: string[] = [];
  if (!model.enabled) {
    problems.push(`base_model: "${model.name}" is not enabled for this workspace${model.remediation ? `: ${model.remediation}` : ''}`);
  }
  if (settings.maxSeqLen !== undefined && model.maxSeqLen !== undefined && settings.maxSeqLen > model.maxSeqLen) {
    problems.push(`max_seq_len: ${settings.maxSeqLen} exceeds the maximum of ${model.maxSeqLen} for ${model.name}`);
  }
  return problems;
}

/** `scope: serverless` fails instead of falling back: refuse what the capabilities say would fall back. */
export function checkScope(settings: Pick<Settings, 'scope' | 'baseModel' | 'loraRank' | 'maxSeqLen'>, models: SupportedModel[]): string[] {
  const model = models.find((m) => m.name === settings.baseModel);
  if (settings.scope !== 'serverless' || !model || model.serverless === undefined) return [];
  if (model.serverless) {
    const beyond = beyondServerless(settings, model);
    return beyond ? [`scope: serverless, but ${beyond}, and serverless does not fall back. Lower it, or set scope: auto`] : [];
  }
  const serverless = models.filter((m) => m.serverless).map((m) => m.name);
  const near = closestNames(settings.baseModel, serverless);
  const hint = near.length
    ? ` Did you mean ${near.map((s) => `"${s}"`).join(' or ')}?`
    : serverless.length
      ? ` Serverless here: ${serverless.slice(0, 5).join(', ')}.`
      : ' No model is serverless for this workspace.';
  return [
    `scope: serverless, but this workspace has no serverless access to ${model.name}.${hint} ` +
      'Set scope: auto (dedicated when serverless is not available) or scope: deployment',
  ];
}

/** Up to three supported names closest to `name` (case-insensitive edit distance). */
export function closestNames(name: string, candidates: string[]): string[] {
  const target = name.toLowerCase();
  const scored = candidates.map((candidate) => {
    const c = candidate.toLowerCase();
    const short = c.split('/').pop() ?? c;
    const distance = Math.min(editDistance(target, c), editDistance(target, short) + 1);
    return { candidate, distance };
  });
  const limit = Math.max(2, Math.floor(target.length * 0.35));
  return scored
    .filter((s) => s.distance <= limit)
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, 3)
    .map((s) => s.candidate);
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
