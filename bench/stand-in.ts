// 5. The undici stand-in: the main bundle built as usual (tsconfig "paths" maps `undici` to
// src/vendor/undici-lazy.ts, which loads undici on first fetch) against the same source built
// without the mapping (undici bundled and loaded at start), both into a temp dir with the flags
// of `npm run build`. Spawn → exit of one launch (wait_for none, emulator reset before each),
// A B interleaved after warm-up pairs, and peak RSS; reported as with ÷ without.

import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../test/emulator/server.js';
import { ROOT, runStep } from '../test/support/runner.js';
import { bundle } from '../scripts/bundle.js';
import { STAND_IN, bundledModules } from '../scripts/undici-guard.js';
import { API_KEY, type NodeBinary, type Section, launchInputs, median, mib, ms, ratio } from './common.js';
import { peakRss } from './footprint.js';

const WARMUP = 3;
const RSS_REPEAT = 5;

interface Variant {
  label: string;
  entry: string;
  hasStandIn: boolean;
  indexBytes: number;
}

/** Builds src/entry/main.ts with the repository's tsconfig.json into `out`. */
function buildWith(out: string): Variant {
  const stats = join(out, 'stats.json');
  bundle('src/entry/main.ts', join(out, 'main'), { statsOut: stats });
  return variant('with the stand-in', out, stats);
}

/** Builds the same source from a copy of the repository whose tsconfig.json has no "paths". */
function buildWithout(out: string): Variant {
  const copy = join(out, 'repo');
  cpSync(join(ROOT, 'src'), join(copy, 'src'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { paths?: unknown } };
  delete tsconfig.compilerOptions.paths;
  writeFileSync(join(copy, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const stats = join(out, 'stats.json');
  bundle('src/entry/main.ts', join(out, 'main'), { cwd: copy, statsOut: stats });
  return variant('without (undici bundled)', out, stats, join(copy, 'src', 'vendor', 'undici-lazy.ts'));
}

function variant(label: string, out: string, stats: string, standIn = STAND_IN): Variant {
  const entry = join(out, 'main', 'index.js');
  return { label, entry, hasStandIn: bundledModules(stats).includes(standIn), indexBytes: statSync(entry).size };
}

export async function standIn(nodes: NodeBinary[], pairs: number): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-stand-in-'));
  const emulator = await startEmulator({ apiKeys: [API_KEY] });
  try {
    const a = buildWith(join(dir, 'with'));
    const b = buildWithout(join(dir, 'without'));
    // The comparison means something only if the two bundles differ in exactly this.
    if (!a.hasStandIn || b.hasStandIn) throw new Error(`expected the stand-in in A only: A ${a.hasStandIn}, B ${b.hasStandIn}`);

    const launch = async (node: string, v: Variant): Promise<number> => {
      emulator.reset();
      const step = await runStep({ node, entry: v.entry, inputs: launchInputs(emulator.url) });
      step.workspace.remove();
      if (step.code !== 0 || step.outputs.status !== 'launched')
        throw new Error(`${v.label} failed (exit ${step.code}): ${step.stdout}${step.stderr}`);
      return step.durationMs;
    };

    const table = [
      [
        'Node',
        'pairs',
        'with (A) median',
        'without (B) median',
        'median of A/B',
        'peak RSS A, median of 5',
        'peak RSS B, median of 5',
        'RSS A/B',
      ],
    ];
    for (const node of nodes) {
      const ta: number[] = [];
      const tb: number[] = [];
      for (let i = 0; i < WARMUP + pairs; i++) {
        const x = await launch(node.path, a);
        const y = await launch(node.path, b);
        if (i < WARMUP) continue;
        ta.push(x);
        tb.push(y);
      }
      const ra: number[] = [];
      const rb: number[] = [];
      for (let i = 0; i < RSS_REPEAT; i++) {
        emulator.reset();
        ra.push(await peakRss(node.path, a.entry, emulator.url));
        emulator.reset();
        rb.push(await peakRss(node.path, b.entry, emulator.url));
      }
      table.push([
        `${node.label} (${node.version})`,
        String(pairs),
        ms(median(ta)),
        ms(median(tb)),
        ratio(median(ta.map((t, i) => t / (tb[i] as number)))),
        mib(median(ra)),
        mib(median(rb)),
        ratio(median(ra) / median(rb)),
      ]);
    }
    const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
    return {
      title: '5. undici stand-in',
      about:
        'The main bundle as built (A: tsconfig "paths" maps `undici` to src/vendor/undici-lazy.ts, undici loads on first fetch) against the same ' +
        'source built without the mapping (B: undici bundled, loaded at start), both built into a temp dir with the flags of `npm run build`. ' +
        `Spawn → exit of one launch, wait_for none, emulator reset before each; A B interleaved after ${WARMUP} warm-up pairs; ` +
        'peak RSS as in section 4. Ratios are A ÷ B: below 1× the stand-in saves.',
      table,
      checks: [],
      notes: [`dist/main/index.js: ${kib(a.indexBytes)} with the stand-in, ${kib(b.indexBytes)} without.`],
    };
  } finally {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
