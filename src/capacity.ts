// A capacity refusal of the create (HTTP 429, `details.reason: loops_capacity`) is a refusal
// before any work, so the create is simply tried again, with backoff and the server's
// retry_after, until wait_timeout_seconds have passed since the step began (whatever
// wait_for), and no longer: then the step fails with what to do. Cancellation cuts the pause.

import { type ApiError, CancelledError, CapacityError } from './core/errors.js';
import type { Log } from './core/log.js';
import { type Clock, type RetryPolicy, nextDelay } from './core/retry.js';
import { formatSeconds } from './core/text.js';

export interface CapacityWindow {
  /** Our clock (ms) when the step began. */
  startedAt: number;
  /** wait_timeout_seconds, in ms. */
  windowMs: number;
}

export interface PauseOptions {
  window: CapacityWindow;
  policy: RetryPolicy;
  clock: Clock;
  log: Log;
  signal?: AbortSignal;
}

/** Waits before the next try after refusal number `refusals`; throws CapacityError once the window has closed. */
export async function pauseForCapacity(refusal: ApiError, refusals: number, opts: PauseOptions): Promise<void> {
  const { window, clock, log, signal } = opts;
  const now = clock.now();
  const left = window.startedAt + window.windowMs - now;
  if (left <= 0) {
    throw new CapacityError(
      now - window.startedAt,
      refusal,
      `Baseten has no capacity for this run now: POST /v1/loops/runs was refused ${refusals} time${refusals === 1 ? '' : 's'} ` +
        `(HTTP 429, loops_capacity) until wait_timeout_seconds (${formatSeconds(window.windowMs)}) had passed since the step began; ` +
        'nothing was created. Try again later, choose another base_model, or set scope (serverless or deployment) to ask for the other availability mode',
    );
  }
  const delay = nextDelay(refusals, refusal, { policy: opts.policy, clock, log: (line) => log.info(line), signal });
  const ms = Math.min(delay.ms, left);
  log.info(
    `create run: Baseten has no capacity for this run now (HTTP 429, loops_capacity; refusal ${refusals}); ` +
      `trying again in ${formatSeconds(Math.round(ms / 100) * 100)}, for up to ${formatSeconds(Math.round(left / 100) * 100)} more (wait_timeout_seconds)`,
  );
  await clock.sleep(ms, signal);
  if (signal?.aborted) throw new CancelledError('create run');
}
