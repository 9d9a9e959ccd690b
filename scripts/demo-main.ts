// npm run demo's arguments → which demo runs (scripts/demo.ts is the command; tests call this).

import { parseArgs } from 'node:util';
import type { DemoIO } from './demo-io.js';
import { launchDemo } from './demo-launch.js';
import { reportDemo } from './demo-report.js';

const USAGE = 'usage: npm run demo [-- --scope deployment | --fail <story> | --report]';

/** Runs the demo the arguments ask for; the exit code (2: bad arguments). */
export async function runDemo(args: string[], io: DemoIO): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args,
      options: {
        scope: { type: 'string', default: 'auto' },
        fail: { type: 'string' },
        report: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    io.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  return flags.report ? reportDemo(io) : launchDemo(flags, io);
}
