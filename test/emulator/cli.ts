/**
 * Start the Loops API emulator from the command line:
 *   npx tsx test/emulator/cli.ts [--port N] [--rate N] [--sampler-ms N]
 * --rate: requests per second (token bucket); --sampler-ms: how long each sampler step before ACTIVE lasts.
 * Prints LOOPS_EMULATOR_URL=<url> and runs until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startEmulator, type EmulatorOptions } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    rate: { type: 'string' },
    'sampler-ms': { type: 'string' },
  },
});

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${v}`);
  return n;
}

const opts: EmulatorOptions = {};
const port = num('port', values.port);
if (port !== undefined) opts.port = port;
const rate = num('rate', values.rate);
if (rate !== undefined && rate > 0) opts.rateLimit = { perSecond: rate };
const samplerMs = num('sampler-ms', values['sampler-ms']);
if (samplerMs !== undefined) {
  opts.samplerTimeline = [{ status: 'DEPLOYING', ms: samplerMs }, { status: 'LOADING_MODEL', ms: samplerMs }, { status: 'ACTIVE' }];
}

const emulator = await startEmulator(opts);
console.log(`LOOPS_EMULATOR_URL=${emulator.url}`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void emulator.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
