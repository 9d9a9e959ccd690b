// scripts/check-structure.ts on small trees built in a temp dir: a clean tree (every limit met
// exactly) reports nothing; each rule broken once reports exactly that. Plus the entry-isolation
// rule on the real tree: the post step never reaches the launch code.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY_RULES, checkStructure, formatProblem, transitiveImports } from '../scripts/check-structure.js';
import { ROOT } from './support/runner.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A tree of files (path → content) in a fresh temp dir; returns its root. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'structure-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** `n` lines of comments. */
const filler = (n: number): string => '// filler\n'.repeat(n);
/** A block of exactly `n` lines: the opening line, statements, the closing line. */
const block = (open: string, n: number, close = '}'): string => `${open}\n${'  void 0;\n'.repeat(n - 2)}${close}\n`;

describe('check-structure on a clean tree', () => {
  it('reports nothing when every limit is met exactly and imports only go one way', () => {
    const root = tree({
      // 250 lines, holding an 80-line function.
      'src/index.ts':
        "import { util } from './lib/util.js';\nimport type { T } from './lib/types.js';\n" +
        block('export function atLimit(): void {', 80) +
        filler(250 - 2 - 80),
      'src/lib/util.ts':
        "import { readFileSync } from 'node:fs';\nimport pkg from '../../package.json' with { type: 'json' };\nexport const util = 1;\n",
      'src/lib/types.ts': 'export type T = number;\n',
      'src/lib/deep/leaf.ts': "export { util } from '../util.js';\n",
      'test/emulator/server.ts': filler(300),
      'package.json': '{}\n',
    });
    expect(checkStructure(root)).toEqual([]);
  });
});

