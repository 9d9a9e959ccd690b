// Preflight of checkpoint_path against what GET /v1/loops/checkpoints says of it: each refusal
// names the checkpoint and the fix, before anything is created. Pure: the server's clock is
// passed in (an expiry is the server's to judge, not the runner's).

import type { Settings } from './inputs.js';
import type { Checkpoint } from './loops/catalog.js';

type Checked = Pick<Settings, 'checkpointPath' | 'baseModel' | 'loraRank'>;

/** The LoRA rank a checkpoint's lora_config gives (as `rank` or `r`), when it gives one. */
export function rankOf(checkpoint: Checkpoint): number | undefined {
  const config = checkpoint.loraConfig ?? {};
  return [config.rank, config.r].find((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0);
}

/**
 * The problems with starting from `found` (the checkpoints listed for checkpoint_path) at the
 * server time `serverNowMs`. A checkpoint without lora_config or expires_at is unknown on that
 * point, not refused.
 */
export function checkCheckpoint(settings: Checked, found: Checkpoint[], serverNowMs: number): string[] {
  const path = settings.checkpointPath ?? '';
  // A sampler_weights path never gets here: inputs.ts refuses it, with the weights path to use.
  const checkpoint = found[0];
  if (!checkpoint) return [`checkpoint_path: no checkpoint found at ${path}`];
  const problems: string[] = [];
  if (checkpoint.loraConfig === null) {
    problems.push(
      `checkpoint_path: the checkpoint ${path} cannot be loaded (the API gives it no lora_config: unsupported). ` +
        'Start from another checkpoint of the run, or leave checkpoint_path empty',
    );
  }
  const expires = checkpoint.expiresAt ? Date.parse(checkpoint.expiresAt) : Number.NaN;
  if (expires <= serverNowMs) {
    problems.push(
      `checkpoint_path: the checkpoint ${path} expired at ${checkpoint.expiresAt ?? ''} (server time; expired checkpoints are deleted ` +
        'within a day). Start from a newer checkpoint, and extend the life of the ones you keep (their TTL) before they expire',
    );
  }
  if (checkpoint.baseModel && checkpoint.baseModel !== settings.baseModel) {
    problems.push(
      `checkpoint_path: the checkpoint ${path} was trained on ${checkpoint.baseModel}, not on base_model ${settings.baseModel}. ` +
        `Set base_model: ${checkpoint.baseModel}, or start from a checkpoint of ${settings.baseModel}`,
    );
  }
  const rank = rankOf(checkpoint);
  if (rank !== undefined && rank !== settings.loraRank) {
    problems.push(`lora_rank: ${settings.loraRank} differs from the rank of the checkpoint ${path} (${rank}). Set lora_rank: ${rank}`);
  }
  return problems;
}
