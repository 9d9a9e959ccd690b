// GitHub's own local runner for actions, @github/local-action, runs src/main.ts (its `run`
// export) with action.yml's inputs and defaults, against the Loops emulator. It prints outputs
// as `::set-output name=<n>::<value>` lines and exits 0 even when the action fails, so failure
// is read from `::error::` lines.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../emulator/server.js';
import { ROOT } from '../support/runner.js';

const KEY = 'local-action-key-4b1d';
const LOCAL_ACTION = join(ROOT, 'node_modules', '@github', 'local-action', 'bin', 'local-action.js');
const TIMEOUT_MS = 90_000;

interface LocalRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  errors: string[];
  warnings: string[];
}

/** The environment of the runner's own process must not reach the action under test. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(GITHUB_|INPUT_|STATE_|RUNNER_|ACTIONS_)/.test(k) || k === 'BASETEN_API_KEY') continue;
    env[k] = v;
  }
  return env;
}

let dir: string;

/** What a runner always sets (the default run name is made of it); local-action leaves it to us. */
const RUNNER = {
  GITHUB_REPOSITORY: 'acme/finetune',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_EVENT_NAME: 'push',
};

async function localAction(inputs: Record<string, string>): Promise<LocalRun> {
  const vars = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]));
  const envFile = join(dir, `inputs-${Date.now()}-${Math.random().toString(36).slice(2)}.env`);
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n') + '\n',
  );
  const child = spawn(process.execPath, [LOCAL_ACTION, 'run', ROOT, 'src/main.ts', envFile], {
    cwd: ROOT,
    env: { ...cleanEnv(), ...RUNNER, ...vars, NO_COLOR: '1', FORCE_COLOR: '0', NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: local-action runs `npm exec tsx …` underneath, and a timeout must
    // end that whole tree, not only the first process.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  }, TIMEOUT_MS - 10_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  const outputs: Record<string, string> = {};
  for (const m of stdout.matchAll(/^::set-output name=([^:]+)::(.*)$/gm)) outputs[m[1] as string] = m[2] as string;
  // local-action prints a multi-line message as is (the runner would see %0A): a message runs
  // until the next workflow command, blank line or banner.
  const lines = (prefix: string): string[] => {
    const found: string[] = [];
    let current: string[] | undefined;
    for (const line of stdout.split('\n')) {
      if (line.startsWith(prefix)) {
        current = [line.slice(prefix.length)];
        found.push('');
      } else if (current && !line.startsWith('::') && line.trim() !== '' && !line.startsWith('====')) {
        current.push(line);
      } else current = undefined;
      if (current) found[found.length - 1] = current.join('\n').replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');
    }
    return found;
  };
  return { code, stdout, stderr, outputs, errors: lines('::error::'), warnings: lines('::warning::') };
}

describe('@github/local-action runs the action against the emulator', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    expect(existsSync(LOCAL_ACTION), `${LOCAL_ACTION} is missing: run npm ci`).toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'loops-local-action-'));
    emulator = await startEmulator({
      apiKeys: [KEY],
      samplerTimeline: [{ status: 'DEPLOYING', ms: 200 }, { status: 'LOADING_MODEL', ms: 200 }, { status: 'ACTIVE' }],
      trainerTimeline: [{ status: 'CREATED', ms: 100 }, { status: 'DEPLOYING', ms: 200 }, { status: 'RUNNING' }],
    });
  });

  afterAll(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'launches a run, waits for the sampler and sets the outputs',
    async () => {
      const result = await localAction({
        api_key: KEY,
        api_base_url: emulator.url,
        base_model: 'Qwen/Qwen3-8B',
        lora_rank: '16',
        wait_for: 'sampler',
        wait_timeout_seconds: '30',
        poll_interval_seconds: '0.2',
      });
      const why = `${result.stdout}\n--- stderr ---\n${result.stderr}`;
      expect(result.errors, why).toEqual([]);
      expect(result.outputs.status, why).toBe('ready');
      const run = emulator.runs().find((r) => r.id === result.outputs.run_id);
      expect(run, `run_id ${result.outputs.run_id} is not a run of the emulator\n${why}`).toBeDefined();
      expect(result.outputs).toMatchObject({
        sampler_base_url: run?.sampler?.base_url,
        sampler_status: 'ACTIVE',
        session_id: run?.session_id,
        session_created: 'true',
        run_name: run?.name,
        base_model: 'Qwen/Qwen3-8B',
      });
      expect(result.outputs.sampler_base_url).toBe(`${emulator.url}/sampler/${run?.sampler?.model_id ?? ''}`);
      expect(JSON.parse(result.outputs.run_json ?? '{}')).toMatchObject({ id: run?.id });
      const created = emulator.requests.filter((r) => r.method === 'POST' && r.path === '/v1/loops/runs');
      expect(created).toHaveLength(1);
      expect(created[0]?.body).toMatchObject({ base_model: 'Qwen/Qwen3-8B', lora_rank: 16 });
      expect(result.stdout).not.toContain(KEY);
    },
    TIMEOUT_MS,
  );

  it(
    'invalid inputs: ::error:: names each bad input and nothing is sent',
    async () => {
      const before = emulator.requests.length;
      const result = await localAction({
        api_key: KEY,
        api_base_url: emulator.url,
        base_model: 'Qwen/Qwen3-8B',
        lora_rank: 'sixteen',
        wait_for: 'soon',
      });
      const why = `${result.stdout}\n--- stderr ---\n${result.stderr}`;
      expect(result.errors, why).toHaveLength(1);
      expect(result.errors[0]).toMatch(/nothing was sent/);
      expect(result.errors[0]).toMatch(/lora_rank: must be a whole number/);
      expect(result.errors[0]).toMatch(/wait_for: must be one of none, sampler, trainer, all/);
      expect(result.outputs.status).toBe('error');
      expect(result.outputs.run_id).toBeUndefined();
      expect(emulator.requests.length - before).toBe(0);
    },
    TIMEOUT_MS,
  );
});
