// npm run check:structure [root]: the size and layering rules of the source tree. Prints one
// line per problem (file:line: what) and exits 1 if there is any:
// - a file under src/ longer than 250 lines, under test/emulator/ longer than 300;
// - a function (declaration, expression, arrow, method, constructor, accessor) under src/ or
//   test/emulator/ spanning more than 80 lines, nested functions included;
// - a cycle in the import graph between the folders of src/ (every relative import counts:
//   static, type-only, re-exports, `import x = require()`, dynamic `import()`, `import('…')` types);
// - an entry (src/entry/*.ts) that reaches another entry, or what it must never carry: the post
//   step the launch flow, the eval report the launch flow and the Loops client (ENTRY_RULES).
// Functions and imports come from the TypeScript parser, not from patterns.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const LIMITS = { srcFileLines: 250, emulatorFileLines: 300, functionLines: 80 } as const;
/** More cycles than this are summarised in one line: the first ones are enough to start. */
const MAX_CYCLES = 20;

const CODE = /\.(?:[cm]?[jt]s|[jt]sx)$/;

export interface Problem {
  /** Relative to the root, with forward slashes. */
  file: string;
  line: number;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}

const posix = (path: string): string => path.split(sep).join('/');

/** Code files under `dir` (absolute), sorted; none if it does not exist. */
function codeFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...codeFiles(path));
    else if (CODE.test(name)) found.push(path);
  }
  return found;
}

function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

const parsed = new Map<string, ts.SourceFile>();
function parse(file: string): ts.SourceFile {
  let source = parsed.get(file);
  if (!source) {
    const ext = extname(file);
    const kind = ext.endsWith('x')
      ? ext === '.tsx'
        ? ts.ScriptKind.TSX
        : ts.ScriptKind.JSX
      : /js$/.test(ext)
        ? ts.ScriptKind.JS
        : ts.ScriptKind.TS;
    source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, kind);
    parsed.set(file, source);
  }
  return source;
}

const lineOf = (source: ts.SourceFile, pos: number): number => source.getLineAndCharacterOfPosition(pos).line + 1;

// ---- file and function length ----

function fileLengths(root: string, files: string[], limit: number, where: string): Problem[] {
  const problems: Problem[] = [];
  for (const file of files) {
    const lines = lineCount(readFileSync(file, 'utf8'));
    if (lines > limit) {
      problems.push({
        file: posix(relative(root, file)),
        line: limit + 1,
        message: `${lines} lines; a file under ${where} may have at most ${limit}`,
      });
    }
  }
  return problems;
}

type FunctionNode =
  | ts.FunctionDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

