// Text that reaches the log, the summary or a comment: durations, and server text made inert.

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
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
