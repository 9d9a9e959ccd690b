// What a newcomer reads: the README (short, in the order a new user needs it), the pages of docs/,
// SECURITY.md and CONTRIBUTING.md. The README's tables are what the action.yml files declare (names,
// defaults) as `npm run docs` writes them, with the specification's names; its quick start is the
// linted example workflow, verbatim; every example workflow is linked with what it shows; and every
// link between these files resolves, anchors included.
//
// Table format: `| input | default | description |` (input cell `` `name` ``; default cell
// `` `value` ``, empty or "—"), and `| output | description |` (output cell `` `name` ``), each
// between `<!-- table:<file>:<inputs|outputs>[:names] -->` and `<!-- /table -->`.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, readActionYml } from './support/runner.js';
import { SPEC_INPUTS, SPEC_OUTPUTS, SPEC_STOP_INPUTS, SPEC_STOP_OUTPUTS } from './support/spec.js';
import { documents, regenerated, withTables } from '../scripts/readme-tables.js';

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
const readme = (): string => read('README.md');
const EXAMPLES = readdirSync(join(ROOT, 'examples', 'workflows'))
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

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

/** The generated table of a marker (e.g. `action.yml:inputs`): header cells and body rows. */
function markedTable(text: string, marker: string): { header: string[]; rows: string[][] } {
  const block = text.split(`<!-- table:${marker} -->\n`)[1]?.split('<!-- /table -->')[0];
  expect(block, `no <!-- table:${marker} --> block`).toBeDefined();
  const lines = (block ?? '').split('\n').filter((l) => l.trim().startsWith('|'));
  const [head = '', , ...body] = lines;
  return { header: cells(head).map((c) => c.toLowerCase()), rows: body.map(cells) };
}

/** `` `name` `` → name; anything else → undefined. */
function code(cell: string): string | undefined {
  const m = /^`([^`]*)`$/.exec(cell.trim());
  return m ? m[1] : undefined;
}

const sorted = (names: string[]): string[] => [...names].sort();

/** Problems with a full inputs table against the action.yml it comes from. */
function inputsTableProblems(text: string, marker: string, declared: Record<string, { default?: string }>): string[] {
  const { header, rows } = markedTable(text, marker);
  const problems: string[] = [];
  if (header.slice(0, 3).join('|') !== 'input|default|description') problems.push(`${marker}: header ${header.join('|')}`);
  const names = rows.map((r) => code(r[0] ?? '') ?? `(not a code cell: ${r[0]})`);
  if (sorted(names).join() !== sorted(Object.keys(declared)).join()) problems.push(`${marker}: names ${names.join(', ')}`);
  for (const row of rows) {
    const name = code(row[0] ?? '') as string;
    const want = declared[name]?.default ?? '';
    const cell = (row[1] ?? '').trim();
    const shown = code(cell);
    if (shown !== undefined && shown !== want) problems.push(`${name}: default \`${shown}\`, action.yml "${want}"`);
    if (shown === undefined && ['', '—', '-'].includes(cell) && want !== '') problems.push(`${name}: no default shown, action.yml "${want}"`);
    if (shown === undefined && !['', '—', '-'].includes(cell) && want !== '') problems.push(`${name}: default "${cell}" is not \`${want}\``);
    if (!(row[2] ?? '').trim()) problems.push(`${name}: no description`);
  }
  return problems;
}

