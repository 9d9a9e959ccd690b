// Run identity: where a run is launched from (the slot) and what shapes it (the leg).

import { createHash } from 'node:crypto';
import type { GithubContext } from './context.js';
import type { Settings } from './inputs.js';

type Shaping = Pick<
  Settings,
  'baseModel' | 'loraRank' | 'maxSeqLen' | 'seed' | 'scaleDownDelaySeconds' | 'checkpointPath' | 'availabilityModel' | 'replicas'
>;

/** Where the step runs: workflow file, job and step id. */
export function slotOf(ctx: Pick<GithubContext, 'workflow' | 'job' | 'action'>): string {
  return [ctx.workflow, ctx.job, ctx.action].join('#');
}

/**
 * The leg: the slot plus every input that shapes the run (what the create body carries, less
 * session, name and reuse) plus `legKey`, as 8 hex digits. Matrix legs of one job differ here.
 */
export function legOf(ctx: Pick<GithubContext, 'workflow' | 'job' | 'action'>, settings: Shaping, legKey = ''): string {
  const shape = [
    settings.baseModel,
    settings.loraRank,
    settings.maxSeqLen ?? '',
    settings.seed ?? '',
    settings.scaleDownDelaySeconds,
    settings.checkpointPath ?? '',
    settings.availabilityModel,
    settings.replicas,
  ];
  return createHash('sha256')
    .update(JSON.stringify([slotOf(ctx), shape, legKey]))
    .digest('hex')
    .slice(0, 8);
}
