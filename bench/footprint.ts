// 4. Footprint: the size of dist/ and the peak RSS of one launch (wait_for none) of the bundle
// and of the raw baseline. Peak RSS comes from GNU time (-f %M) when /usr/bin/time exists,
// else from a preload that records process.resourceUsage().maxRSS at exit.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEmulator } from '../test/emulator/server.js';
import { BUNDLE, ROOT, StepWorkspace, inputEnv } from '../test/support/runner.js';
import { API_KEY, BASELINE, type NodeBinary, type Section, launchInputs, median, mib, verdict } from './common.js';

const TIME = '/usr/bin/time';
const PRELOAD = join(ROOT, 'bench/maxrss-preload.mjs');
const LIMIT = 60 * 1024 * 1024;
const REPEAT = 5;

/** Peak RSS in bytes of one launch of `entry` on `node`. */
export async function peakRss(node: string, entry: string, url: string): Promise<number> {
  const ws = new StepWorkspace();
  const rssFile = join(ws.dir, 'maxrss');
  const env = { ...ws.baseEnv(), ...inputEnv(launchInputs(url)), BENCH_MAXRSS_FILE: rssFile };
  const [command, args] = existsSync(TIME) ? [TIME, ['-f', '%M', '-o', rssFile, node, entry]] : [node, ['--import', PRELOAD, entry]];
  try {
    await promisify(execFile)(command, args, { env, cwd: ROOT, timeout: 60_000 });
    if (ws.read().outputs.status !== 'launched') throw new Error(`${entry} did not launch`);
    return Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) * 1024;
  } finally {
    ws.remove();
  }
}

export async function footprint(nodes: NodeBinary[]): Promise<Section> {
  const dist = join(ROOT, 'dist', 'main');
  const files = readdirSync(dist).map((name) => ({ name, size: statSync(join(dist, name)).size }));
  const js = files.filter((f) => f.name.endsWith('.js'));
  const size = (list: typeof files): string => {
    const bytes = list.reduce((n, f) => n + f.size, 0);
    return `${bytes.toLocaleString('en-US')} bytes (${(bytes / 1024).toFixed(0)} KiB)`;
  };
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
  const others = files.filter((f) => /\.c?js$/.test(f.name) && f.name !== 'index.js');

  const emulator = await startEmulator({ apiKeys: [API_KEY] });
  const table = [['what', 'value', 'target', '']];
  table.push(['dist/main/*.js total', size(js), '', '']);
  table.push(['dist/main/index.js (the entry, read on every launch)', size(files.filter((f) => f.name === 'index.js')), '', '']);
  table.push([
    'other scripts in dist/main/ (chunks loaded when needed)',
    others.map((f) => `${f.name} ${kib(f.size)}`).join(', ') || '—',
    '',
    '',
  ]);
  table.push(['all of dist/main/ (with source maps, licenses)', size(files), '', '']);
  let worst = 0;
  try {
    for (const node of nodes) {
      const action: number[] = [];
      const baseline: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        emulator.reset();
        action.push(await peakRss(node.path, BUNDLE, emulator.url));
        emulator.reset();
        baseline.push(await peakRss(node.path, BASELINE, emulator.url));
      }
      const peak = median(action);
      worst = Math.max(worst, peak);
      const range = (list: number[]): string => `${mib(median(list))} (${mib(Math.min(...list))}–${mib(Math.max(...list))})`;
      table.push([`peak RSS, action, ${node.label}, median (min–max) of ${REPEAT}`, range(action), '≤ 60 MiB', verdict(peak <= LIMIT)]);
      table.push([`peak RSS, raw baseline, ${node.label}`, range(baseline), '', '']);
      table.push([`peak RSS, action − baseline, ${node.label}`, mib(peak - median(baseline)), '', '']);
    }
  } finally {
    await emulator.close();
  }
  return {
    title: '4. Footprint',
    about: `Sizes of dist/; peak RSS of one launch (wait_for none) measured with ${existsSync(TIME) ? 'GNU time -f %M' : 'process.resourceUsage().maxRSS at exit'}.`,
    table,
    checks: [{ target: `peak RSS ≤ 60 MiB (median, worst Node: ${mib(worst)})`, pass: worst <= LIMIT }],
  };
}
