// npm run build: one ncc bundle per entry in src/entry/, each in its own folder of dist/
// (dist/<entry>/index.js), so that an entry carries only the code it imports.

import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const ncc = join(ROOT, 'node_modules', '.bin', 'ncc');
const entries = readdirSync(join(ROOT, 'src', 'entry'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
for (const entry of entries) {
  execFileSync(
    ncc,
    ['build', `src/entry/${entry}.ts`, '-o', `dist/${entry}`, '--minify', '--source-map', '--no-source-map-register', '--license', 'licenses.txt', '--quiet'],
    { cwd: ROOT, stdio: 'inherit' },
  );
}
console.log(`built ${entries.map((e) => `dist/${e}/index.js`).join(', ')}`);
