// The metrics file: `{"name": number, …}` or `[{"name": …, "value": number}, …]`. Pure: text in,
// metrics or problems out, every problem naming the file and, where there is one, the metric or
// the item. Python's json.dump writes NaN and Infinity as bare words, which are not JSON: they are
// read as such, so that the error names the metric rather than a character position.

import { show } from '../fields.js';

export interface Metric {
  name: string;
  value: number;
}

export const MAX_METRICS = 100;

export type MetricsResult = { ok: true; metrics: Metric[] } | { ok: false; errors: string[] };

/** Stands for a bare NaN or ±Infinity while the text goes through JSON.parse. */
const NON_FINITE = '\u0000non-finite ';
const BARE_NON_FINITE = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g;

/** `where` names the file in every problem, e.g. `metrics: out/metrics.json`. */
export function parseMetrics(text: string, where: string): MetricsResult {
  let data: unknown;
  try {
    // A UTF-8 byte order mark (Windows PowerShell writes one) is not JSON but is no one's mistake.
    data = JSON.parse(
      text.replace(/^\uFEFF/, '').replace(BARE_NON_FINITE, (all, bare?: string) => (bare ? JSON.stringify(NON_FINITE + bare) : all)),
    );
  } catch (error) {
    return { ok: false, errors: [`${where}: not JSON (${error instanceof Error ? error.message : String(error)})`] };
  }
  const items = itemsOf(data, where);
  if (!Array.isArray(items)) return { ok: false, errors: [items.error] };
  const errors: string[] = [];
  const seen = new Set<string>();
  const metrics: Metric[] = [];
  for (const item of items) {
    if ('error' in item) {
      errors.push(item.error);
      continue;
    }
    const problem = nameProblem(item.name) ?? valueProblem(item.value) ?? (seen.has(item.name) ? 'appears more than once' : undefined);
    if (problem) errors.push(`${where}: metric ${show(item.name)} ${problem}`);
    else metrics.push({ name: item.name, value: item.value as number });
    seen.add(item.name);
  }
  if (items.length > MAX_METRICS) errors.push(`${where}: ${items.length} metrics; at most ${MAX_METRICS}`);
  if (items.length === 0) errors.push(`${where}: no metrics (an empty ${Array.isArray(data) ? 'array' : 'object'})`);
  return errors.length ? { ok: false, errors } : { ok: true, metrics };
}

type Item = { name: string; value: unknown } | { error: string };

function itemsOf(data: unknown, where: string): Item[] | { error: string } {
  if (Array.isArray(data)) {
    return data.map((entry: unknown, i): Item => {
      const { name, value } = (entry && typeof entry === 'object' ? entry : {}) as { name?: unknown; value?: unknown };
      if (typeof name !== 'string') return { error: `${where}: item ${i + 1} has no "name" (a string): ${preview(entry)}` };
      if (!entry || typeof entry !== 'object' || !('value' in entry))
        return { error: `${where}: metric ${show(name)} (item ${i + 1}) has no "value"` };
      return { name, value };
    });
  }
  if (data && typeof data === 'object') return Object.entries(data as Record<string, unknown>).map(([name, value]) => ({ name, value }));
  return { error: `${where}: must be an object {"name": number, …} or an array [{"name": …, "value": number}, …] (got ${preview(data)})` };
}

function nameProblem(name: string): string | undefined {
  // Any length: a name is shown cut to 64 characters and stored whole; only the block's total
  // size, which GitHub caps, limits the names (src/eval/inputs.ts).
  return name.trim() ? undefined : 'has an empty name';
}

function valueProblem(value: unknown): string | undefined {
  if (typeof value === 'string' && value.startsWith(NON_FINITE)) return `is ${value.slice(NON_FINITE.length)}; values must be finite numbers`;
  if (typeof value !== 'number') return `is not a number (got ${preview(value)})`;
  // JSON.parse reads 1e400 as Infinity.
  if (!Number.isFinite(value)) return `is out of range (${value}); values must be finite numbers`;
  return undefined;
}

/** A value as JSON, cut short: printable whatever it holds. */
function preview(value: unknown): string {
  const chars = [...(JSON.stringify(value) ?? String(value))];
  return chars.length > 60 ? `${chars.slice(0, 57).join('')}...` : chars.join('');
}
