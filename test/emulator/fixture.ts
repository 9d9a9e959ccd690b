/**
 * The emulator for one test file's tests: `start(opts)` runs a fresh one on a fake clock (reset
 * for each start), `api` talks to it over 127.0.0.1, and every emulator started is closed after
 * its test.
 */
import { afterEach } from 'vitest';
import { emulatorClient, fakeClock } from './client.js';
import { type Emulator, type EmulatorOptions, startEmulator } from './server.js';

export function emulatorFixture(defaults: EmulatorOptions) {
  let emu: Emulator | undefined;
  const clock = fakeClock();
  const origin = clock.t;
  const current = (): Emulator => {
    if (!emu) throw new Error('no emulator');
    return emu;
  };
  afterEach(async () => {
    await emu?.close();
    emu = undefined;
  });
  return {
    api: emulatorClient(current),
    clock,
    current,
    start: async (opts: EmulatorOptions = {}): Promise<Emulator> => {
      clock.t = origin;
      emu = await startEmulator({ ...defaults, now: clock.now, ...opts });
      return emu;
    },
  };
}