describe('check-structure reports each rule once', () => {
  it('a file under src/ over 250 lines', () => {
    const root = tree({ 'src/a.ts': filler(251), 'src/b.ts': filler(250) });
    expect(checkStructure(root).map(formatProblem)).toEqual(['src/a.ts:251: 251 lines; a file under src/ may have at most 250']);
  });

  it('a file under test/emulator/ over 300 lines', () => {
    const root = tree({ 'src/a.ts': '', 'test/emulator/server.ts': filler(301), 'test/other.ts': filler(400) });
    expect(checkStructure(root).map(formatProblem)).toEqual([
      'test/emulator/server.ts:301: 301 lines; a file under test/emulator/ may have at most 300',
    ]);
  });

  const kinds: Array<[string, string, string]> = [
    ['declaration', block('function big(): void {', 81), 'function big'],
    ['expression', block('const f = function (): void {', 81, '};'), 'function expression f'],
    ['named expression', block('export default (function named(): void {', 81, '});'), 'function expression named'],
    ['arrow', block('const g = (): void => {', 81, '};'), 'arrow function g'],
    ['arrow passed as an argument', block('setTimeout(() => {', 81, '});'), 'arrow function (anonymous)'],
    ['object method', block('const o = { run(): void {', 81, '} };'), 'method run'],
  ];
  it.each(kinds)('a function over 80 lines: %s', (_kind, code, name) => {
    const root = tree({ 'src/f.ts': `// first line\n${code}` });
    expect(checkStructure(root).map(formatProblem)).toEqual([`src/f.ts:2: ${name} spans 81 lines (2–82); a function may span at most 80`]);
  });

  const members: Array<[string, string, string]> = [
    ['method', 'run(): void {', 'method Big.run'],
    ['constructor', 'constructor() {', 'constructor of Big'],
    ['getter', 'get size(): number {', 'getter Big.size'],
    ['setter', 'set size(_v: number) {', 'setter Big.size'],
    ['arrow property', 'handle = (): void => {', 'arrow function handle'],
  ];
  it.each(members)('a class member over 80 lines: %s', (_kind, open, name) => {
    const root = tree({ 'test/emulator/big.ts': `export class Big {\n${block(`  ${open}`, 81, '  }')}}\n` });
    expect(checkStructure(root).map(formatProblem)).toEqual([
      `test/emulator/big.ts:2: ${name} spans 81 lines (2–82); a function may span at most 80`,
    ]);
  });

  it('a function counts its nested functions; each nested one is measured too', () => {
    const inner = block('  const inner = (): void => {', 79, '  };');
    const root = tree({ 'src/f.ts': `export function outer(): void {\n${inner}}\n` });
    expect(checkStructure(root).map(formatProblem)).toEqual(['src/f.ts:1: function outer spans 81 lines (1–81); a function may span at most 80']);
    const big = block('  const inner = (): void => {', 81, '  };');
    const both = tree({ 'src/f.ts': `export function outer(): void {\n${big}}\n` });
    expect(checkStructure(both).map(formatProblem)).toEqual([
      'src/f.ts:1: function outer spans 83 lines (1–83); a function may span at most 80',
      'src/f.ts:2: arrow function inner spans 81 lines (2–82); a function may span at most 80',
    ]);
  });

  const backEdges: Array<[string, string]> = [
    ['a static import', "import { a } from '../a/x.js';\nexport const b = a;\n"],
    ['a type-only import', "import type { A } from '../a/x.js';\nexport type B = A;\n"],
    ['a side-effect import', "import '../a/x.js';\n"],
    ['a re-export', "export { a } from '../a/x.js';\n"],
    ['an export *', "export * from '../a/x.js';\n"],
    ['a dynamic import()', "export const load = () => import('../a/x.js');\n"],
    ['an import() type', "export type A = typeof import('../a/x.js');\n"],
  ];
  it.each(backEdges)('a cycle between folders closed by %s', (_kind, code) => {
    const root = tree({
      'src/a/x.ts': "// a\nimport { b } from '../b/y.js';\nexport const a = 1;\nexport type A = typeof b;\n",
      'src/b/y.ts': `// b\n${code}`,
    });
    expect(checkStructure(root).map(formatProblem)).toEqual([
      "src/a/x.ts:2: folder import cycle src/a → src/b → src/a (src/a → src/b: src/a/x.ts:2 imports '../b/y.js'; src/b → src/a: src/b/y.ts:2 imports '../a/x.js')",
    ]);
  });

  it('a longer cycle through src/ itself, printed as a path with one import per edge', () => {
    const root = tree({
      'src/main.ts': "import { r } from './report/r.js';\nexport const m = r;\n",
      'src/retry.ts': 'export const retry = 1;\n',
      'src/loops/client.ts': "import { retry } from '../retry.js';\nexport const c = retry;\n",
      'src/report/r.ts': "import { c } from '../loops/client.js';\nexport const r = c;\n",
      'src/report/s.ts': "import { retry } from '../retry.js';\nexport const s = retry;\n",
    });
    expect(checkStructure(root).map(formatProblem)).toEqual([
      "src/main.ts:1: folder import cycle src → src/report → src (src → src/report: src/main.ts:1 imports './report/r.js'; src/report → src: src/report/s.ts:1 imports '../retry.js')",
      "src/main.ts:1: folder import cycle src → src/report → src/loops → src (src → src/report: src/main.ts:1 imports './report/r.js'; src/report → src/loops: src/report/r.ts:1 imports '../loops/client.js'; src/loops → src: src/loops/client.ts:1 imports '../retry.js')",
    ]);
  });
});

