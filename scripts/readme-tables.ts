// The README's inputs and outputs tables, generated from action.yml and stop/action.yml.
// `npm run docs` rewrites every block between `<!-- table:<file>:<inputs|outputs> -->` and
// `<!-- /table -->`; test/readme.test.ts checks that the README is what this writes. It also
// regenerates the failure causes in README.md and docs/troubleshooting.md (scripts/causes-doc.ts).

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { withCauses } from './causes-doc.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface ActionYml {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description: string }>;
}

/** Inputs whose default is not a literal: what the table says instead. */
const DEFAULT_TEXT: Record<string, string> = { api_key: 'env `BASETEN_API_KEY`' };

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

export function renderTable(file: string, kind: 'inputs' | 'outputs'): string {
  const action = parse(readFileSync(join(ROOT, file), 'utf8')) as ActionYml;
  if (kind === 'outputs') {
    return [
      '| output | description |',
      '|---|---|',
      ...Object.entries(action.outputs).map(([n, o]) => `| \`${n}\` | ${escapeCell(o.description)} |`),
    ].join('\n');
  }
  const rows = Object.entries(action.inputs).map(([name, input]) => {
    const shown = DEFAULT_TEXT[name] ?? (input.required ? '—' : input.default ? `\`${input.default}\`` : '');
    return `| \`${name}\` | ${shown} | ${input.required ? '**Required.** ' : ''}${escapeCell(input.description)} |`;
  });
  return ['| input | default | description |', '|---|---|---|', ...rows].join('\n');
}

const BLOCK = /(<!-- table:([\w./-]+):(inputs|outputs) -->\n)[\s\S]*?(<!-- \/table -->)/g;

/** The README with every marked table regenerated. */
export function withTables(readme: string): string {
  return readme.replace(
    BLOCK,
    (_all, open: string, file: string, kind: 'inputs' | 'outputs', close: string) => `${open}${renderTable(file, kind)}\n${close}`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [file, generate] of [
    ['README.md', (text: string) => withCauses(withTables(text))],
    ['docs/troubleshooting.md', withCauses],
  ] as const) {
    const path = join(ROOT, file);
    const before = readFileSync(path, 'utf8');
    const after = generate(before);
    writeFileSync(path, after);
    console.log(after === before ? `${file} tables were up to date` : `${file} tables regenerated`);
  }
}
