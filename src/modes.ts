// Baseten Loops' availability modes. A run is serverless (billed per token trained and sampled,
// idle free, no trainer or sampler deployment) or dedicated (GPU time until stopped). This module
// predicts the mode before the create (from the capabilities answer and the settings), reads the
// mode the API's answer about a run shows, and says what follows: whether a warm start may reuse
// (a reuse makes a run dedicated), the warnings preflight gives, and the billing line. Pure.

import type { Log } from './core/log.js';
import type { Settings } from './inputs.js';
import type { SupportedModel } from './loops/catalog.js';
import type { Run } from './loops/types.js';

export type Mode = 'serverless' | 'dedicated' | 'unknown';

/**
 * The mode the API's answer about a run shows. ASSUMPTION (the JSON of a serverless run is not
 * published): "a serverless run has no trainer or sampler deployment", but deployment_id is
 * nullable for dedicated runs too (since 2026-08-21), and a dedicated run may get its deployment
 * after the create answer. So:
 * - a deployment_id, or a sampler with a model_id or deployment_id (a Baseten model deployment) → dedicated;
 * - no deployment_id and a sampler with neither → serverless;
 * - anything else (no sampler in the answer) → unknown, until a later answer tells.
 */
export function detectMode(run: Pick<Run, 'deploymentId' | 'sampler'>): Mode {
  const sampler = run.sampler;
  if (run.deploymentId || sampler?.modelId || sampler?.deploymentId) return 'dedicated';
  return sampler ? 'serverless' : 'unknown';
}

/** How a run in this mode is billed, in a clause. */
export const BILLING: Readonly<Record<Mode, string>> = {
  serverless: 'billed per token trained and sampled; an idle run costs nothing',
  dedicated: 'billed for GPU time while the trainer and sampler are up, idle included, until the run is stopped',
  unknown: 'billing follows the mode, which the API has not shown yet',
};

/** "serverless (billed per token …)", for the log, the summary and the comment. */
export function describeMode(mode: Mode): string {
  return `${mode} (${BILLING[mode]})`;
}

/** A logger of the mode the answers show: one line when it is first known and whenever it changes. */
export function modeLogger(log: Log): (run: Run) => Mode {
  let last: Mode | undefined;
  return (run) => {
    const mode = detectMode(run);
    if (mode !== last) log.info(`Run ${run.id}: mode ${describeMode(mode)}`);
    last = mode;
    return mode;
  };
}

type Shaping = Pick<
  Settings,
  'baseModel' | 'scope' | 'loraRank' | 'maxSeqLen' | 'reuseFromRunId' | 'reuseFromSessionId' | 'replicas' | 'availabilityModel'
>;

export interface Prediction {
  mode: Mode;
  /** Why, in a clause. */
  why: string;
  /** The capabilities say this workspace can run the model serverless at these settings (whatever scope and reuse say). */
  serverlessCapable: boolean;
}

/** The serverless limit `settings` go beyond, in a clause naming the input; undefined when within them (or none is known). */
export function beyondServerless(settings: Pick<Settings, 'loraRank' | 'maxSeqLen'>, model: SupportedModel): string | undefined {
  const limits = model.serverlessLimits ?? {};
  if (limits.loraRank !== undefined && settings.loraRank > limits.loraRank) {
    return `lora_rank ${settings.loraRank} is beyond serverless's limit of ${limits.loraRank} for ${model.name}`;
  }
  if (limits.seqLen !== undefined && settings.maxSeqLen !== undefined && settings.maxSeqLen > limits.seqLen) {
    return `max_seq_len ${settings.maxSeqLen} is beyond serverless's limit of ${limits.seqLen} for ${model.name}`;
  }
  // An empty max_seq_len (the model's maximum) is not counted as beyond: whether the server then
  // caps it for serverless is not published, and predicting dedicated wrongly would let a warm
  // start move a serverless run onto GPUs, while predicting serverless wrongly only skips one.
  return undefined;
}

/**
 * The mode the create will give, as far as the capabilities answer (`models`, undefined when it
 * could not be read) and the settings tell. Baseten's rules: serverless when the workspace has
 * serverless access to the model, unless the rank or sequence length is beyond serverless for it,
 * or the run reuses another run's infrastructure; `scope: deployment` forces dedicated.
 */
export function predictMode(settings: Shaping, models: SupportedModel[] | undefined): Prediction {
  const model = models?.find((m) => m.name === settings.baseModel);
  const beyond = model?.serverless ? beyondServerless(settings, model) : undefined;
  const serverlessCapable = model?.serverless === true && beyond === undefined;
  const is = (mode: Mode, why: string): Prediction => ({ mode, why, serverlessCapable });
  if (settings.scope === 'deployment') return is('dedicated', 'scope is deployment');
  if (!models) return is('unknown', 'the capabilities could not be read');
  if (!model) return is('unknown', `${settings.baseModel} is not in the capabilities answer`);
  if (model.serverless === undefined) return is('unknown', `the capabilities answer does not say whether ${model.name} can run serverless`);
  if (!model.serverless) return is('dedicated', `this workspace has no serverless access to ${model.name}`);
  if (beyond) return is('dedicated', beyond);
  const reuse = settings.reuseFromRunId ? 'reuse_from_run_id' : settings.reuseFromSessionId ? 'reuse_from_session_id' : undefined;
  if (reuse) return is('dedicated', `${reuse} reuses another run's infrastructure, which makes a run dedicated`);
  return is('serverless', `${model.name} can run serverless for this workspace`);
}

export type WarmStartGate = { allowed: true } | { allowed: false; why: string };

/**
 * Whether warm start (a reuse, which makes a run dedicated) may go ahead: only when the run will
 * be dedicated anyway, or the mode cannot be predicted (then as before serverless existed).
 */
export function warmStartGate(settings: Pick<Settings, 'scope'>, prediction: Prediction): WarmStartGate {
  if (settings.scope === 'serverless') return { allowed: false, why: 'scope is serverless, and a reuse would make the create fail' };
  if (prediction.mode !== 'serverless') return { allowed: true };
  return {
    allowed: false,
    why: `${prediction.why}, and a reuse would move the run onto dedicated GPUs billed until stopped; set scope: deployment to warm-start on dedicated GPUs`,
  };
}

/** What preflight warns about once the mode is predicted: inputs a serverless run ignores, a reuse that gives up serverless. */
export function modeWarnings(settings: Shaping, prediction: Prediction): string[] {
  const warnings: string[] = [];
  const ignored = [
    settings.replicas !== 1 ? `replicas: ${settings.replicas}` : '',
    settings.availabilityModel === 'spot' ? 'availability_model: spot' : '',
  ].filter(Boolean);
  if (prediction.mode === 'serverless' && ignored.length > 0) {
    warnings.push(
      `${ignored.join(' and ')} ${ignored.length > 1 ? 'apply' : 'applies'} only to dedicated runs, and this run will be serverless ` +
        `(${prediction.why}): ignored. Set scope: deployment to force a dedicated run.`,
    );
  }
  const reuse = settings.reuseFromRunId ? 'reuse_from_run_id' : settings.reuseFromSessionId ? 'reuse_from_session_id' : undefined;
  if (reuse && settings.scope === 'auto' && prediction.serverlessCapable) {
    warnings.push(
      `${reuse}: reusing another run's infrastructure makes this run dedicated, billed for GPU time until stopped, although ` +
        `${settings.baseModel} can run serverless here (billed per token). Leave ${reuse} empty to run serverless.`,
    );
  }
  return warnings;
}
