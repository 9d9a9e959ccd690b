// Where a demo writes, and the hook that lets a caller use the demo's servers before they close
// (test/demo.test.ts requests every URL the demo printed while they still answer).

import type { FakeGithub } from '../test/emulator/github/server.js';
import type { Emulator } from '../test/emulator/server.js';

export interface DemoServers {
  loops: Emulator;
  github?: FakeGithub;
}

export interface DemoIO {
  /** Standard output: what the demo shows. */
  write(text: string): void;
  /** Standard error: a usage error. */
  error(text: string): void;
  /** Called once the demo has shown everything, before it closes its servers. */
  beforeClose?(servers: DemoServers): Promise<void>;
}

/** A writer of whole lines. */
export const lines =
  (io: DemoIO) =>
  (text = ''): void =>
    io.write(`${text}\n`);
