// Rendering the evidence (src/forensics/render.ts): log lines in the step log and in the summary
// and comment, with hostile server text made inert and every block kept within its size budget.

import { describe, expect, it } from 'vitest';
import { neutralise } from '../src/core/text.js';
import { CAUSES, type Cause } from '../src/forensics/causes.js';
import type { Gathered } from '../src/forensics/fetch.js';
import { BUDGET, MESSAGE_CHARS, SHOWN_LINES, causeText, cleanText, formatLine, printLogs, renderFindings } from '../src/forensics/render.js';
import type { LogLevel, LogLine } from '../src/loops/logs.js';

const KEY = 'render-test-key-7f3a';
const redact = (text: string): string => text.split(KEY).join('***');
const T0 = 1_800_000_000_000n * 1_000_000n;

/** Lines newest first (as the API answers with direction=desc), `n` of them, a millisecond apart. */
function lines(n: number, make: (i: number) => { message: string; level?: LogLevel } = (i) => ({ message: `line ${i}` })): LogLine[] {
  return Array.from({ length: n }, (_, i) => ({ timestamp: (T0 + BigInt(i) * 1_000_000n).toString(), replica: 'r0', ...make(i) })).reverse();
}

const oom: Cause = { reason: 'oom', ...CAUSES.oom, evidence: 'trainer log: CUDA out of memory' };

function printed(gathered: Gathered[]): { groups: Array<{ title: string; lines: string[] }>; info: string[] } {
  const out = { groups: [] as Array<{ title: string; lines: string[] }>, info: [] as string[] };
  printLogs(gathered, { group: (title, body) => out.groups.push({ title, lines: body }), info: (line) => out.info.push(line) }, redact);
  return out;
}

describe('one line of server text', () => {
  it('loses escape sequences, control and bidi characters; keeps its words', () => {
    expect(cleanText('\u001b[31mred\u001b[0m \u001b]8;;https://evil\u0007link\u001b]8;;\u0007 a\tb\rc\u0000d\u2028e', redact)).toBe(
      'red link a b c d e',
    );
    expect(cleanText('safe \u202egnp.exe\u202c name', redact)).toBe('safe gnp.exe name');
  });

  it('has the key redacted, and is cut to a fixed length (whole characters, an ellipsis at the end)', () => {
    expect(cleanText(`token=${KEY};`, redact)).toBe('token=***;');
    const long = cleanText('🙂'.repeat(MESSAGE_CHARS * 2), redact);
    expect([...long]).toHaveLength(MESSAGE_CHARS);
    expect(long.endsWith('🙂…')).toBe(true);
  });

  it('is printed with its time, level and replica; ERROR marked ✖, WARNING ⚠', () => {
    const base = { timestamp: (T0 + 123_456n).toString(), replica: 'trainer-0' };
    expect(formatLine({ ...base, message: 'boom', level: 'ERROR' }, redact)).toBe('✖ 2027-01-15T08:00:00.000Z ERROR   [trainer-0] boom');
    expect(formatLine({ ...base, message: 'hmm', level: 'WARNING' }, redact)).toMatch(/^⚠ \S+ WARNING \[trainer-0\] hmm$/);
    expect(formatLine({ timestamp: T0.toString(), message: 'plain' }, redact)).toBe('  2027-01-15T08:00:00.000Z         plain');
  });

  it('can never start a workflow command in the step log, whatever it says', () => {
    for (const message of ['::error::pwned', '\n::set-output name=x::y', '##[error]pwned', '  ::add-mask::x']) {
      const text = neutralise(formatLine({ timestamp: T0.toString(), message }, redact));
      expect(text.split('\n')).toHaveLength(1);
      expect(text).not.toMatch(/^\s*::/);
      expect(text).not.toContain('##[');
    }
  });
});

describe('the step log', () => {
  it('shows the last 30 lines of each source in a collapsed group, oldest first', () => {
    const { groups, info } = printed([
      { source: 'trainer', state: 'lines', lines: lines(200) },
      { source: 'sampler', state: 'lines', lines: lines(3) },
    ]);
    expect(info).toEqual([]);
    expect(groups.map((g) => g.title)).toEqual([`Trainer logs (last ${SHOWN_LINES} lines)`, 'Sampler logs (last 3 lines)']);
    expect(groups[0]?.lines).toHaveLength(SHOWN_LINES);
    expect(groups[0]?.lines[0]).toMatch(/ line 170$/);
    expect(groups[0]?.lines.at(-1)).toMatch(/ line 199$/);
  });

  it('says why a source has no lines: none, unreadable, empty, or streamed already', () => {
    const { groups, info } = printed([
      { source: 'trainer', state: 'none', why: 'run r1 has no Loops deployment' },
      { source: 'sampler', state: 'failed', why: `GET /x failed: HTTP 500 (key ${KEY})` },
      { source: 'sampler', state: 'lines', lines: [] },
      { source: 'trainer', state: 'lines', lines: lines(2), streamed: true },
    ]);
    expect(groups).toEqual([]);
    expect(info).toEqual([
      'Trainer logs: none, because run r1 has no Loops deployment',
      'Sampler logs: could not be read (GET /x failed: HTTP 500 (key ***))',
      'Sampler logs: no lines since the run was created',
      'Trainer logs: streamed above (show_logs: always)',
    ]);
  });

  it('gives the cause and its fix in the error line', () => {
    expect(causeText(oom)).toBe(`Cause (failure_reason: oom): ${CAUSES.oom.means} Fix: ${CAUSES.oom.fix}`);
  });
});

