// The inputs and outputs tables of the README and the pages of docs/, generated from the
// action.yml files (action.yml, stop/action.yml, report/action.yml). `npm run docs` rewrites every
// block between `<!-- table:<file>:<inputs|outputs> -->` and `<!-- /table -->` in README.md and
// docs/*.md, and the failure causes (scripts/causes-doc.ts); test/readme.test.ts checks that each
// is what this writes.

import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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

/**
 * The table of an action.yml's inputs or outputs, in its order; with `only`, just those (in that
 * order), and a name the action.yml does not declare is an error, so a table cannot name a ghost.
 */
export function renderTable(file: string, kind: 'inputs' | 'outputs', only?: string[]): string {
  const action = parse(readFileSync(join(ROOT, file), 'utf8')) as ActionYml;
  const pick = <T>(entries: Record<string, T>): Array<[string, T]> => {
    if (!only) return Object.entries(entries);
    return only.map((name) => {
      const entry = entries[name];
      if (entry === undefined) throw new Error(`${file} declares no ${kind.slice(0, -1)} named ${name}`);
      return [name, entry];
    });
  };
  if (kind === 'outputs') {
    return ['| output | description |', '|---|---|', ...pick(action.outputs).map(([n, o]) => `| \`${n}\` | ${escapeCell(o.description)} |`)].join(
      '\n',
    );
  }
  const rows = pick(action.inputs).map(([name, input]) => {
    const shown = DEFAULT_TEXT[name] ?? (input.required ? '—' : input.default ? `\`${input.default}\`` : '');
    return `| \`${name}\` | ${shown} | ${input.required ? '**Required.** ' : ''}${escapeCell(input.description)} |`;
  });
  return ['| input | default | description |', '|---|---|---|', ...rows].join('\n');
}

/** `<!-- table:<file>:<inputs|outputs>[:name,name,…] -->` … `<!-- /table -->`. */
const BLOCK = /(<!-- table:([\w./-]+):(inputs|outputs)(?::([\w,]+))? -->\n)[\s\S]*?(<!-- \/table -->)/g;

/** A document with every marked table regenerated. */
export function withTables(readme: string): string {
  return readme.replace(
    BLOCK,
    (_all, open: string, file: string, kind: 'inputs' | 'outputs', names: string | undefined, close: string) =>
      `${open}${renderTable(file, kind, names?.split(','))}\n${close}`,
  );
}

/** The Markdown files whose tables are generated: README.md and the pages of docs/. */
export function documents(): string[] {
  const docs = join(ROOT, 'docs');
  const pages = existsSync(docs)
    ? readdirSync(docs)
        .filter((f) => f.endsWith('.md'))
        .sort()
        .map((f) => `docs/${f}`)
    : [];
  return ['README.md', ...pages];
}

/** A document with its inputs and outputs tables and its failure causes (where it has their markers) regenerated. */
export function regenerated(text: string): string {
  return withCauses(withTables(text));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const name of documents()) {
    const path = join(ROOT, name);
    const before = readFileSync(path, 'utf8');
    const after = regenerated(before);
    writeFileSync(path, after);
    console.log(after === before ? `${name} tables were up to date` : `${name} tables regenerated`);
  }
}
