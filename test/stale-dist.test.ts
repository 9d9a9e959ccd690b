// The decision behind the vitest global setup: rebuild dist/ when a bundle is missing or when
// anything it is built from is newer than the oldest bundle.

import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildState, staleDist } from './support/stale-dist.js';

const both = { 'dist/main/index.js': 2000, 'dist/post/index.js': 3000 };

describe('staleDist', () => {
  it('keeps dist/ when every input is older than (or as old as) the oldest bundle', () => {
    expect(staleDist({ entries: ['main', 'post'], bundles: both, inputs: { 'src/a.ts': 1000, 'package-lock.json': 2000 } })).toEqual({
      rebuild: false,
    });
  });

  it('rebuilds when an input is newer than the oldest bundle, even if older than the newest', () => {
    expect(staleDist({ entries: ['main', 'post'], bundles: both, inputs: { 'src/a.ts': 1000, 'src/loops/http.ts': 2500 } })).toEqual({
      rebuild: true,
      reason: 'src/loops/http.ts is newer than dist/main/index.js',
    });
  });

  it('names the newest input and counts the others', () => {
    const inputs = { 'tsconfig.json': 2001, 'scripts/build.ts': 4000, 'package-lock.json': 2500, 'src/a.ts': 10 };
    expect(staleDist({ entries: ['main', 'post'], bundles: both, inputs })).toEqual({
      rebuild: true,
      reason: 'scripts/build.ts (and 2 more) is newer than dist/main/index.js',
    });
  });

  it('rebuilds when dist/ is missing or an entry has no bundle', () => {
    expect(staleDist({ entries: ['main', 'post'], bundles: {}, inputs: {} })).toEqual({ rebuild: true, reason: 'dist/ has no bundle' });
    expect(staleDist({ entries: ['main', 'post', 'x'], bundles: both, inputs: { 'src/a.ts': 1 } })).toEqual({
      rebuild: true,
      reason: 'dist/x/index.js missing',
    });
  });
});

describe('buildState', () => {
  const root = mkdtempSync(join(tmpdir(), 'stale-dist-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads the times of src/**, the build inputs and dist/*/index.js', () => {
    const files: Record<string, number> = {
      'src/entry/main.ts': 100,
      'src/loops/http.ts': 300,
      'src/data/x.json': 150,
      'package-lock.json': 50,
      'tsconfig.json': 60,
      'scripts/build.ts': 70,
      'scripts/bundle.ts': 71,
      'package.json': 40,
      'scripts/other.ts': 999,
      'dist/main/index.js': 200,
      'dist/main/752.index.js': 10,
      'test/a.test.ts': 999,
    };
    for (const [path, seconds] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), '');
      utimesSync(join(root, path), seconds, seconds);
    }
    const state = buildState(root);
    expect(state).toEqual({
      entries: ['main'],
      bundles: { 'dist/main/index.js': 200_000 },
      inputs: {
        'src/entry/main.ts': 100_000,
        'src/loops/http.ts': 300_000,
        'src/data/x.json': 150_000,
        'package-lock.json': 50_000,
        'tsconfig.json': 60_000,
        'scripts/build.ts': 70_000,
        'scripts/bundle.ts': 71_000,
        'package.json': 40_000,
      },
    });
    expect(staleDist(state)).toEqual({ rebuild: true, reason: 'src/loops/http.ts is newer than dist/main/index.js' });
  });
});
