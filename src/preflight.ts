// Checks before anything is created: the base model is supported (with suggestions on a
// typo), max_seq_len fits it, and checkpoint_path exists. Skipped with a warning when the
// endpoints are unavailable; a rejected key still fails, since nothing else would work.

import { ApiError, CancelledError, RetriesExhaustedError, UserError } from './core/errors.js';
import type { Log } from './core/log.js';
import type { Settings } from './inputs.js';
import type { CallOptions, LoopsClient } from './loops/client.js';
import type { Checkpoint, SupportedModel } from './loops/types.js';

export async function preflight(client: LoopsClient, settings: Settings, log: Log, opts: CallOptions = {}): Promise<void> {
  const [models, checkpoints] = await Promise.allSettled([
    client.getCapabilities(opts),
    settings.checkpointPath ? client.findCheckpoint(settings.checkpointPath, opts) : Promise.resolve(undefined),
  ]);
  const problems: string[] = [];
  const checked: string[] = [];

  if (models.status === 'fulfilled') {
    problems.push(...checkModel(settings, models.value));
    checked.push(settings.maxSeqLen !== undefined ? 'base_model, max_seq_len' : 'base_model');
  } else skipOrThrow(models.reason, 'base_model and max_seq_len', log);

  if (checkpoints.status === 'fulfilled') {
    if (checkpoints.value) {
      problems.push(...checkCheckpoint(settings, checkpoints.value));
      checked.push('checkpoint_path');
    }
  } else skipOrThrow(checkpoints.reason, 'checkpoint_path', log);

  if (problems.length > 0) {
    throw new UserError(`Preflight found problems (nothing was created):\n${problems.map((p) => `- ${p}`).join('\n')}`);
  }
  if (checked.length > 0) log.info(`Preflight passed (${checked.join(', ')})`);
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

function checkCheckpoint(settings: Pick<Settings, 'checkpointPath'>, found: Checkpoint[]): string[] {
  return found.length > 0 ? [] : [`checkpoint_path: no checkpoint found at ${settings.checkpointPath}`];
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