describe('the README, as a newcomer reads it', () => {
  it('is short: at most 350 lines', () => {
    expect(readme().split('\n').length).toBeLessThanOrEqual(350);
  });

  it('opens with what the action does, then the two commands', () => {
    const top = readme().split('\n').slice(0, 15).join('\n');
    expect(top).toMatch(/^# Baseten Loops Launch\n\n\S/);
    expect(top).toContain('npm ci && npm run demo');
    expect(top).toContain('npm test');
    expect(top, 'the EBADENGINE warning of the first command is explained where it appears').toContain('EBADENGINE');
  });

  it('has its sections in the order a new user needs them', () => {
    const headings = readme()
      .split('\n')
      .filter((l) => l.startsWith('## '));
    expect(headings).toEqual([
      '## Quick start: launch → eval → stop',
      '## Three things users get wrong',
      '## Evaluate from a checkpoint',
      '## Common inputs',
      '## Common outputs',
      '## Troubleshooting',
      '## Going further',
      '## Versions',
      '## Reference',
    ]);
  });

  it('shows the quick start workflow verbatim: examples/workflows/quick-start.yml, which is linted and checked', () => {
    const blocks = [...readme().matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
    expect(blocks[0]).toBe(read('examples/workflows/quick-start.yml'));
  });

  it('says, in the quick start, what an eval job uses and the stop job guard, and names the three pitfalls', () => {
    const text = readme();
    const quick = text.split('## Quick start')[1]?.split('\n## ')[0] ?? '';
    for (const output of ['openai_base_url', 'sampler_model', 'run_id', 'status']) expect(quick).toContain(`| \`${output}\` |`);
    const pitfalls = text.split('## Three things users get wrong')[1]?.split('\n## ')[0] ?? '';
    for (const words of ['Re-run all jobs', 'forks', 'concurrency', "needs.launch.outputs.run_id != ''"]) expect(pitfalls).toContain(words);
  });

  it('links every example workflow, each with what it shows', () => {
    const text = readme();
    for (const file of EXAMPLES) {
      const row = text.split('\n').find((l) => l.startsWith(`| [\`${file}\`](examples/workflows/${file}) |`));
      expect(row, `examples/workflows/${file} is not linked in the README's examples table`).toBeDefined();
      expect(cells(row ?? '')[1]?.length ?? 0, file).toBeGreaterThan(10);
    }
  });
});

describe('the tables', () => {
  const action = readActionYml();
  const stop = readActionYml(join(ROOT, 'stop'));

  it('every document (README.md, docs/*.md) has its tables and failure causes as `npm run docs` writes them', () => {
    expect(documents()).toEqual(expect.arrayContaining(['README.md', 'docs/eval.md', 'docs/troubleshooting.md']));
    for (const name of documents()) {
      const text = read(name);
      expect(text, `${name}: run npm run docs`).toBe(regenerated(text));
    }
  });

  it("the README's reference lists every input of action.yml and stop/action.yml, with its default", () => {
    expect(inputsTableProblems(readme(), 'action.yml:inputs', action.inputs)).toEqual([]);
    expect(inputsTableProblems(readme(), 'stop/action.yml:inputs', stop.inputs)).toEqual([]);
  });

  it("the README's reference lists every output of action.yml and stop/action.yml", () => {
    for (const [marker, declared] of [
      ['action.yml:outputs', action.outputs],
      ['stop/action.yml:outputs', stop.outputs],
    ] as const) {
      const { header, rows } = markedTable(readme(), marker);
      expect(header.slice(0, 2)).toEqual(['output', 'description']);
      expect(sorted(rows.map((r) => code(r[0] ?? '') ?? ''))).toEqual(sorted(Object.keys(declared)));
      expect(rows.filter((r) => !(r[1] ?? '').trim())).toEqual([]);
    }
  });

  it('the common inputs and outputs are a few of the launch action, generated from action.yml too', () => {
    const text = readme();
    const common = [...text.matchAll(/<!-- table:action\.yml:(inputs|outputs):([\w,]+) -->/g)];
    expect(common.map((m) => m[1])).toEqual(['inputs', 'outputs']);
    for (const [, kind, names] of common) {
      const list = (names ?? '').split(',');
      expect(list.length).toBeLessThanOrEqual(10);
      for (const name of list) expect(Object.keys(kind === 'inputs' ? action.inputs : action.outputs)).toContain(name);
    }
    expect(text).toContain('<!-- table:action.yml:outputs:openai_base_url,sampler_model,run_id,status,');
  });

  it('the action.yml files use the names of the specification', () => {
    expect(sorted(Object.keys(action.inputs))).toEqual(sorted(Object.keys(SPEC_INPUTS)));
    expect(sorted(Object.keys(action.outputs))).toEqual(sorted(SPEC_OUTPUTS));
    expect(sorted(Object.keys(stop.inputs))).toEqual(sorted(Object.keys(SPEC_STOP_INPUTS)));
    expect(sorted(Object.keys(stop.outputs))).toEqual(sorted(SPEC_STOP_OUTPUTS));
  });

  it('a subset table naming an input the action.yml does not declare is an error, not an empty row', () => {
    expect(() => withTables('<!-- table:action.yml:inputs:base_model,no_such_input -->\n<!-- /table -->')).toThrow(
      /no input named no_such_input/,
    );
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped (not `-` or `_`), spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown file's headings make (duplicates get -1, -2, …), code blocks skipped. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = !fence && /^#{1,6} (.+)$/.exec(line);
    if (!m) continue;
    const base = slug(m[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe('links', () => {
  const FILES = ['README.md', 'CONTRIBUTING.md', 'SECURITY.md', ...documents().filter((d) => d.startsWith('docs/'))];

  it("the anchors are GitHub's", () => {
    expect(slug('Scores on the pull request: the eval report')).toBe('scores-on-the-pull-request-the-eval-report');
    expect(slug('Legs and `leg_key`')).toBe('legs-and-leg_key');
    expect(slug('Quick start: launch → eval → stop')).toBe('quick-start-launch--eval--stop');
    expect([...anchors('# A\n## B\n## B\n```\n## C\n```\n')]).toEqual(['a', 'b', 'b-1']);
  });

  it.each(FILES)('every link in %s to a file of this repository resolves, and its anchor exists', (file) => {
    const text = read(file).replace(/^```[\s\S]*?^```$/gm, '');
    const problems: string[] = [];
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path = '', anchor] = target.split('#');
      const resolved = path ? normalize(join(dirname(file), path)) : file;
      if (!existsSync(join(ROOT, resolved))) {
        problems.push(`${target}: no file ${resolved}`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor))
        problems.push(`${target}: no heading #${anchor} in ${resolved}`);
    }
    expect(problems).toEqual([]);
  });

  it('the README links every page of docs/, SECURITY.md and CONTRIBUTING.md', () => {
    for (const page of [...documents().filter((d) => d.startsWith('docs/')), 'SECURITY.md', 'CONTRIBUTING.md'])
      expect(readme()).toContain(`](${page})`);
  });
});

describe('docs/eval.md, the eval report', () => {
  const page = (): string => read('docs/eval.md');

  it('carries the tables of report/action.yml, as `npm run docs` generates them', () => {
    const text = page();
    for (const marker of ['report/action.yml:inputs', 'report/action.yml:outputs']) expect(text).toContain(`<!-- table:${marker} -->`);
    expect(text, 'docs/eval.md tables are stale: run npm run docs').toBe(withTables(text));
  });

  it('names every input and output of report/action.yml, and the permissions it needs', () => {
    const report = readActionYml(join(ROOT, 'report'));
    const text = page();
    for (const name of [...Object.keys(report.inputs), ...Object.keys(report.outputs)]) expect(text).toContain(`\`${name}\``);
    for (const words of ['checks: write', 'pull-requests: write', 'fork', 'xychart-beta', 'npm run demo -- --report'])
      expect(text).toContain(words);
  });

  it('says how to evaluate from a checkpoint: weights, not sampler_weights; the name; the rank; what the sampler serves', () => {
    const text = page().split('## Evaluate from a checkpoint')[1]?.split('\n## ')[0] ?? '';
    for (const words of ['/weights/<name>', 'sampler_weights', 'checkpoint_id', 'lora_rank', 'sampler_model', 'checkpoint-eval.yml', 'Inferred'])
      expect(text).toContain(words);
  });
});

describe('the table parser', () => {
  it('reads code cells, pipes inside code and escaped pipes', () => {
    expect(cells('| `a` | `x|y` | one \\| two |')).toEqual(['`a`', '`x|y`', 'one | two']);
    expect(code('`${{ github.token }}`')).toBe('${{ github.token }}');
    expect(code('env `BASETEN_API_KEY`')).toBeUndefined();
  });
});
