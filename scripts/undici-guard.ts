// The build's guard for the undici stand-in (src/vendor/undici-lazy.ts): tsconfig "paths" maps
// every bare `undici` import in the bundle to it, and it really provides only some of undici's
// exports. This finds every module that ends up in a bundle (from ncc's --stats-out, i.e. the
// build itself), and in each one every use of 'undici' — named and default imports, namespace
// members, re-exports, require() (members, destructuring, TypeScript's __importStar), awaited
// import() — and reports the names the stand-in does not provide. A module that uses the
// module object in a way that cannot be followed (passes it on, indexes it with a variable,
// `export *`) is reported too, as the name '*'.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const STAND_IN = join(ROOT, 'src', 'vendor', 'undici-lazy.ts');
const MODULE = 'undici';

export interface UndiciUse {
  /** The export used; '*' when the module object escapes and any export could be reached. */
  name: string;
  line: number;
  how: string;
}

const isModuleName = (node: ts.Node | undefined): boolean =>
  !!node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && node.text === MODULE;

function kindOf(file: string): ts.ScriptKind {
  if (/\.tsx$/.test(file)) return ts.ScriptKind.TSX;
  if (/\.[cm]?ts$/.test(file)) return ts.ScriptKind.TS;
  return ts.ScriptKind.JS;
}

/** Every use of the bare module 'undici' in one source file. */
export function undiciUses(file: string, text = readFileSync(file, 'utf8')): UndiciUse[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kindOf(file));
  const uses: UndiciUse[] = [];
  const line = (node: ts.Node): number => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const add = (name: string, node: ts.Node, how: string): void => void uses.push({ name, line: line(node), how });

  /** Every reference to a binding of the module object, by name, anywhere in the file (scope-naive: errs towards reporting). */
  const referencesTo = (binding: ts.Identifier): ts.Identifier[] => {
    const found: ts.Identifier[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node) && node !== binding && node.text === binding.text) {
        const parent = node.parent;
        const isPropertyName =
          (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
          (ts.isPropertyAssignment(parent) && parent.name === node) ||
          ts.isImportSpecifier(parent) ||
          ts.isExportSpecifier(parent) ||
          (ts.isVariableDeclaration(parent) && parent.name === node) ||
          (ts.isBinaryExpression(parent) && parent.left === node && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken);
        if (!isPropertyName) found.push(node);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  };

  /** Where the module object `expr` goes: a member read, a destructuring, a binding to follow, or somewhere unknown. */
  const follow = (expr: ts.Expression, how: string, promise = false): void => {
    const parent = expr.parent;
    if (ts.isParenthesizedExpression(parent) || ts.isNonNullExpression(parent) || ts.isAsExpression(parent)) return follow(parent, how, promise);
    if (ts.isAwaitExpression(parent)) return follow(parent, how);
    if (promise) return add('*', expr, `${how} not awaited where it is made`); // import('undici').then(…)
    if (ts.isPropertyAccessExpression(parent) && parent.expression === expr) return add(parent.name.text, parent.name, `${how} member`);
    if (ts.isElementAccessExpression(parent) && parent.expression === expr) {
      const arg = parent.argumentExpression;
      if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) return add(arg.text, arg, `${how} member`);
      return add('*', parent, `${how} indexed by a computed key`);
    }
    if (
      ts.isCallExpression(parent) &&
      ts.isIdentifier(parent.expression) &&
      /^__importStar$|^_interopRequireWildcard$/.test(parent.expression.text)
    ) {
      return follow(parent, how);
    }
    if (ts.isVariableDeclaration(parent) && parent.initializer === expr) return bind(parent.name, how);
    if (
      ts.isBinaryExpression(parent) &&
      parent.right === expr &&
      parent.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isIdentifier(parent.left)
    ) {
      return bind(parent.left, how);
    }
    if (ts.isExpressionStatement(parent)) return; // require('undici'); for its side effects only
    add('*', expr, `${how} used as a whole`);
  };

  const bound = new Set<ts.Node>();
  const bind = (name: ts.BindingName, how: string): void => {
    if (bound.has(name)) return; // a = b; b = a
    bound.add(name);
    if (ts.isIdentifier(name)) {
      for (const ref of referencesTo(name)) follow(ref, how);
      return;
    }
    if (ts.isObjectBindingPattern(name)) {
      for (const element of name.elements) {
        const key = element.propertyName ?? element.name;
        if (element.dotDotDotToken) add('*', element, `${how} rest destructuring`);
        else if (ts.isIdentifier(key) || ts.isStringLiteral(key)) add(key.text, key, `${how} destructuring`);
        else add('*', element, `${how} computed destructuring`);
      }
      return;
    }
    add('*', name, `${how} array destructuring`);
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && isModuleName(node.moduleSpecifier)) {
      const clause = node.importClause;
      if (clause && !clause.isTypeOnly) {
        if (clause.name) add('default', clause.name, 'default import');
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) {
          for (const el of bindings.elements) if (!el.isTypeOnly) add((el.propertyName ?? el.name).text, el, 'named import');
        } else if (bindings && ts.isNamespaceImport(bindings)) bind(bindings.name, 'namespace import');
      }
    } else if (ts.isExportDeclaration(node) && isModuleName(node.moduleSpecifier)) {
      const clause = node.exportClause;
      if (!node.isTypeOnly) {
        if (clause && ts.isNamedExports(clause)) {
          for (const el of clause.elements) if (!el.isTypeOnly) add((el.propertyName ?? el.name).text, el, 're-export');
        } else add('*', node, clause ? 'export * as' : 'export *');
      }
    } else if (ts.isImportEqualsDeclaration(node) && !node.isTypeOnly && ts.isExternalModuleReference(node.moduleReference)) {
      if (isModuleName(node.moduleReference.expression)) bind(node.name, 'import = require');
    } else if (ts.isCallExpression(node) && isModuleName(node.arguments[0])) {
      const callee = node.expression;
      if (ts.isIdentifier(callee) && callee.text === 'require') follow(node, 'require');
      else if (callee.kind === ts.SyntaxKind.ImportKeyword) follow(node, 'import()', true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

/** The stand-in's exports: those it really provides, and the stubs (`export const X = missing('X')`). */
export function standInExports(file = STAND_IN): { provided: string[]; stubs: string[] } {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const provided: string[] = [];
  const stubs: string[] = [];
  const exported = (node: ts.Node): boolean =>
    ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const statement of source.statements) {
    if (!exported(statement)) continue;
    if ((ts.isClassDeclaration(statement) || ts.isFunctionDeclaration(statement)) && statement.name) provided.push(statement.name.text);
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        if (!ts.isIdentifier(d.name)) continue;
        const init = d.initializer;
        const isStub = !!init && ts.isCallExpression(init) && ts.isIdentifier(init.expression) && init.expression.text === 'missing';
        (isStub ? stubs : provided).push(d.name.text);
      }
    }
    if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const el of statement.exportClause.elements) provided.push(el.name.text);
    }
  }
  return { provided: provided.sort(), stubs: stubs.sort() };
}

