// vitest global setup: before any test, rebuild dist/ if it is older than what it is built from
// (test/support/stale-dist.ts decides), so that no end-to-end test runs a stale bundle. Prints
// one line when it rebuilds; a failed build fails the run with the build's output.

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { staleDist, buildState } from './support/stale-dist.js';
import { ROOT } from './support/runner.js';

const BUILD_TIMEOUT_MS = 5 * 60_000;

function build(): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => void (output += chunk.toString('utf8'));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

export default async function setup(): Promise<void> {
  // LOOPS_ACTION_ROOT points the tests at another checkout's bundle, on purpose: leave it be.
  if (process.env.LOOPS_ACTION_ROOT && resolve(process.env.LOOPS_ACTION_ROOT) !== ROOT) return;
  const verdict = staleDist(buildState(ROOT));
  if (!verdict.rebuild) return;
  console.log(`global setup: ${verdict.reason}: rebuilding dist/ (npm run build)`);
  const { code, output } = await build();
  if (code !== 0) throw new Error(`npm run build failed (exit ${code ?? 'killed'}); no test runs against a stale dist/:\n${output}`);
}
