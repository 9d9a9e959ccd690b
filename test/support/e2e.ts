// Shared pieces of the end-to-end tests: a vitest `test` whose fixtures start emulators and
// run steps, and stop and clean them up when the test ends; request filters; annotations.

import type { ChildProcess } from 'node:child_process';
import { test as base } from 'vitest';
import { type Emulator, type EmulatorOptions, type RecordedRequest, startEmulator } from '../emulator/server.js';
import { type RunnerOptions, type StepResult, type StepWorkspace, runStep } from './runner.js';

export type Step = StepResult & { workspace: StepWorkspace };

/** `test` with `loops(opts)` (a fresh emulator over `defaults`) and `step(opts)` (one bundle run). */
export function stepTest(defaults: EmulatorOptions) {
  return base.extend<{
    loops: (opts?: EmulatorOptions) => Promise<Emulator>;
    step: (opts: RunnerOptions) => Promise<Step>;
  }>({
    // eslint-disable-next-line no-empty-pattern
    loops: async ({}, use) => {
      const started: Emulator[] = [];
      await use(async (opts = {}) => {
        const emulator = await startEmulator({ ...defaults, ...opts });
        started.push(emulator);
        return emulator;
      });
      await Promise.all(started.map((e) => e.close()));
    },
    // eslint-disable-next-line no-empty-pattern
    step: async ({}, use) => {
      const workspaces: StepWorkspace[] = [];
      await use(async (opts) => {
        const result = await runStep({ timeoutMs: 20_000, ...opts });
        workspaces.push(result.workspace);
        return result;
      });
      for (const w of workspaces) w.remove();
    },
  });
}

/** The requests the emulator received for one method and path (exact, or a pattern). */
export function requestsTo(emulator: Emulator, method: string, path: string | RegExp): RecordedRequest[] {
  return emulator.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
}

/** The step's ::error:: (or ::warning::) annotations, decoded from the runner's % escapes. */
export function annotations(stdout: string, kind: 'error' | 'warning' = 'error'): string {
  const prefix = `::${kind}::`;
  return stdout
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'))
    .join('\n');
}

/**
 * Runner options that send `signal` to the step once `text` appears on its stdout, and
 * `then.signal` `then.after` ms later (the runner's SIGINT, then SIGKILL).
 */
export function signalOn(text: string, signal: NodeJS.Signals, then?: { after: number; signal: NodeJS.Signals }) {
  let seen = '';
  let child: ChildProcess | undefined;
  let sent = false;
  return {
    onSpawn: (c: ChildProcess) => (child = c),
    onStdout: (chunk: string) => {
      seen += chunk;
      if (!sent && seen.includes(text)) {
        sent = true;
        child?.kill(signal);
        if (then) setTimeout(() => child?.kill(then.signal), then.after);
      }
    },
  };
}
