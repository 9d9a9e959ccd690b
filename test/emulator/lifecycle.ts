/**
 * What happens to a deployment after it is created: idle scale-down, wake on a request,
 * teardown on deactivation, and the GPU time it held.
 */
import { DEAD_SAMPLER, GPU_TRAINER, TERMINAL_TRAINER } from './defaults.js';
import type { DeploymentUsage } from './options.js';
import type { DeploymentState, LogEntry, World } from './store.js';

export function trainerStatus(d: DeploymentState, now: number): string {
  return d.track.statusAt(now);
}

export function samplerStatus(d: DeploymentState, now: number): string {
  return d.sampler.track.statusAt(now);
}

/** Someone used the deployment: the idle clock starts again. */
export function touch(d: DeploymentState, now: number): void {
  d.lastUsed = Math.max(d.lastUsed, now);
}

/** Trainer and sampler scale to zero at `at` (GPUs released; the runs stay as they are). */
export function scaleDown(d: DeploymentState, at: number): void {
  d.track.set(at, 'SCALED_TO_ZERO');
  if (!DEAD_SAMPLER.has(d.sampler.track.statusAt(at))) d.sampler.track.set(at, 'SCALED_TO_ZERO');
}

/**
 * Applies an idle scale-down that fell due, at the moment it fell due (not when it is noticed),
 * so statuses and GPU time do not depend on when somebody looks.
 */
function settleIdle(world: World, d: DeploymentState, now: number): void {
  const perSecond = world.config.scaleDownMsPerSecond;
  if (!(perSecond > 0)) return;
  const deadline = d.lastUsed + d.scaleDownDelaySeconds * perSecond;
  if (deadline > now || d.idleHandled === deadline) return;
  d.idleHandled = deadline;
  if (GPU_TRAINER.has(d.track.statusAt(deadline))) scaleDown(d, deadline);
}

/** Brings every deployment up to `now`: call before reading or changing state. */
export function settle(world: World, now: number): void {
  for (const d of world.store.dedicated()) settleIdle(world, d, now);
}

/**
 * A request reached a SCALED_TO_ZERO sampler: it wakes (WAKING_UP, and the trainer DEPLOYING if
 * it was scaled to zero too) for wakeMs, then is ACTIVE (RUNNING).
 */
export function wake(world: World, d: DeploymentState, now: number): void {
  const ms = world.config.wakeMs;
  d.sampler.track.play(now, [{ status: 'WAKING_UP', ms }, { status: 'ACTIVE' }]);
  if (trainerStatus(d, now) === 'SCALED_TO_ZERO') d.track.play(now, [{ status: 'DEPLOYING', ms }, { status: 'RUNNING' }]);
  touch(d, now);
}

/**
 * Deactivation: the trainer STOPPED (a FAILED or PREEMPTED one keeps its status), the sampler
 * INACTIVE, every run on the deployment INACTIVE; what their stories would still have logged
 * never happens, and each logs its shutdown. Doing it twice changes nothing.
 */
export function teardown(world: World, d: DeploymentState, now: number): void {
  for (const r of world.store.runsOn(d)) r.active = false;
  const live = !TERMINAL_TRAINER.has(trainerStatus(d, now)) || samplerStatus(d, now) !== 'INACTIVE';
  if (live) {
    const at = BigInt(now) * 1_000_000n;
    const end = (logs: LogEntry[]): LogEntry[] => [
      ...logs.filter((line) => line.ns <= at),
      { ns: at, message: 'Deactivated: shutting down', level: 'INFO', replica: null },
    ];
    d.logs = end(d.logs);
    d.sampler.logs = end(d.sampler.logs);
  }
  if (!TERMINAL_TRAINER.has(trainerStatus(d, now))) d.track.set(now, 'STOPPED');
  if (samplerStatus(d, now) !== 'INACTIVE') d.sampler.track.set(now, 'INACTIVE');
}

export function usage(world: World, now: number): DeploymentUsage[] {
  return world.store.dedicated().map((d) => ({
    id: d.id,
    runIds: [...d.runIds],
    createdAt: d.createdAt,
    gpu: d.track.intervals(now, GPU_TRAINER),
  }));
}