describe('the summary and the comment', () => {
  const hostile = [
    '<script>alert(1)</script>',
    '</pre></details><img src=x onerror=alert(1)>',
    'ping @octocat and @github/security',
    `leaked ${KEY}`,
    '',
    '| table | break |',
    '```',
  ];

  it('put the cause and fix first, then each source in a <details> block with its ERROR lines first', () => {
    const trainer = lines(40, (i) => ({ message: `line ${i}`, level: i % 10 === 5 ? 'ERROR' : 'INFO' }));
    const html = renderFindings(oom, [{ source: 'trainer', state: 'lines', lines: trainer }], 'summary', redact);
    expect(html).toMatch(/^<p><b>Cause<\/b> \(<code>failure_reason: oom<\/code>\): The trainer or the sampler ran out of GPU memory\./);
    expect(html).toContain('<b>Fix:</b> Lower <code>max_seq_len</code> or <code>lora_rank</code>.');
    expect(html).toContain('Evidence: trainer log: CUDA out of memory');
    expect(html).toContain(`<details><summary>Trainer logs (last ${SHOWN_LINES} lines, 3 ERROR first)</summary>`);
    const shown = [...html.matchAll(/ line (\d+)$/gm)].map((m) => Number(m[1]));
    // The last 30 lines (10..39): the ERROR ones (15, 25, 35) first, then the others in order.
    expect(shown).toEqual([15, 25, 35, ...Array.from({ length: 30 }, (_, i) => i + 10).filter((i) => i % 10 !== 5)]);
  });

  it('make hostile lines inert: HTML escaped, no @ mention, the key redacted, no blank line inside the block', () => {
    const gathered: Gathered[] = [{ source: 'sampler', state: 'lines', lines: lines(hostile.length, (i) => ({ message: hostile[i] ?? '' })) }];
    for (const where of ['summary', 'comment'] as const) {
      const html = renderFindings(oom, gathered, where, redact);
      expect(html).not.toMatch(/<script|<img|<\/pre><\/details>/);
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).toContain('&lt;/pre&gt;&lt;/details&gt;&lt;img');
      expect(html).not.toMatch(/@(?!\u200b)/);
      expect(html).not.toContain(KEY);
      expect(html).toContain('leaked ***');
      // From <pre> to the line before </pre>: a blank line there would end the HTML block in Markdown.
      const block = html.slice(html.indexOf('<pre>'), html.indexOf('\n</pre>'));
      expect(block.split('\n').filter((l) => l.trim() === '')).toEqual([]);
      expect(html.match(/<pre>/g)).toHaveLength(1);
      expect(html.match(/<\/pre>/g)).toHaveLength(1);
    }
  });

  it('stay within their budgets however large the lines: far below 1 MiB (summary), below 65,536 characters (comment)', () => {
    const huge = (source: 'trainer' | 'sampler'): Gathered => ({
      source,
      state: 'lines',
      lines: lines(200, () => ({ message: '<&>"\''.repeat(40_000), level: 'ERROR' })),
    });
    const summary = renderFindings(oom, [huge('trainer'), huge('sampler')], 'summary', redact);
    const comment = renderFindings(oom, [huge('trainer'), huge('sampler')], 'comment', redact);
    expect(summary.length).toBeLessThan(2 * BUDGET.summary + 2_000);
    expect(summary.length).toBeLessThan(100_000);
    expect(comment.length).toBeLessThan(2 * BUDGET.comment + 2_000);
    expect(comment.length).toBeLessThan(20_000);
    expect(summary).toMatch(/… \d+ more lines left out \(size limit\)/);
  });

  it('say why a source has no lines', () => {
    const html = renderFindings(
      oom,
      [
        { source: 'trainer', state: 'none', why: 'run r1 has no Loops deployment (a serverless run)' },
        { source: 'sampler', state: 'failed', why: 'GET /v1/models/m/deployments/d/logs failed: <b>HTTP 500</b>' },
      ],
      'comment',
      redact,
    );
    expect(html).toContain('<p>Trainer logs: none, because run r1 has no Loops deployment (a serverless run).</p>');
    expect(html).toContain('<p>Sampler logs: could not be read (GET /v1/models/m/deployments/d/logs failed: &lt;b&gt;HTTP 500&lt;/b&gt;).</p>');
  });
});
