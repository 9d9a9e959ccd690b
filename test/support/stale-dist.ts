// Whether dist/ is older than what it is built from. The end-to-end tests run dist/*/index.js,
// so a test run must never see a bundle older than src/: the vitest global setup
// (test/global-setup.ts) asks `staleDist` and runs `npm run build` when it says so.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * Everything the build reads besides src/: a change to any of them can change dist/. package.json
 * too, since src/shared.ts bundles its version; scripts/bundle.ts and scripts/undici-guard.ts are
 * the parts of scripts/build.ts that live in their own files.
 */
export const BUILD_INPUTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'scripts/build.ts',
  'scripts/bundle.ts',
  'scripts/undici-guard.ts',
];

export interface BuildState {
  /** The entries (src/entry/<name>.ts): each needs dist/<name>/index.js. */
  entries: string[];
  /** dist/<name>/index.js → modification time (ms), for every bundle that exists. */
  bundles: Record<string, number>;
  /** Every file under src/ and every BUILD_INPUTS file that exists → modification time (ms). */
  inputs: Record<string, number>;
}

export type Verdict = { rebuild: false } | { rebuild: true; reason: string };

/** Pure: rebuild when a bundle is missing or any input is newer than the oldest bundle. */
export function staleDist({ entries, bundles, inputs }: BuildState): Verdict {
  const present = Object.entries(bundles);
  if (present.length === 0) return { rebuild: true, reason: 'dist/ has no bundle' };
  const missing = entries.filter((name) => !(`dist/${name}/index.js` in bundles));
  if (missing.length > 0) return { rebuild: true, reason: `${missing.map((n) => `dist/${n}/index.js`).join(', ')} missing` };
  const [oldest, oldestTime] = present.reduce((a, b) => (b[1] < a[1] ? b : a));
  const newer = Object.entries(inputs)
    .filter(([, time]) => time > oldestTime)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (newer.length === 0) return { rebuild: false };
  const [newest] = newer[0] as [string, number];
  const others = newer.length > 1 ? ` (and ${newer.length - 1} more)` : '';
  return { rebuild: true, reason: `${newest}${others} is newer than ${oldest}` };
}

const posix = (path: string): string => path.split(sep).join('/');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(d.parentPath, d.name)) : [join(d.parentPath, d.name)],
  );
}

/** Reads the file times of the checkout at `root`. */
export function buildState(root: string): BuildState {
  const mtime = (path: string): number => statSync(path).mtimeMs;
  const entryDir = join(root, 'src', 'entry');
  const entries = existsSync(entryDir)
    ? readdirSync(entryDir)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => f.slice(0, -3))
        .sort()
    : [];
  const bundles: Record<string, number> = {};
  const dist = join(root, 'dist');
  if (existsSync(dist)) {
    for (const d of readdirSync(dist, { withFileTypes: true })) {
      const bundle = join(dist, d.name, 'index.js');
      if (d.isDirectory() && existsSync(bundle)) bundles[`dist/${d.name}/index.js`] = mtime(bundle);
    }
  }
  const inputs: Record<string, number> = {};
  const files = [...filesUnder(join(root, 'src')), ...BUILD_INPUTS.map((f) => join(root, f)).filter((f) => existsSync(f))];
  for (const file of files) inputs[posix(relative(root, file))] = mtime(file);
  return { entries, bundles, inputs };
}
