// The undici stand-in (src/vendor/undici-lazy.ts) and its guardrails: every undici export it
// does not provide throws an Error naming it when reached at run time, and the build's guard
// (scripts/undici-guard.ts) reports any bundled module that uses such an export — shown here
// by planting one in a real ncc build.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundle } from '../scripts/bundle.js';
import { STAND_IN, bundledModules, standInExports, undiciProblems, undiciUses } from '../scripts/undici-guard.js';
import * as standIn from '../src/vendor/undici-lazy.js';
import { ROOT } from './support/runner.js';

const realUndici = createRequire(join(ROOT, 'package.json'))('undici') as Record<string, unknown>;
const { provided, stubs } = standInExports();

describe('the stand-in', () => {
  it('really provides ProxyAgent and fetch, and stubs every other export of the installed undici', () => {
    expect(provided).toEqual(['ProxyAgent', 'fetch']);
    expect([...provided, ...stubs].sort()).toEqual(Object.keys(realUndici).sort());
    // What the build guard reads from the source is what the module exports.
    expect(Object.keys(standIn).sort()).toEqual([...provided, ...stubs].sort());
  });

  it.each(stubs)('undici.%s throws an Error naming it when called, constructed, read or used with instanceof', (name) => {
    // Reached the way a namespace import reaches it: a member of the module object.
    const stub = (standIn as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
    const message = new RegExp(`^undici\\.${name} is not provided by the undici stand-in \\(src/vendor/undici-lazy\\.ts`);
    expect(() => stub()).toThrow(message);
    expect(() => new (stub as unknown as new () => unknown)()).toThrow(message);
    expect(() => (stub as unknown as Record<string, unknown>).request).toThrow(message);
    expect(() => ({}) instanceof (stub as unknown as new () => unknown)).toThrow(message);
  });

  it('ProxyAgent and fetch are not stubs', () => {
    const agent = new standIn.ProxyAgent({ uri: 'http://127.0.0.1:9' });
    expect(agent.options).toEqual({ uri: 'http://127.0.0.1:9' });
    expect(typeof standIn.fetch).toBe('function');
  });
});

describe('undiciUses', () => {
  const uses = (code: string, file = 'm.js') => undiciUses(file, code).map((u) => `${u.line} ${u.name} (${u.how})`);

  it('finds named, default and type-free imports, re-exports and export *', () => {
    const code = [
      "import { ProxyAgent, Agent as A, type Dispatcher } from 'undici';",
      "import undici from 'undici';",
      "import type { Pool } from 'undici';",
      "export { fetch, Client } from 'undici';",
      "export * from 'undici';",
      "import { x } from 'undici-types';",
    ].join('\n');
    expect(uses(code, 'm.ts')).toEqual([
      '1 ProxyAgent (named import)',
      '1 Agent (named import)',
      '2 default (default import)',
      '4 fetch (re-export)',
      '4 Client (re-export)',
      '5 * (export *)',
    ]);
  });

  it('follows a namespace import to the members it reads', () => {
    const code = ["import * as u from 'undici';", 'new u.ProxyAgent({});', "u['Agent'];", 'const { Pool, fetch: f } = u;', 'send(u);'].join('\n');
    expect(uses(code)).toEqual([
      '2 ProxyAgent (namespace import member)',
      '3 Agent (namespace import member)',
      '4 Pool (namespace import destructuring)',
      '4 fetch (namespace import destructuring)',
      '5 * (namespace import used as a whole)',
    ]);
  });

  it('follows require(): members, bindings (TypeScript CommonJS output too), destructuring, computed keys', () => {
    const code = [
      "const undici_1 = require('undici');",
      'new undici_1.ProxyAgent({});',
      '(0, undici_1.request)(url);',
      "const star = __importStar(require('undici'));",
      'star.Agent;',
      "const { fetch, ...rest } = require('undici');",
      "require('undici')[name];",
      "require('undici').Client;",
      "require('undici');",
      'let late;',
      "late = require('undici');",
      'late.Pool;',
    ].join('\n');
    expect(uses(code)).toEqual([
      '2 ProxyAgent (require member)',
      '3 request (require member)',
      '5 Agent (require member)',
      '6 fetch (require destructuring)',
      '6 * (require rest destructuring)',
      '7 * (require indexed by a computed key)',
      '8 Client (require member)',
      '12 Pool (require member)',
    ]);
  });

  it('follows an awaited import()', () => {
    const code = ["const { Agent } = await import('undici');", "(await import('undici')).fetch;", "import('undici').then(go);"].join('\n');
    expect(uses(code)).toEqual(['1 Agent (import() destructuring)', '2 fetch (import() member)', '3 * (import() not awaited where it is made)']);
  });
});

describe('the build guard', () => {
  // Inside the repository (.tmp/ is ignored by git), so that ncc applies its tsconfig.json "paths".
  let dir = '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports a bundled module that imports an export the stand-in lacks, found from the build stats', { timeout: 180_000 }, () => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    dir = mkdtempSync(join(ROOT, '.tmp', 'undici-guard-'));
    mkdirSync(join(dir, 'src'), { recursive: true });
    // The planted module: a "future" dependency that wants Agent.
    writeFileSync(join(dir, 'src', 'planted.ts'), "import { Agent } from 'undici';\n\nexport const agent = (): unknown => new Agent();\n");
    writeFileSync(join(dir, 'src', 'entry.ts'), "import { agent } from './planted.js';\n\nconsole.log(typeof agent);\n");
    const stats = join(dir, 'stats.json');
    bundle(join(dir, 'src', 'entry.ts'), join(dir, 'out'), { statsOut: stats });

    const modules = bundledModules(stats).map((f) => relative(ROOT, f));
    expect(modules).toEqual(expect.arrayContaining([relative(ROOT, join(dir, 'src', 'planted.ts')), relative(ROOT, STAND_IN)]));
    expect(undiciProblems([stats])).toEqual([
      `${relative(ROOT, join(dir, 'src', 'planted.ts'))}:1 uses Agent from undici (named import), which the stand-in src/vendor/undici-lazy.ts does not provide (it provides ProxyAgent, fetch)`,
    ]);
  });
});
