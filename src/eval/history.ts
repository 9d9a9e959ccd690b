// The history of a pull request's pushes, kept in the Eval section's hidden data: per push its
// commit, run, verdict and the values of the tracked metrics (at most 6, the ones charted), under
// their shown names (cut to 64 characters). Each name is written once, in a table the pushes
// refer to by number, and the oldest pushes go when the data would pass 16000 characters, so
// that the history fits in a comment whatever the names.

import { inertJson } from './block.js';
import type { Conclusion } from './rules.js';

export const MAX_PUSHES = 30;
export const MAX_TRACKED = 6;

export interface Push {
  sha: string;
  run_id: string;
  conclusion: Conclusion;
  values: Record<string, number>;
}

/**
 * A push's value of `name`, own properties only: metric names come from the user's file, and
 * `constructor` or `toString` must not find Object.prototype's members where a push lacks them.
 */
export function valueOf(push: Push, name: string): number | undefined {
  return Object.hasOwn(push.values, name) ? push.values[name] : undefined;
}

const DATA = /<!-- loops-eval-history (\{[^>]*\}) -->/;
const SHA = /^[0-9a-f]{40}$/;
const RUN_ID = /^[A-Za-z0-9_-]{0,128}$/;
const CONCLUSIONS: readonly string[] = ['success', 'failure', 'neutral'];

const MAX_DATA = 16_000;

export function renderHistoryData(pushes: Push[]): string {
  const names = [...new Set(pushes.flatMap((p) => Object.keys(p.values)))];
  const stored = pushes.map((p) => ({ ...p, values: Object.entries(p.values).map(([name, value]) => [names.indexOf(name), value]) }));
  return `<!-- loops-eval-history ${inertJson({ v: 2, names, pushes: stored })} -->`;
}

/** The pushes an Eval section holds; what does not fit is dropped, not trusted. */
export function parseHistory(section: string | undefined): Push[] {
  const json = DATA.exec(section ?? '')?.[1];
  if (!json) return [];
  try {
    const data = JSON.parse(json) as { v?: unknown; names?: unknown; pushes?: unknown };
    if (data.v !== 2 || !Array.isArray(data.pushes) || !Array.isArray(data.names)) return [];
    const names = data.names as unknown[];
    return data.pushes.flatMap((p: unknown): Push[] => {
      const push = (p && typeof p === 'object' ? p : {}) as Partial<Record<keyof Push, unknown>>;
      if (typeof push.sha !== 'string' || !SHA.test(push.sha) || typeof push.run_id !== 'string' || !RUN_ID.test(push.run_id)) return [];
      if (typeof push.conclusion !== 'string' || !CONCLUSIONS.includes(push.conclusion) || !Array.isArray(push.values)) return [];
      const values = (push.values as unknown[]).flatMap((entry): Array<[string, number]> => {
        const [at, value] = Array.isArray(entry) ? (entry as unknown[]) : [];
        const name = typeof at === 'number' ? names[at] : undefined;
        return typeof name === 'string' && typeof value === 'number' && Number.isFinite(value) ? [[name, value]] : [];
      });
      return [{ sha: push.sha, run_id: push.run_id, conclusion: push.conclusion as Conclusion, values: Object.fromEntries(values) }];
    });
  } catch {
    return [];
  }
}

/** The history with this push in it: a re-run of a commit replaces its row in place; the newest 30 are kept (fewer if they would not fit). */
export function withPush(pushes: Push[], push: Push): Push[] {
  const at = pushes.findIndex((p) => p.sha === push.sha);
  const next = (at >= 0 ? pushes.map((p, i) => (i === at ? push : p)) : [...pushes, push]).slice(-MAX_PUSHES);
  while (next.length > 1 && renderHistoryData(next).length > MAX_DATA) next.shift();
  return next;
}