describe('check-structure: what each entry may reach', () => {
  const layout = (extra: Record<string, string>): Record<string, string> => ({
    'src/main.ts': 'export const run = 1;\n',
    'src/shared.ts': "import { c } from './loops/client.js';\nexport const s = c;\n",
    'src/loops/client.ts': 'export const c = 1;\n',
    'src/eval/report.ts': "import type { T } from '../core/t.js';\nexport const r = 1 as unknown as T;\n",
    'src/core/t.ts': 'export type T = number;\n',
    'src/entry/main.ts': "import { run } from '../main.js';\nvoid run;\n",
    'src/entry/report.ts': "import { r } from '../eval/report.js';\nvoid r;\n",
    'src/entry/post.ts': "import { s } from '../shared.js';\nvoid s;\n",
    ...extra,
  });

  it('a clean layout: nothing to report', () => {
    expect(checkStructure(tree(layout({})))).toEqual([]);
  });

  it('the report reaching the Loops client, however deep and whatever the kind of import', () => {
    const root = tree(layout({ 'src/core/t.ts': "export type T = typeof import('../shared.js');\n" }));
    expect(checkStructure(root).map(formatProblem)).toEqual([
      'src/entry/report.ts:1: the eval report never talks to Loops, but src/entry/report.ts → src/eval/report.ts → src/core/t.ts → src/shared.ts → src/loops/client.ts',
      'src/entry/report.ts:1: the eval report never talks to Loops, but src/entry/report.ts → src/eval/report.ts → src/core/t.ts → src/shared.ts',
    ]);
  });

  it('the post step reaching the launch, and an entry reaching another entry', () => {
    const root = tree(layout({ 'src/shared.ts': "export { run } from './main.js';\nexport { r } from './entry/report.js';\n" }));
    expect(checkStructure(root).map(formatProblem)).toEqual([
      "src/shared.ts:2: folder import cycle src → src/entry → src (src → src/entry: src/shared.ts:2 imports './entry/report.js'; src/entry → src: src/entry/main.ts:1 imports '../main.js')",
      'src/entry/post.ts:1: an entry reaches another entry: src/entry/post.ts → src/shared.ts → src/entry/report.ts',
      'src/entry/post.ts:1: the post step can only stop, never create, but src/entry/post.ts → src/shared.ts → src/main.ts',
    ]);
  });

  it('the real tree: the report entry reaches the eval code and the shared core, none of what it must not', () => {
    const reached = transitiveImports('src/entry/report.ts');
    expect(reached).toEqual(expect.arrayContaining(['src/eval/report.ts', 'src/core/step-io.ts', 'src/report/pull-request.ts']));
    for (const never of ENTRY_RULES['src/entry/report.ts']?.never ?? []) expect(reached).not.toContain(never);
    expect(reached.filter((f) => f.startsWith('src/entry/'))).toEqual([]);
    expect(transitiveImports('src/entry/stop.ts')).toContain('src/loops/client.ts');
  });
});

describe('npm run check:structure', () => {
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  const run = (root: string) => spawnSync(tsx, ['scripts/check-structure.ts', root], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });

  it('exits 1 with one line per problem, and 0 on a clean tree', () => {
    const bad = tree({ 'src/a.ts': filler(251), 'src/x/y.ts': "import '../z/w.js';\n", 'src/z/w.ts': "import '../x/y.js';\n" });
    const failed = run(bad);
    expect(failed.status).toBe(1);
    expect(failed.stderr.trim().split('\n')).toEqual([
      'src/a.ts:251: 251 lines; a file under src/ may have at most 250',
      "src/x/y.ts:1: folder import cycle src/x → src/z → src/x (src/x → src/z: src/x/y.ts:1 imports '../z/w.js'; src/z → src/x: src/z/w.ts:1 imports '../x/y.js')",
    ]);
    const clean = run(tree({ 'src/a.ts': filler(10) }));
    expect(clean.stderr).toBe('');
    expect(clean.status).toBe(0);
  });
});

describe('transitiveImports', () => {
  it('follows every kind of relative import, transitively', () => {
    const root = tree({
      'src/entry/e.ts': "import { a } from '../a.js';\nexport const e = a;\n",
      'src/a.ts': "import type { B } from './b.js';\nexport const a = 1 as unknown as B;\n",
      'src/b.ts': "export type B = number;\nexport const load = () => import('./c.js');\n",
      'src/c.ts': "export * from './d/index.js';\nimport 'node:fs';\n",
      'src/d/index.ts': 'export const d = 1;\n',
      'src/unrelated.ts': "import { e } from './entry/e.js';\nexport const u = e;\n",
    });
    expect(transitiveImports('src/entry/e.ts', root)).toEqual(['src/a.ts', 'src/b.ts', 'src/c.ts', 'src/d/index.ts']);
  });

  it('the post entry never reaches the launch code (src/launch.ts, src/main.ts)', () => {
    const reached = transitiveImports('src/entry/post.ts');
    // It does reach what the post step needs, so the walk is not vacuous.
    expect(reached).toEqual(expect.arrayContaining(['src/post.ts', 'src/shared.ts', 'src/loops/client.ts']));
    expect(reached).not.toContain('src/launch.ts');
    expect(reached).not.toContain('src/main.ts');
    // And the main entry does reach both: the same walk would catch it.
    expect(transitiveImports('src/entry/main.ts')).toEqual(expect.arrayContaining(['src/launch.ts', 'src/main.ts']));
  });
});
