// npm run build: one ncc bundle per entry in src/entry/, each in its own folder of dist/
// (dist/<entry>/index.js), so that an entry carries only the code it imports. Then the undici
// guard (scripts/undici-guard.ts): no module in any bundle may use an undici export that the
// stand-in src/vendor/undici-lazy.ts does not provide; if one does, dist/ is removed and the
// build fails. The bundles are built beside dist/ (at the same depth, so that their source maps
// are the same) and moved into place at the end: a build that fails, or that runs while another
// reads dist/ (the tests' global setup rebuilding, say), never leaves a half-written dist/.

import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.js';
import { undiciProblems } from './undici-guard.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const entries = readdirSync(join(ROOT, 'src', 'entry'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

const statsDir = mkdtempSync(join(tmpdir(), 'build-stats-'));
const staging = `.dist-build-${process.pid}`;
try {
  const stats = entries.map((entry) => {
    const statsOut = join(statsDir, `${entry}.json`);
    bundle(`src/entry/${entry}.ts`, `${staging}/${entry}`, { statsOut });
    return statsOut;
  });
  const problems = undiciProblems(stats);
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  if (problems.length > 0) {
    console.error(`build failed: a bundled module uses what the undici stand-in does not provide (dist/ removed):`);
    for (const p of problems) console.error(`  ${p}`);
    process.exitCode = 1; // not process.exit: the staging folder is removed below
  } else renameSync(join(ROOT, staging), join(ROOT, 'dist'));
} finally {
  rmSync(statsDir, { recursive: true, force: true });
  rmSync(join(ROOT, staging), { recursive: true, force: true });
}
if (!process.exitCode) console.log(`built ${entries.map((e) => `dist/${e}/index.js`).join(', ')}`);
