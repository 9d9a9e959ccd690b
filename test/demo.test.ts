// npm run demo (scripts/demo.ts): it prints first the outputs an eval job uses, each with what it
// is for; every URL it prints answers; each of its flags runs and exits 0. The demos run in this
// process through runDemo, the function the script calls, so that the test can request every URL
// the demo printed while the demo's servers still answer (its beforeClose hook); one run goes
// through the script itself, as `npm run demo` does.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DemoServers } from '../scripts/demo-io.js';
import { runDemo } from '../scripts/demo-main.js';
import { outputLines } from '../scripts/demo-outputs.js';
import { CAUSES } from '../src/forensics/causes.js';
import { OUTPUT_NAMES } from '../src/report/outputs.js';
import { ROOT } from './support/runner.js';

const KEY = 'demo-key';
const EVAL_FIRST = ['openai_base_url', 'sampler_model', 'run_id', 'status'];

/** An output line `  name = value`, and the meaning line under it, if any. */
interface Printed {
  name: string;
  value: string;
  meaning?: string;
}

/** The launch outputs as printed, in order, from the "Outputs ($GITHUB_OUTPUT)" line on. */
function printedOutputs(text: string): Printed[] {
  const start = text.indexOf('Outputs ($GITHUB_OUTPUT)');
  const end = text.indexOf('Job summary ($GITHUB_STEP_SUMMARY)');
  expect(start, 'the outputs heading').toBeGreaterThanOrEqual(0);
  const lines = text.slice(start, end < 0 ? undefined : end).split('\n');
  const printed: Printed[] = [];
  for (const [i, line] of lines.entries()) {
    const m = /^ {2}([a-z_]+) = (.*)$/.exec(line);
    if (!m) continue;
    const next = /^ {6}(\S.*)$/.exec(lines[i + 1] ?? '');
    printed.push({ name: m[1] ?? '', value: m[2] ?? '', ...(next ? { meaning: next[1] } : {}) });
  }
  return printed;
}

