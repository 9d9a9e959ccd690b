// 1. Time to outputs: the committed bundle (A) against the raw node:http baseline (B), both
// launched as child processes the way the runner does, wait_for none, preflight on (the
// default). Wall time from spawn to process exit, interleaved A B A B on a fresh emulator state.

import { type Emulator, type RecordedRequest, startEmulator } from '../test/emulator/server.js';
import { runStep } from '../test/support/runner.js';
import { API_KEY, BASELINE, type NodeBinary, type Section, launchInputs, median, ms, ratio, verdict } from './common.js';

const WARMUP = 3;

interface Launch {
  durationMs: number;
  outputs: Record<string, string>;
  requests: string[];
}

async function launch(emulator: Emulator, node: string, entry?: string): Promise<Launch> {
  emulator.reset();
  const step = await runStep({ node, entry, inputs: launchInputs(emulator.url) });
  step.workspace.remove();
  if (step.code !== 0 || step.outputs.status !== 'launched') {
    throw new Error(`${entry ?? 'dist/main/index.js'} failed (exit ${step.code}): ${step.stdout}${step.stderr}`);
  }
  return { durationMs: step.durationMs, outputs: step.outputs, requests: emulator.requests.map(signature) };
}

/** "METHOD /path {body keys}" — what must be the same for A and B. */
function signature(r: RecordedRequest): string {
  const keys = r.body && typeof r.body === 'object' ? ` {${Object.keys(r.body).sort().join(',')}}` : '';
  return `${r.method} ${r.path.replace(/\/runs\/[^/]+$/, '/runs/{id}')}${keys} → ${r.status}`;
}

function sameWork(a: Launch, b: Launch): void {
  if (a.requests.join('\n') !== b.requests.join('\n')) {
    throw new Error(`the baseline does not make the action's requests:\nA: ${a.requests.join('; ')}\nB: ${b.requests.join('; ')}`);
  }
  const names = (l: Launch): string => Object.keys(l.outputs).sort().join(',');
  if (names(a) !== names(b)) throw new Error(`the baseline does not write the action's outputs:\nA: ${names(a)}\nB: ${names(b)}`);
}

export async function timeToOutputs(nodes: NodeBinary[], pairs: number): Promise<Section> {
  const table = [['Node', 'pairs', 'action (A) median', 'baseline (B) median', 'median of A/B', 'target', '']];
  const checks = [];
  let requests = '';
  for (const node of nodes) {
    const emulator = await startEmulator({ apiKeys: [API_KEY] });
    try {
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < WARMUP + pairs; i++) {
        const action = await launch(emulator, node.path);
        const baseline = await launch(emulator, node.path, BASELINE);
        if (i === 0) {
          sameWork(action, baseline);
          requests = action.requests.join(', ');
        }
        if (i < WARMUP) continue;
        a.push(action.durationMs);
        b.push(baseline.durationMs);
      }
      const pairRatio = median(a.map((x, i) => x / (b[i] as number)));
      const gated = node.version.startsWith('v24.');
      const pass = pairRatio <= 1.5;
      table.push([
        `${node.label} (${node.version})`,
        String(pairs),
        ms(median(a)),
        ms(median(b)),
        ratio(pairRatio),
        gated ? '≤ 1.50×' : '(reported)',
        gated ? verdict(pass) : pass ? '(within)' : '(over)',
      ]);
      if (gated) checks.push({ target: `time to outputs ≤ 1.5× the raw baseline on Node 24 (got ${ratio(pairRatio)})`, pass });
    } finally {
      await emulator.close();
    }
  }
  return {
    title: '1. Time to outputs',
    about:
      `Spawn → exit wall time of \`node dist/main/index.js\` (A) and \`node bench/baseline.mjs\` (B), wait_for none, preflight on; ` +
      `A B interleaved after ${WARMUP} warm-up pairs, emulator reset before each launch. Both make: ${requests}.`,
    table,
    checks,
  };
}
