// The README documents what action.yml declares: its inputs table (names, defaults) and
// outputs table match action.yml and the specification's names, and every example workflow
// file is shown verbatim in a ```yaml block.
//
// README format: a `## Inputs` section with a table `| input | default | description |`
// (input cell `` `name` ``; default cell `` `value` ``, empty or "—"), and a `## Outputs`
// section with a table `| output | description |` (output cell `` `name` ``).

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, readActionYml } from './support/runner.js';
import { SPEC_INPUTS, SPEC_OUTPUTS } from './support/spec.js';
import { documents, withTables } from '../scripts/readme-tables.js';

const README = join(ROOT, 'README.md');
const EXAMPLES = join(ROOT, 'examples', 'workflows');

function readme(): string {
  expect(existsSync(README), 'README.md does not exist').toBe(true);
  return readFileSync(README, 'utf8');
}

/** The text of a `## <title>` section, up to the next `## ` heading. */
function section(markdown: string, title: string): string {
  const lines = markdown.split(/\r?\n/);
  const start = lines.findIndex((l) => new RegExp(`^##\\s+${title}\\s*$`, 'i').test(l));
  expect(start, `no "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^##\s/.test(l));
  return (end < 0 ? rest : rest.slice(0, end)).join('\n');
}

/** Splits a markdown table row into cells, honouring `\|` and pipes inside code spans. */
function cells(row: string): string[] {
  const out: string[] = [];
  let cell = '';
  let inCode = false;
  const body = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === '\\' && body[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (ch === '`') {
      inCode = !inCode;
      cell += ch;
    } else if (ch === '|' && !inCode) {
      out.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  out.push(cell.trim());
  return out;
}

/** The first table of a section: header cells and body rows. */
function table(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split('\n').filter((l) => l.trim().startsWith('|'));
  expect(lines.length, 'no table').toBeGreaterThan(2);
  const [head, separator, ...body] = lines as [string, string, ...string[]];
  expect(separator).toMatch(/^\s*\|?\s*:?-{3,}/);
  return { header: cells(head).map((c) => c.toLowerCase()), rows: body.map(cells) };
}

/** `` `name` `` → name; anything else → undefined. */
function code(cell: string): string | undefined {
  const m = /^`([^`]*)`$/.exec(cell.trim());
  return m ? m[1] : undefined;
}

const action = readActionYml();
const sorted = (names: string[]): string[] => [...names].sort();

describe('README inputs table', () => {
  it('lists exactly the inputs of action.yml, once each, with the same defaults', () => {
    const { header, rows } = table(section(readme(), 'Inputs'));
    expect(header.slice(0, 3)).toEqual(['input', 'default', 'description']);
    const names = rows.map((r) => code(r[0] ?? '') ?? `(not a code cell: ${r[0]})`);
    expect(sorted(names)).toEqual(sorted(Object.keys(action.inputs)));
    expect(new Set(names).size).toBe(names.length);

    const problems: string[] = [];
    for (const row of rows) {
      const name = code(row[0] ?? '') as string;
      const declared = action.inputs[name]?.default ?? '';
      const cell = (row[1] ?? '').trim();
      const shown = code(cell);
      if (shown !== undefined) {
        if (shown !== declared) problems.push(`${name}: README default \`${shown}\`, action.yml default "${declared}"`);
      } else if (cell === '' || cell === '—' || cell === '-') {
        if (declared !== '') problems.push(`${name}: README shows no default, action.yml default "${declared}"`);
      } else if (declared !== '') {
        // Prose (e.g. "env `BASETEN_API_KEY`") is for inputs without a literal default only.
        problems.push(`${name}: README default "${cell}" is not \`${declared}\` (action.yml)`);
      }
      if (!(row[2] ?? '').trim()) problems.push(`${name}: no description`);
    }
    expect(problems).toEqual([]);
  });

  it('uses the names of the specification', () => {
    expect(sorted(Object.keys(action.inputs))).toEqual(sorted(Object.keys(SPEC_INPUTS)));
  });
});

describe('README outputs table', () => {
  it('lists exactly the outputs of action.yml, once each', () => {
    const { header, rows } = table(section(readme(), 'Outputs'));
    expect(header.slice(0, 2)).toEqual(['output', 'description']);
    const names = rows.map((r) => code(r[0] ?? '') ?? `(not a code cell: ${r[0]})`);
    expect(sorted(names)).toEqual(sorted(Object.keys(action.outputs)));
    expect(new Set(names).size).toBe(names.length);
    expect(rows.filter((r) => !(r[1] ?? '').trim()).map((r) => r[0])).toEqual([]);
  });

  it('uses the names of the specification', () => {
    expect(sorted(Object.keys(action.outputs))).toEqual(sorted(SPEC_OUTPUTS));
  });
});

describe('README tables', () => {
  it('are what `npm run docs` generates from action.yml and stop/action.yml', () => {
    const text = readme();
    for (const marker of ['action.yml:inputs', 'action.yml:outputs', 'stop/action.yml:inputs', 'stop/action.yml:outputs']) {
      expect(text).toContain(`<!-- table:${marker} -->`);
    }
    expect(text, 'README tables are stale: run npm run docs').toBe(withTables(text));
  });
});

describe('docs/eval.md, the eval report', () => {
  const page = (): string => readFileSync(join(ROOT, 'docs', 'eval.md'), 'utf8');

  it('carries the tables of report/action.yml, as `npm run docs` generates them', () => {
    const text = page();
    for (const marker of ['report/action.yml:inputs', 'report/action.yml:outputs']) expect(text).toContain(`<!-- table:${marker} -->`);
    expect(text, 'docs/eval.md tables are stale: run npm run docs').toBe(withTables(text));
  });

  it('every page of docs/ has its tables up to date, and the README links to docs/eval.md', () => {
    expect(documents()).toEqual(expect.arrayContaining(['README.md', 'docs/eval.md']));
    for (const name of documents()) {
      const text = readFileSync(join(ROOT, name), 'utf8');
      expect(text, `${name}: run npm run docs`).toBe(withTables(text));
    }
    expect(readme()).toContain('](docs/eval.md)');
  });

  it('names every input and output of report/action.yml, and the permissions it needs', () => {
    const report = readActionYml(join(ROOT, 'report'));
    const text = page();
    for (const name of [...Object.keys(report.inputs), ...Object.keys(report.outputs)]) expect(text).toContain(`\`${name}\``);
    for (const words of ['checks: write', 'pull-requests: write', 'fork', 'xychart-beta', 'npm run demo -- --report'])
      expect(text).toContain(words);
  });
});

describe('README examples', () => {
  const files = readdirSync(EXAMPLES)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

  it('there are example workflow files', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('examples/workflows/%s appears verbatim in a ```yaml block', (file) => {
    const blocks = [...readme().matchAll(/^```ya?ml[^\n]*\n([\s\S]*?)^```\s*$/gm)].map((m) => m[1] as string);
    const example = readFileSync(join(EXAMPLES, file), 'utf8').trim();
    expect(
      blocks.some((b) => b.includes(example)),
      `examples/workflows/${file} is not in any \`\`\`yaml block of README.md (${blocks.length} blocks)`,
    ).toBe(true);
  });
});

describe('the table parser', () => {
  it('reads code cells, pipes inside code and escaped pipes', () => {
    expect(cells('| `a` | `x|y` | one \\| two |')).toEqual(['`a`', '`x|y`', 'one | two']);
    expect(code('`${{ github.token }}`')).toBe('${{ github.token }}');
    expect(code('env `BASETEN_API_KEY`')).toBeUndefined();
  });
});