/** Every http(s) URL in the text, once each (without a trailing period). */
function urlsIn(text: string): string[] {
  const found = text.match(/https?:\/\/[^\s"'`<>()[\],|]+/g) ?? [];
  return [...new Set(found.map((url) => url.replace(/\.$/, '')))];
}

/**
 * What to request to see that a URL answers. A base URL is requested at the route its users call
 * under it: the Loops API at /v1/loops/runs, a sampler at /v1/models (its OpenAI base at /models),
 * a trainer at /health (reference §7); any other URL (GitHub's pages) as it is.
 */
function probeOf(url: string, servers: DemoServers): { url: string; key: boolean } | undefined {
  const { origin, pathname } = new URL(url);
  if (origin === new URL(servers.loops.url).origin) {
    const path = pathname.replace(/\/$/, '');
    if (path === '') return { url: `${origin}/v1/loops/runs`, key: true };
    if (/^\/sampler\/[^/]+$/.test(path)) return { url: `${origin}${path}/v1/models`, key: true };
    if (/^\/sampler\/[^/]+\/v1$/.test(path)) return { url: `${origin}${path}/models`, key: true };
    if (/^\/trainer\/[^/]+$/.test(path)) return { url: `${origin}${path}/health`, key: true };
    return { url, key: true };
  }
  if (servers.github && origin === new URL(servers.github.serverUrl).origin) return { url, key: false };
  return undefined;
}

/** Each URL → the status its probe answered, or why it was not requested. */
async function request(urls: string[], servers: DemoServers): Promise<Record<string, number | string>> {
  const answers: Record<string, number | string> = {};
  for (const url of urls) {
    const probe = probeOf(url, servers);
    if (!probe) {
      answers[url] = 'not served by the emulator or its GitHub side';
      continue;
    }
    const res = await fetch(probe.url, { headers: probe.key ? { Authorization: `Bearer ${KEY}` } : {}, redirect: 'manual' });
    await res.arrayBuffer();
    answers[url] = res.status;
  }
  return answers;
}

interface DemoRun {
  code: number;
  text: string;
  /** Every URL printed → its probe's status, requested before the demo closed its servers. */
  answers: Record<string, number | string>;
}

async function demo(args: string[]): Promise<DemoRun> {
  let text = '';
  let answers: Record<string, number | string> = {};
  const io = {
    write: (chunk: string) => void (text += chunk),
    error: (chunk: string) => void (text += chunk),
    beforeClose: async (servers: DemoServers) => void (answers = await request(urlsIn(text), servers)),
  };
  const code = await runDemo(args, io);
  return { code, text, answers };
}

const okEverywhere = (answers: Record<string, number | string>) => Object.fromEntries(Object.keys(answers).map((url) => [url, 200]));

/** The first outputs are the four an eval job uses, each with a meaning that says what to do with it. */
function expectEvalFirst(printed: Printed[]): void {
  expect(printed.slice(0, 4).map((p) => p.name)).toEqual(EVAL_FIRST);
  const meaning = Object.fromEntries(printed.slice(0, 4).map((p) => [p.name, p.meaning ?? '']));
  expect(meaning.openai_base_url).toMatch(/OpenAI-compatible base URL: point OPENAI_BASE_URL/);
  expect(meaning.sampler_model).toMatch(/the `model` to send/);
  expect(meaning.run_id).toMatch(/stop action \(run_ids\).*eval report/);
  expect(meaning.status).toMatch(/ready: .*launched: .*failed/);
}

describe('npm run demo', () => {
  it('prints first what an eval job uses, each with its meaning, then every other output once; every URL it prints answers', async () => {
    const run = await demo([]);
    expect(run.code, run.text).toBe(0);
    const printed = printedOutputs(run.text);
    expectEvalFirst(printed);
    expect(printed[4]).toMatchObject({ name: 'mode', value: 'serverless', meaning: expect.stringMatching(/^billed per token/) as unknown });
    expect(printed.map((p) => p.name).sort()).toEqual([...OUTPUT_NAMES].sort());
    expect(printed.find((p) => p.name === 'status')?.value).toBe('ready');
    expect(printed.at(-1)).toMatchObject({
      name: 'run_json',
      value: expect.stringMatching(/^\{"id":"[a-z0-9]{7}",…\} \(\d+ characters/) as unknown,
    });
    // The trainer's URL is the emulator's, next to the sampler's; the summary and request list follow.
    const url = (name: string) => printed.find((p) => p.name === name)?.value ?? '';
    expect(new URL(url('run_base_url')).origin).toBe(new URL(url('sampler_base_url')).origin);
    expect(run.text.indexOf('Job summary')).toBeLessThan(run.text.indexOf('Requests the emulator received'));
    expect(urlsIn(run.text)).toEqual(expect.arrayContaining([url('openai_base_url'), url('sampler_base_url'), url('run_base_url')]));
    expect(run.answers).toEqual(okEverywhere(run.answers));
  });

  it('--scope deployment: a dedicated run, the same order, and its trainer URL answers too', async () => {
    const run = await demo(['--scope', 'deployment']);
    expect(run.code, run.text).toBe(0);
    const printed = printedOutputs(run.text);
    expectEvalFirst(printed);
    expect(printed[4]).toMatchObject({ name: 'mode', value: 'dedicated' });
    expect(printed.find((p) => p.name === 'deployment_id')?.value).toMatch(/^[a-z0-9]{7}$/);
    expect(Object.keys(run.answers).some((u) => u.includes('/trainer/'))).toBe(true);
    expect(run.answers).toEqual(okEverywhere(run.answers));
  });

  it('--fail oom: exits 0; failure_reason and its cause come right after status; every URL is the emulator’s', async () => {
    const run = await demo(['--fail', 'oom']);
    expect(run.code, run.text).toBe(0);
    const printed = printedOutputs(run.text);
    expectEvalFirst(printed);
    expect(printed[3]?.value).toBe('failed');
    expect(printed[4]).toMatchObject({ name: 'failure_reason', value: 'oom', meaning: expect.stringContaining(CAUSES.oom.means) as unknown });
    expect(printed[4]?.meaning).toContain(`Fix: ${CAUSES.oom.fix}`);
    // The run was deactivated, so its sampler and trainer no longer answer 200; they are still the emulator's.
    expect(Object.keys(run.answers).length).toBeGreaterThan(2);
    for (const [url, answer] of Object.entries(run.answers)) expect([url, typeof answer]).toEqual([url, 'number']);
  });

  it("--report: exits 0; each report step's outputs come in order with their meanings; every URL (check runs, the comment, the workflow run) answers", async () => {
    const run = await demo(['--report']);
    expect(run.code, run.text).toBe(0);
    const blocks = run.text.split('\noutputs:\n').slice(1);
    expect(blocks).toHaveLength(3);
    for (const block of blocks.map((b) => b.split('\n\n')[0] ?? '')) {
      const names = [...block.matchAll(/^ {2}([a-z_]+) = /gm)].map((m) => m[1]);
      expect(names).toEqual(['passed', 'failed_rules', 'baseline_sha', 'check_run_url']);
      expect(block.match(/^ {6}\S/gm), block).toHaveLength(4);
    }
    const urls = Object.keys(run.answers);
    for (const page of ['/runs/', '/pull/7#issuecomment-', '/actions/runs/'])
      expect(
        urls.some((u) => u.includes(page)),
        page,
      ).toBe(true);
    expect(run.answers).toEqual(okEverywhere(run.answers));
  });

  it('bad arguments: exit 2 with the usage, nothing started', async () => {
    for (const args of [['--fail', 'nope'], ['--nope']]) {
      const run = await demo(args);
      expect([run.code, run.answers]).toEqual([2, {}]);
      expect(run.text).toMatch(/--fail: one of oom|usage: npm run demo/);
    }
  });

  it('the script itself (npm run demo) exits 0 and prints the eval outputs first', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/demo.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    expect(code, text).toBe(0);
    expectEvalFirst(printedOutputs(text));
  });
});

describe('the outputs as the demo prints them (scripts/demo-outputs.ts)', () => {
  const outputs = Object.fromEntries(OUTPUT_NAMES.map((name) => [name, `${name}-value`]));

  it('mode and failure_reason come after the four only when they say something; every output once, a new one too', () => {
    const names = (o: Record<string, string>) => outputLines(o).flatMap((l) => /^ {2}([a-z_]+) = /.exec(l)?.[1] ?? []);
    const quiet = names({ ...outputs, mode: '', failure_reason: '', some_new_output: 'x' });
    expect(quiet.slice(0, 5)).toEqual([...EVAL_FIRST, 'sampler_base_url']);
    expect(quiet.sort()).toEqual([...OUTPUT_NAMES, 'some_new_output'].sort());
    expect(names({ ...outputs, mode: 'dedicated', failure_reason: 'timeout' }).slice(0, 6)).toEqual([...EVAL_FIRST, 'failure_reason', 'mode']);
  });

  it('run_json is shortened and shows no URL of the run (cut in half it would not answer)', () => {
    const raw = JSON.stringify({ id: 'r1', base_url: 'http://127.0.0.1:1/trainer/d1', sampler: { base_url: 'http://127.0.0.1:1/sampler/m1' } });
    const line = outputLines({ ...outputs, run_json: raw }).find((l) => l.startsWith('  run_json = '));
    expect(line).toBe(`  run_json = {"id":"r1",…} (${raw.length} characters: the last run object seen, as JSON)`);
    expect(outputLines({ ...outputs, run_json: 'not json' }).find((l) => l.startsWith('  run_json = '))).toBe(
      '  run_json = (8 characters: the last run object seen, as JSON)',
    );
  });
});