function isFunction(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

function nameText(name: ts.Node | undefined, source: ts.SourceFile): string | undefined {
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return name.getText(source);
}

/** "method Emulator.handle", "arrow function onRequest", "function expression (anonymous)", … */
function describeFunction(node: FunctionNode, source: ts.SourceFile): string {
  const owner = ts.isClassLike(node.parent) ? nameText(node.parent.name, source) : undefined;
  const member = (name: string | undefined): string => (owner ? `${owner}.${name}` : (name ?? '(anonymous)'));
  if (ts.isConstructorDeclaration(node)) return `constructor of ${owner ?? '(anonymous class)'}`;
  if (ts.isMethodDeclaration(node)) return `method ${member(nameText(node.name, source))}`;
  if (ts.isGetAccessorDeclaration(node)) return `getter ${member(nameText(node.name, source))}`;
  if (ts.isSetAccessorDeclaration(node)) return `setter ${member(nameText(node.name, source))}`;
  if (ts.isFunctionDeclaration(node)) return `function ${nameText(node.name, source) ?? '(default export)'}`;
  const kind = ts.isArrowFunction(node) ? 'arrow function' : 'function expression';
  let name = ts.isFunctionExpression(node) ? nameText(node.name, source) : undefined;
  const parent = node.parent;
  if (!name && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) {
    name = nameText(parent.name, source);
  }
  if (!name && ts.isBinaryExpression(parent) && parent.right === node) name = parent.left.getText(source);
  return `${kind} ${name ?? '(anonymous)'}`;
}

function functionLengths(root: string, files: string[], limit: number): Problem[] {
  const problems: Problem[] = [];
  for (const file of files) {
    const source = parse(file);
    const visit = (node: ts.Node): void => {
      if (isFunction(node)) {
        const first = lineOf(source, node.getStart(source));
        const last = lineOf(source, node.getEnd());
        const span = last - first + 1;
        if (span > limit) {
          problems.push({
            file: posix(relative(root, file)),
            line: first,
            message: `${describeFunction(node, source)} spans ${span} lines (${first}–${last}); a function may span at most ${limit}`,
          });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return problems;
}

// ---- imports ----

export interface Import {
  /** The specifier as written. */
  specifier: string;
  line: number;
}

/** Every module specifier in a file: imports (type-only too), re-exports, import-equals, import(), import types, require(). */
export function importsOf(file: string): Import[] {
  const source = parse(file);
  const found: Import[] = [];
  const add = (literal: ts.Node | undefined): void => {
    if (literal && (ts.isStringLiteral(literal) || ts.isNoSubstitutionTemplateLiteral(literal))) {
      found.push({ specifier: literal.text, line: lineOf(source, literal.getStart(source)) });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export const isRelative = (specifier: string): boolean => /^\.\.?(?:\/|$)/.test(specifier);

/** The file a relative specifier names (NodeNext style: './x.js' is './x.ts'), or the bare path if none exists. */
export function resolveRelative(from: string, specifier: string): string {
  const target = resolve(dirname(from), specifier);
  const stem = target.replace(/\.([cm]?)jsx?$/, '');
  const swapped = target === stem ? [] : [`${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.cts`];
  const candidates = [
    ...swapped,
    target,
    ...['.ts', '.tsx', '.d.ts', '.js'].map((e) => target + e),
    ...['index.ts', 'index.js'].map((i) => join(target, i)),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? target;
}

/** Every file `start` (absolute) reaches through relative imports, each with the file that first imports it. */
function importTree(start: string): Map<string, string> {
  const parent = new Map<string, string>();
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    if (!CODE.test(current) || !existsSync(current)) continue;
    for (const { specifier } of importsOf(current)) {
      if (!isRelative(specifier)) continue;
      const target = resolveRelative(current, specifier);
      if (seen.has(target)) continue;
      seen.add(target);
      parent.set(target, current);
      queue.push(target);
    }
  }
  return parent;
}

/**
 * Every file `file` reaches through relative imports of any kind (type-only and dynamic ones
 * too), transitively; paths relative to `root`, sorted, without `file` itself.
 */
export function transitiveImports(file: string, root = ROOT): string[] {
  const start = isAbsolute(file) ? file : resolve(root, file);
  parsed.clear();
  return [...importTree(start).keys()].map((f) => posix(relative(root, f))).sort();
}

// ---- what each entry may reach ----

/** Per entry, files it must never reach, and why. Every entry must also never reach another entry. */
export const ENTRY_RULES: Record<string, { never: string[]; why: string }> = {
  'src/entry/post.ts': { never: ['src/main.ts', 'src/launch.ts'], why: 'the post step can only stop, never create' },
  'src/entry/report.ts': {
    never: ['src/main.ts', 'src/launch.ts', 'src/step.ts', 'src/shared.ts', 'src/loops/client.ts', 'src/loops/http.ts'],
    why: 'the eval report never talks to Loops',
  },
};

function entryProblems(root: string): Problem[] {
  const entries = codeFiles(join(root, 'src', 'entry'));
  const name = (f: string): string => posix(relative(root, f));
  const problems: Problem[] = [];
  for (const entry of entries) {
    const tree = importTree(entry);
    const chain = (target: string): string => {
      const path = [target];
      for (let at = tree.get(target); at !== undefined && at !== entry; at = tree.get(at)) path.unshift(at);
      return [entry, ...path].map(name).join(' → ');
    };
    const rule = ENTRY_RULES[name(entry)];
    for (const target of [...tree.keys()].sort()) {
      if (entries.includes(target)) problems.push({ file: name(entry), line: 1, message: `an entry reaches another entry: ${chain(target)}` });
      else if (rule?.never.includes(name(target))) problems.push({ file: name(entry), line: 1, message: `${rule.why}, but ${chain(target)}` });
    }
  }
  return problems;
}

// ---- the folder graph of src/ ----

interface Edge {
  file: string;
  line: number;
  specifier: string;
}

/** folder → folder → the first import (by file, then line) that makes the edge. Folders relative to root. */
export function folderGraph(root: string): Map<string, Map<string, Edge>> {
  const srcDir = join(root, 'src');
  const graph = new Map<string, Map<string, Edge>>();
  for (const file of codeFiles(srcDir)) {
    const from = posix(relative(root, dirname(file)));
    if (!graph.has(from)) graph.set(from, new Map());
    for (const { specifier, line } of importsOf(file)) {
      if (!isRelative(specifier)) continue;
      const target = resolveRelative(file, specifier);
      const inSrc = relative(srcDir, target);
      if (inSrc.startsWith('..') || isAbsolute(inSrc)) continue; // outside src/ (../package.json): not a folder of src/
      const to = posix(relative(root, dirname(target)));
      const edges = graph.get(from) as Map<string, Edge>;
      if (to !== from && !edges.has(to)) edges.set(to, { file: posix(relative(root, file)), line, specifier });
    }
  }
  return graph;
}

/** Elementary cycles, each once, starting at its smallest folder; at most `max` + 1 (to tell that there are more). */
export function findCycles(graph: Map<string, Map<string, unknown>>, max = MAX_CYCLES): string[][] {
  const nodes = [...graph.keys()].sort();
  const cycles: string[][] = [];
  for (const start of nodes) {
    const path = [start];
    const onPath = new Set(path);
    const walk = (node: string): boolean => {
      for (const next of [...(graph.get(node)?.keys() ?? [])].sort()) {
        if (next === start) {
          cycles.push([...path, start]);
          if (cycles.length > max) return true;
        } else if (next > start && !onPath.has(next)) {
          path.push(next);
          onPath.add(next);
          if (walk(next)) return true;
          path.pop();
          onPath.delete(next);
        }
      }
      return false;
    };
    if (walk(start)) break;
  }
  return cycles;
}

function folderCycles(root: string): Problem[] {
  const graph = folderGraph(root);
  const cycles = findCycles(graph);
  const problems = cycles.slice(0, MAX_CYCLES).map((cycle): Problem => {
    const edges = cycle.slice(1).map((to, i) => {
      const from = cycle[i] as string;
      return { from, to, ...(graph.get(from)?.get(to) as Edge) };
    });
    const first = edges[0] as Edge;
    const detail = edges.map((e) => `${e.from} → ${e.to}: ${e.file}:${e.line} imports '${e.specifier}'`).join('; ');
    return { file: first.file, line: first.line, message: `folder import cycle ${cycle.join(' → ')} (${detail})` };
  });
  if (cycles.length > MAX_CYCLES) {
    const last = problems[problems.length - 1] as Problem;
    problems.push({ file: last.file, line: last.line, message: `more than ${MAX_CYCLES} folder import cycles; fix these first` });
  }
  return problems;
}

/** Every problem in the tree at `root`, in a stable order: file lengths, function lengths, cycles, entries. */
export function checkStructure(root = ROOT): Problem[] {
  const src = codeFiles(join(root, 'src'));
  const emulator = codeFiles(join(root, 'test', 'emulator'));
  parsed.clear();
  return [
    ...fileLengths(root, src, LIMITS.srcFileLines, 'src/'),
    ...fileLengths(root, emulator, LIMITS.emulatorFileLines, 'test/emulator/'),
    ...functionLengths(root, [...src, ...emulator], LIMITS.functionLines),
    ...folderCycles(root),
    ...entryProblems(root),
  ];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? ROOT);
  if (!existsSync(join(root, 'src'))) {
    console.error(`${root} has no src/ folder`);
    process.exit(2);
  }
  const problems = checkStructure(root);
  for (const p of problems) console.error(formatProblem(p));
  if (problems.length > 0) process.exit(1);
  console.log(`structure ok: ${relative(process.cwd(), root) || '.'}`);
}
