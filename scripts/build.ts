// npm run build: one ncc bundle per entry in src/entry/, each in its own folder of dist/
// (dist/<entry>/index.js), so that an entry carries only the code it imports. Then the undici
// guard (scripts/undici-guard.ts): no module in any bundle may use an undici export that the
// stand-in src/vendor/undici-lazy.ts does not provide; if one does, dist/ is removed and the
// build fails.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
try {
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  const stats = entries.map((entry) => {
    const statsOut = join(statsDir, `${entry}.json`);
    bundle(`src/entry/${entry}.ts`, `dist/${entry}`, { statsOut });
    return statsOut;
  });
  const problems = undiciProblems(stats);
  if (problems.length > 0) {
    rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
    console.error(`build failed: a bundled module uses what the undici stand-in does not provide (dist/ removed):`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
} finally {
  rmSync(statsDir, { recursive: true, force: true });
}
console.log(`built ${entries.map((e) => `dist/${e}/index.js`).join(', ')}`);
