// One ncc bundle: the flags of `npm run build` in one place, for scripts/build.ts and for the
// benchmark that builds a variant of the bundle elsewhere.

import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NCC = join(ROOT, 'node_modules', '.bin', 'ncc');

export interface BundleOptions {
  /** The directory ncc runs in; it finds tsconfig.json (and its "paths") from the entry upwards. Default: the repository. */
  cwd?: string;
  /** Where to write webpack's stats (the modules in the bundle). */
  statsOut?: string;
}

/** Bundles `entry` into `outDir` (both relative to cwd, or absolute) with the flags of `npm run build`. */
export function bundle(entry: string, outDir: string, options: BundleOptions = {}): void {
  const args = ['build', entry, '-o', outDir, '--minify', '--source-map', '--no-source-map-register', '--license', 'licenses.txt', '--quiet'];
  if (options.statsOut) args.push('--stats-out', options.statsOut);
  execFileSync(NCC, args, { cwd: options.cwd ?? ROOT, stdio: 'inherit' });
}
