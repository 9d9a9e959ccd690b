// What identifies a report, and the machine-readable block its check run carries. A report is
// identified by check_name and leg_key; the block, one HTML comment in the check run's
// output.text, holds the scores whole (names as written) with the run, leg and commit, so that a
// later pull request can take them as its baseline.

import { createHash } from 'node:crypto';

export interface Block {
  v: 1;
  metrics: Record<string, number>;
  run_id: string;
  leg_key: string;
  sha: string;
}

/** A short key for check_name and leg_key together: markers carry it, never the raw text. */
export function reportKey(checkName: string, legKey: string): string {
  return createHash('sha256')
    .update(JSON.stringify([checkName, legKey]))
    .digest('hex')
    .slice(0, 16);
}

/**
 * JSON that cannot end the HTML comment it sits in: `<`, `>` and `&` (and `@`, so that no mention
 * can form) as \u escapes, which any JSON reader turns back into the characters.
 */
export function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&@]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The most the block may take of the check run's output.text (GitHub allows 65535 characters). */
export const MAX_BLOCK = 60_000;

export function renderBlock(block: Block): string {
  return `<!-- loops-eval ${inertJson(block)} -->`;
}

const BLOCK = /<!-- loops-eval (\{[^>]*\}) -->/;

/** The block a check run's output.text carries, if it holds one that fits. */
export function parseBlock(text: string | null | undefined): Block | undefined {
  const json = BLOCK.exec(text ?? '')?.[1];
  if (!json) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return undefined;
  }
  const b = (data && typeof data === 'object' ? data : {}) as Partial<Record<keyof Block, unknown>>;
  const metrics = b.metrics && typeof b.metrics === 'object' && !Array.isArray(b.metrics) ? b.metrics : undefined;
  if (b.v !== 1 || !metrics || typeof b.leg_key !== 'string' || typeof b.sha !== 'string' || typeof b.run_id !== 'string') return undefined;
  const scores = Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]));
  return { v: 1, metrics: Object.fromEntries(scores), run_id: b.run_id, leg_key: b.leg_key, sha: b.sha };
}