interface StatsModule {
  nameForCondition?: string;
  modules?: StatsModule[];
}

/** The source files of every module in a bundle, from ncc's --stats-out file (concatenated modules included). */
export function bundledModules(statsFile: string): string[] {
  const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as { modules?: StatsModule[] };
  const files = new Set<string>();
  const visit = (modules: StatsModule[] | undefined): void => {
    for (const m of modules ?? []) {
      const file = m.nameForCondition;
      if (file && existsSync(file) && statSync(file).isFile()) files.add(file);
      visit(m.modules);
    }
  };
  visit(stats.modules);
  return [...files].sort();
}

const posix = (path: string): string => path.split(sep).join('/');

/**
 * One line per use of 'undici', in any module of the bundles behind `statsFiles`, of a name the
 * stand-in does not provide; none when all is well.
 */
export function undiciProblems(statsFiles: string[], standIn = STAND_IN, root = ROOT): string[] {
  const { provided } = standInExports(standIn);
  const problems = new Set<string>();
  const modules = new Set(statsFiles.flatMap(bundledModules));
  for (const file of [...modules].sort()) {
    if (file === standIn) continue;
    const text = readFileSync(file, 'utf8');
    if (!text.includes(MODULE)) continue;
    for (const use of undiciUses(file, text)) {
      if (provided.includes(use.name)) continue;
      const what = use.name === '*' ? 'undici as a whole' : `${use.name} from undici`;
      problems.add(
        `${posix(relative(root, file))}:${use.line} uses ${what} (${use.how}), which the stand-in ${posix(relative(root, standIn))} ` +
          `does not provide (it provides ${provided.join(', ')})`,
      );
    }
  }
  return [...problems];
}
