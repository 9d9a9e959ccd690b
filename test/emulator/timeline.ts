/**
 * A status that follows timelines on the server clock. A track is a history of phases; each
 * phase plays one timeline from its start until the next phase starts. Creation starts the
 * configured timeline; a pin, a scale-down, a wake or a teardown starts a new phase. The
 * history is kept so that GPU time can be accounted after the fact.
 */
import type { GpuInterval } from './options.js';
import type { TimelineStep } from './types.js';

interface Phase {
  since: number;
  steps: TimelineStep[];
}

/** The status `elapsedMs` into a timeline (the last step lasts forever). */
export function statusAt(timeline: readonly TimelineStep[], elapsedMs: number): string {
  let acc = 0;
  for (const step of timeline) {
    if (step.ms === undefined) return step.status;
    acc += step.ms;
    if (elapsedMs < acc) return step.status;
  }
  return timeline[timeline.length - 1]?.status ?? '';
}

export class Track {
  private readonly phases: Phase[] = [];

  constructor(since: number, steps: readonly TimelineStep[]) {
    this.play(since, steps);
  }

  /** Starts a timeline at `since`. */
  play(since: number, steps: readonly TimelineStep[]): void {
    this.phases.push({ since, steps: steps.map((s) => ({ ...s })) });
  }

  /** From `since` on, one status for good. */
  set(since: number, status: string): void {
    this.play(since, [{ status }]);
  }

  /**
   * The newest phase that has begun by `t` decides (so a pin made after a test set the clock
   * back still shows); before every phase, the first one.
   */
  statusAt(t: number): string {
    let phase = this.phases[0];
    for (const p of this.phases) if (p.since <= t) phase = p;
    return phase ? statusAt(phase.steps, t - phase.since) : '';
  }

  /** The phases in order, each starting no earlier than the one before (the clock may go back). */
  private ordered(): Phase[] {
    let floor = -Infinity;
    return this.phases.map((p) => {
      floor = Math.max(floor, p.since);
      return { since: floor, steps: p.steps };
    });
  }

  /** When the status was in `holding`, up to `now`; an interval still open at `now` has no `to`. */
  intervals(now: number, holding: ReadonlySet<string>): GpuInterval[] {
    const spans: { from: number; to: number }[] = [];
    const phases = this.ordered();
    phases.forEach((phase, i) => {
      const end = phases[i + 1]?.since ?? Infinity;
      let t = phase.since;
      phase.steps.forEach((step, j) => {
        const last = j === phase.steps.length - 1 || step.ms === undefined;
        const stepEnd = last ? Infinity : t + (step.ms ?? 0);
        const from = t;
        const to = Math.min(stepEnd, end);
        if (holding.has(step.status) && to > from && from < end) addSpan(spans, from, to);
        t = stepEnd;
      });
    });
    return spans.filter((s) => s.from <= now).map((s) => (s.to > now ? { from: s.from } : { from: s.from, to: s.to }));
  }
}

function addSpan(spans: { from: number; to: number }[], from: number, to: number): void {
  const prev = spans[spans.length - 1];
  if (prev && prev.to === from) prev.to = to;
  else spans.push({ from, to });
}
