// Runs the committed bundle the way the GitHub runner does: action.yml defaults applied,
// inputs as INPUT_* env, outputs/summary/state through the runner's files, a post step
// fed with the saved state. Used by the end-to-end tests, the demo and the benchmarks.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * The action under test: this checkout, or another one named by LOOPS_ACTION_ROOT (to run the
 * end-to-end tests against an older bundle and see which of them it fails).
 */
export const ACTION_ROOT = resolve(process.env.LOOPS_ACTION_ROOT ?? ROOT);

interface ActionYml {
  inputs: Record<string, { default?: string; required?: boolean; description: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string; post?: string };
}

export function readActionYml(root = ROOT): ActionYml {
  return parse(readFileSync(join(root, 'action.yml'), 'utf8')) as ActionYml;
}

/** Which action of the repository: the launch action (action.yml), or a sub-action by its directory. */
export type ActionName = 'launch' | 'stop' | 'report';

const actionDir = (action: ActionName): string => (action === 'launch' ? ACTION_ROOT : join(ACTION_ROOT, action));

/** A sub-action's entry as its action.yml declares it (a path that does not exist when the checkout has no such action). */
function subEntry(action: Exclude<ActionName, 'launch'>): string {
  const dir = actionDir(action);
  return existsSync(join(dir, 'action.yml')) ? join(dir, readActionYml(dir).runs.main) : join(dir, 'missing');
}

/** The main and post entries of the action under test, and the stop and report actions', as their action.yml declare them. */
export function entries(): { main: string; post: string; stop: string; report: string } {
  const { runs } = readActionYml(ACTION_ROOT);
  return {
    main: join(ACTION_ROOT, runs.main),
    post: join(ACTION_ROOT, runs.post ?? runs.main),
    stop: subEntry('stop'),
    report: subEntry('report'),
  };
}

/** The main step's bundle. */
export const BUNDLE = entries().main;

export interface RunnerOptions {
  inputs?: Record<string, string | number | boolean>;
  /** Extra environment (e.g. BASETEN_API_KEY, GITHUB_EVENT_NAME). */
  env?: Record<string, string>;
  /** The event payload behind GITHUB_EVENT_PATH. */
  event?: unknown;
  node?: string;
  entry?: string;
  timeoutMs?: number;
  /** Called once the child is spawned (to send it signals). */
  onSpawn?: (child: ChildProcess) => void;
  /** Called with each stdout chunk as it arrives. */
  onStdout?: (text: string) => void;
  /** Which action: the launch action (action.yml, the default), the stop action (stop/action.yml) or the report action (report/action.yml). */
  action?: ActionName;
}

export interface StepResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  /** Every file the step wrote, concatenated (for secret scans). */
  files: string;
  durationMs: number;
}

/** Parses the runner's key<<delimiter file format (GITHUB_OUTPUT, GITHUB_STATE). Last value wins. */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = /^([^<=]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, key, delimiter] = heredoc as unknown as [string, string, string];
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) body.push(lines[i] as string);
      values[key] = body.join('\n');
    } else if (line.includes('=')) {
      const at = line.indexOf('=');
      values[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  return values;
}

/** The INPUT_* variables a runner would set: action.yml defaults, then the step's `with:`. */
export function inputEnv(
  inputs: Record<string, string | number | boolean> = {},
  githubToken = '',
  action: ActionName = 'launch',
): Record<string, string> {
  const env: Record<string, string> = {};
  const dir = actionDir(action);
  const declared = existsSync(join(dir, 'action.yml')) ? readActionYml(dir).inputs : {};
  for (const [name, spec] of Object.entries(declared)) {
    let value = spec.default ?? '';
    if (value === '${{ github.token }}') value = githubToken;
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = String(value);
  return env;
}

export class StepWorkspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'loops-step-'));
  readonly outputFile = join(this.dir, 'output');
  readonly summaryFile = join(this.dir, 'summary');
  readonly stateFile = join(this.dir, 'state');
  readonly eventFile = join(this.dir, 'event.json');

  constructor(event: unknown = {}) {
    for (const f of [this.outputFile, this.summaryFile, this.stateFile]) writeFileSync(f, '');
    writeFileSync(this.eventFile, JSON.stringify(event));
  }

  baseEnv(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? this.dir,
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: this.outputFile,
      GITHUB_STEP_SUMMARY: this.summaryFile,
      GITHUB_STATE: this.stateFile,
      GITHUB_EVENT_PATH: this.eventFile,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REPOSITORY: 'acme/finetune',
      GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_JOB: 'launch',
      GITHUB_RUN_ID: '4242',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: 'https://api.github.com',
      RUNNER_TEMP: this.dir,
      NO_PROXY: '127.0.0.1,localhost',
    };
  }

  read(): Pick<StepResult, 'outputs' | 'state' | 'summary' | 'files'> {
    const output = readFileSync(this.outputFile, 'utf8');
    const state = readFileSync(this.stateFile, 'utf8');
    const summary = readFileSync(this.summaryFile, 'utf8');
    return {
      outputs: parseFileCommands(output),
      state: parseFileCommands(state),
      summary,
      files: [output, state, summary].join('\n'),
    };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function spawnStep(env: Record<string, string>, options: RunnerOptions): Promise<Omit<StepResult, 'outputs' | 'state' | 'summary' | 'files'>> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(options.node ?? process.execPath, [options.entry ?? BUNDLE], {
      env,
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, durationMs: performance.now() - started });
    });
    options.onSpawn?.(child);
  });
}

