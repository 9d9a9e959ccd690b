// Text that reaches the log, the summary or a comment: durations, and server text made inert.

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}

/** A long duration for people: "2d 03h", "1h 05m", "12m 03s", "45s" (never negative). */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60];
  const two = (n: number): string => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${two(h)}h`;
  if (h > 0) return `${h}h ${two(m)}m`;
  if (m > 0) return `${m}m ${two(s % 60)}s`;
  return `${s}s`;
}

const LINE_BREAKS = /\r\n|[\r\n\u0085\u2028\u2029]/;

/**
 * Makes text safe to print to a step's log: the runner executes a line that starts with "::"
 * (after leading spaces) and, in the legacy syntax, "##[" anywhere in a line. A zero-width
 * space keeps such text readable and inert.
 */
export function neutralise(text: string): string {
  return text
    .split(LINE_BREAKS)
    .map((line) => line.replace(/^(\s*):(?=:)/, '$1:\u200b').replace(/##\[/g, '##\u200b['))
    .join('\n');
}

/** Text on one line (control characters and line breaks become spaces), cut to `max` characters with "…". */
export function oneLine(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const chars = [...text.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ')];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : chars.join('');
}
