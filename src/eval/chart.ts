// One Mermaid `xychart-beta` per tracked metric across the pull request's pushes, which GitHub
// renders in comments and job summaries. Nothing from outside reaches the block but digits and a
// title reduced to a plain character set: no quote, backtick, `%%` or line break can end a string,
// the diagram or the code fence.

import type { Push } from './history.js';
import { MAX_TRACKED, valueOf } from './history.js';

const UNSAFE = /[^A-Za-z0-9 _.,()/+-]/g;

/** A title Mermaid reads as plain text, at most 64 characters. */
export function chartTitle(name: string): string {
  const plain = name.replace(UNSAFE, '_').trim() || 'metric';
  return plain.length > 64 ? `${plain.slice(0, 63)}_` : plain;
}

/** A number Mermaid reads: plain decimal, no exponent. */
export function chartNumber(value: number): string {
  if (Math.abs(value) >= 1e21) return BigInt(Math.round(value)).toString();
  const short = String(Number(value.toPrecision(8)));
  if (!/e/i.test(short)) return short;
  return value.toFixed(20).replace(/\.?0+$/, '') || '0';
}

/** The charts of `tracked` metrics (shown names), each over the pushes that have it, when there are at least two. */
export function renderCharts(tracked: string[], pushes: Push[]): string[] {
  return tracked.slice(0, MAX_TRACKED).flatMap((name) => {
    const points = pushes.flatMap((p) => {
      const value = valueOf(p, name);
      return value === undefined ? [] : [{ sha: p.sha, value }];
    });
    if (points.length < 2) return [];
    return [
      [
        '```mermaid',
        'xychart-beta',
        `  title "${chartTitle(name)}"`,
        `  x-axis [${points.map((p) => `"${p.sha.replace(/[^0-9a-f]/g, '').slice(0, 7)}"`).join(', ')}]`,
        `  line [${points.map((p) => chartNumber(p.value)).join(', ')}]`,
        '```',
      ].join('\n'),
    ];
  });
}