/** The secrets a step was given: the API key and the GitHub token, from inputs or env. */
export function secretsOf(env: Record<string, string>): string[] {
  return [env.INPUT_API_KEY, env.BASETEN_API_KEY, env.INPUT_GITHUB_TOKEN, env.GITHUB_TOKEN]
    .map((s) => (s ?? '').trim())
    .filter((s) => s.length >= 4);
}

/**
 * Every place a step could leak a secret to: stdout and stderr (less the ::add-mask:: lines,
 * through which the runner learns what to mask), and the output, state and summary files.
 */
export function findLeaks(result: Pick<StepResult, 'stdout' | 'stderr' | 'files'>, secrets: string[]): string[] {
  const logs = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  const places = { log: logs, files: result.files };
  const leaks: string[] = [];
  for (const secret of secrets) {
    for (const [where, text] of Object.entries(places)) if (text.includes(secret)) leaks.push(`${where} contains a secret`);
  }
  return leaks;
}

function assertNoLeaks(result: StepResult, env: Record<string, string>): void {
  const leaks = findLeaks(result, secretsOf(env));
  if (leaks.length > 0) throw new Error(`secret leaked by the step: ${leaks.join('; ')}`);
}

/**
 * Runs the main step in a fresh workspace and returns what a runner would see. Every run is
 * scanned for the secrets it was given; a leak fails the calling test.
 */
export async function runStep(options: RunnerOptions = {}): Promise<StepResult & { workspace: StepWorkspace }> {
  const workspace = new StepWorkspace(options.event ?? {});
  const env = { ...workspace.baseEnv(), ...inputEnv(options.inputs, '', options.action), ...options.env };
  const entry = options.entry ?? (options.action === 'stop' || options.action === 'report' ? entries()[options.action] : undefined);
  const result = { ...(await spawnStep(env, { ...options, entry })), ...workspace.read() };
  assertNoLeaks(result, env);
  return { ...result, workspace };
}

/** Runs the post step of an earlier main step, with the state it saved (STATE_* env). */
export async function runPostStep(
  main: { workspace: StepWorkspace; state: Record<string, string> },
  options: RunnerOptions = {},
): Promise<StepResult> {
  const { workspace } = main;
  const stateEnv = Object.fromEntries(Object.entries(main.state).map(([k, v]) => [`STATE_${k}`, v]));
  writeFileSync(workspace.outputFile, '');
  writeFileSync(workspace.stateFile, '');
  writeFileSync(workspace.summaryFile, '');
  const env = { ...workspace.baseEnv(), ...inputEnv(options.inputs), ...stateEnv, ...options.env };
  const result = { ...(await spawnStep(env, { entry: entries().post, ...options })), ...workspace.read() };
  assertNoLeaks(result, env);
  return result;
}
