// The failure causes the docs show (README.md's Troubleshooting section, docs/troubleshooting.md)
// are the cause table's (src/forensics/causes.ts), as `npm run docs` writes them: every
// failure_reason once, with what it means and its fix; every rule, in order.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { causesTable, rulesTable, withCauses } from '../scripts/causes-doc.js';
import { CAUSES, FAILURE_REASONS, RULES } from '../src/forensics/causes.js';
import { ROOT } from './support/runner.js';

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
const block = (text: string, kind: 'table' | 'rules'): string => text.split(`<!-- causes:${kind} -->\n`)[1]?.split('\n<!-- /causes -->')[0] ?? '';

describe('the troubleshooting docs', () => {
  it.each(['README.md', 'docs/troubleshooting.md'])('%s is what `npm run docs` generates from the cause table', (file) => {
    const text = read(file);
    expect(text).toContain('<!-- causes:table -->');
    expect(text, `${file} is stale: run npm run docs`).toBe(withCauses(text));
  });

  it('list every failure_reason once, with what it means and the fix', () => {
    for (const text of [block(read('README.md'), 'table'), block(read('docs/troubleshooting.md'), 'table')]) {
      const rows = text.split('\n').slice(2);
      expect(rows.map((r) => /^\| `(\w+)` \|/.exec(r)?.[1])).toEqual([...FAILURE_REASONS]);
      for (const reason of FAILURE_REASONS) {
        const row = rows.find((r) => r.startsWith(`| \`${reason}\` |`)) ?? '';
        expect(row).toContain(CAUSES[reason].means.replace(/\|/g, '\\|'));
        expect(row).toContain(CAUSES[reason].fix.replace(/\|/g, '\\|'));
      }
    }
  });

  it('docs/troubleshooting.md lists every rule in the order it is tried, then unknown', () => {
    const rows = block(read('docs/troubleshooting.md'), 'rules').split('\n').slice(2);
    expect(rows).toHaveLength(RULES.length + 1);
    expect(rows.map((r) => /^\| \d+ \| `(\w+)` \|/.exec(r)?.[1])).toEqual([...RULES.map((r) => r.reason), 'unknown']);
  });

  it('the README links to the troubleshooting page, and a table cell never breaks on a pipe', () => {
    expect(read('README.md')).toMatch(/## Troubleshooting\n[\s\S]*\]\(docs\/troubleshooting\.md\)/);
    for (const table of [causesTable(), rulesTable()]) {
      for (const row of table.split('\n')) expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(5);
    }
  });
});

/** Every source file under src/, concatenated: what the actions can print. */
function sources(dir = join(ROOT, 'src')): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((entry) =>
      entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? readFileSync(join(dir, entry.name), 'utf8') : '',
    )
    .join('\n');
}

describe('the messages table of docs/troubleshooting.md', () => {
  const text = read('docs/troubleshooting.md').split('<!-- messages -->\n')[1]?.split('<!-- /messages -->')[0] ?? '';
  const rows = text.split('\n').filter((line) => line.startsWith('| `'));

  it('has a row for each message a user meets, each with why and what to do', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
    for (const row of rows)
      expect(
        row
          .replace(/\\\|/g, '')
          .split('|')
          .filter((cell) => cell.trim()),
        row,
      ).toHaveLength(3);
  });

  it('quotes each message as the code prints it: a message the code no longer prints fails here', () => {
    const code = sources();
    const missing = rows.map((row) => /^\| `([^`]+)` \|/.exec(row)?.[1] ?? row).filter((fragment) => !code.includes(fragment));
    expect(missing).toEqual([]);
  });
});
