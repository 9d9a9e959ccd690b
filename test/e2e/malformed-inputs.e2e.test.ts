// Malformed inputs, each through the real bundle: refused before anything is sent, the error
// naming the input, status "error". One emulator listens the whole time (every step but the
// api_base_url ones points at it), and each step carries its own key, so that any request a
// step did send would be seen and traced to it.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Emulator, startEmulator } from '../emulator/server.js';
import { runStep } from '../support/runner.js';
import { annotations } from '../support/e2e.js';

vi.setConfig({ maxConcurrency: 8 });

interface Case {
  /** The input named in the error. */
  input: string;
  value: string;
  /** More of the error line, after "<input>: ". */
  expect?: string | RegExp;
  /** Extra inputs (for combinations). */
  with?: Record<string, string>;
}

const CASES: Case[] = [
  // integers
  { input: 'lora_rank', value: 'abc', expect: 'must be a whole number ≥ 1 (got "abc")' },
  { input: 'lora_rank', value: '0', expect: 'must be a whole number ≥ 1 (got "0")' },
  { input: 'lora_rank', value: '-4' },
  { input: 'lora_rank', value: '16.5', expect: 'must be a whole number' },
  { input: 'lora_rank', value: '1e3' },
  { input: 'lora_rank', value: '0x20' },
  { input: 'lora_rank', value: '99999999999999999999' },
  { input: 'max_seq_len', value: '0' },
  { input: 'max_seq_len', value: '4096.0' },
  { input: 'max_seq_len', value: 'max' },
  { input: 'seed', value: '1.5', expect: 'must be a whole number (got "1.5")' },
  { input: 'seed', value: 'random' },
  { input: 'scale_down_delay_seconds', value: '0', expect: 'must be a whole number from 1 to 3600 (got "0")' },
  { input: 'scale_down_delay_seconds', value: '3601' },
  { input: 'scale_down_delay_seconds', value: '60s' },
  { input: 'replicas', value: '0' },
  { input: 'replicas', value: '2.5' },
  { input: 'replicas', value: 'two' },
  { input: 'wait_timeout_seconds', value: '0', expect: 'from 1 to 21600' },
  { input: 'wait_timeout_seconds', value: '21601' },
  { input: 'wait_timeout_seconds', value: '10.5' },
  { input: 'max_retries', value: '-1', expect: 'must be a whole number from 0 to 20' },
  { input: 'max_retries', value: '21' },
  { input: 'max_retries', value: '2.5' },
  // decimals
  { input: 'poll_interval_seconds', value: '0.05', expect: 'must be a number from 0.1 to 3600 (got "0.05")' },
  { input: 'poll_interval_seconds', value: '-1' },
  { input: 'poll_interval_seconds', value: 'fast' },
  { input: 'poll_interval_seconds', value: '3601' },
  { input: 'request_timeout_seconds', value: '0', expect: 'must be a number from 0.1 to 600' },
  { input: 'request_timeout_seconds', value: '601' },
  { input: 'request_timeout_seconds', value: 'NaN' },
  { input: 'request_timeout_seconds', value: 'Infinity' },
  // booleans
  { input: 'preflight', value: 'yes', expect: 'must be true or false (got "yes")' },
  { input: 'deactivate_on_failure', value: '1' },
  { input: 'deactivate_at_job_end', value: 'on' },
  { input: 'comment_on_pr', value: 'maybe' },
  { input: 'dry_run', value: 'sure' },
  // enums
  { input: 'availability_model', value: 'preemptible', expect: 'must be one of dedicated, spot (got "preemptible")' },
  { input: 'wait_for', value: 'both', expect: 'must be one of none, sampler, trainer, all' },
  { input: 'wait_for', value: 'trainer,sampler' },
  // checkpoint paths
  { input: 'checkpoint_path', value: 'gs://bucket/ckpt', expect: 'must look like bt://loops:<run_id>/weights/<checkpoint_name>' },
  { input: 'checkpoint_path', value: 'bt://loops:abc1234/sampler_weights/step-1', expect: 'that is a sampler checkpoint' },
  { input: 'checkpoint_path', value: 'bt://loops:abc1234/weights/' },
  { input: 'checkpoint_path', value: 'bt://loops:abc1234/weights/step 1' },
  { input: 'checkpoint_path', value: 'bt://loops:/weights/step-1' },
  // api_base_url
  { input: 'api_base_url', value: 'http://api.baseten.co', expect: 'must use https' },
  { input: 'api_base_url', value: 'http://10.0.0.5:8080', expect: 'must use https' },
  { input: 'api_base_url', value: 'http://127.0.0.1.evil.example', expect: 'must use https' },
  { input: 'api_base_url', value: 'ftp://127.0.0.1/', expect: 'must be an https:// URL' },
  { input: 'api_base_url', value: 'not a url', expect: 'not a valid URL' },
  { input: 'api_base_url', value: 'https://user:pass@api.baseten.co', expect: 'must not contain credentials' },
  { input: 'api_base_url', value: 'https://api.baseten.co/?x=1', expect: 'must not contain a query or a fragment' },
  { input: 'api_base_url', value: 'https://api.baseten.co/?', expect: 'must not contain a query or a fragment' },
  { input: 'api_base_url', value: 'http://evil.localhost:8080', expect: 'must use https' },
  // IDs
  { input: 'session_id', value: 'abc/def', expect: 'must be a Loops ID' },
  { input: 'session_id', value: '../runs' },
  { input: 'session_id', value: 'abc?x=1' },
  { input: 'reuse_from_run_id', value: 'run id' },
  { input: 'reuse_from_session_id', value: 'x'.repeat(129) },
  { input: 'training_project_id', value: 'a;b' },
  // names and models
  { input: 'run_name', value: 'x'.repeat(256), expect: 'must be 1 to 255 printable characters (got 256 characters)' },
  { input: 'run_name', value: 'line1\nline2', expect: 'must be 1 to 255 printable characters' },
  { input: 'base_model', value: '', expect: 'required' },
  { input: 'base_model', value: 'not a model!', expect: 'must be a Hugging Face model ID' },
  { input: 'base_model', value: 'https://huggingface.co/Qwen/Qwen3-8B' },
  { input: 'base_model', value: 'Qwen/Qwen3/8B' },
  // the key
  { input: 'api_key', value: 'KEY with space', expect: 'contains spaces, control or non-ASCII characters' },
  { input: 'api_key', value: 'sk-key\u2019', expect: 'contains spaces, control or non-ASCII characters' },
  { input: 'api_key', value: '', expect: 'no Baseten API key' },
];

const KEY_PREFIX = 'sk-malformed-9f3b1c';
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ apiKeys: [] });
});

afterAll(async () => {
  // Nothing at all reached the API, from any step.
  expect(emu.requests).toEqual([]);
  await emu.close();
});

const errorText = (stdout: string): string => annotations(stdout);

function show(value: string): string {
  const flat = JSON.stringify(value);
  return flat.length > 40 ? `${flat.slice(0, 37)}…"` : flat;
}

async function refused(inputs: Record<string, string>, key: string): Promise<{ error: string; status: string | undefined }> {
  const step = await runStep({ inputs: { base_model: 'Qwen/Qwen3-8B', api_base_url: emu.url, ...inputs } });
  step.workspace.remove();
  const error = errorText(step.stdout);
  const log = `${step.stdout}\n${step.stderr}`;
  expect(step.code, log).toBe(1);
  expect(step.outputs.status, log).toBe('error');
  expect(step.outputs.run_id).toBeUndefined();
  expect(error).toMatch(/^Invalid inputs; nothing was sent:\n- /);
  if (key) expect(emu.requests.filter((r) => String(r.headers.authorization ?? '').includes(key))).toEqual([]);
  return { error, status: step.outputs.status };
}

describe(`${CASES.length} malformed inputs │ each refused by the bundle, naming the input, status error, 0 requests`, () => {
  for (const [i, c] of CASES.entries()) {
    it.concurrent(`${c.input.padEnd(24)} = ${show(c.value)}`, async () => {
      const key = c.input === 'api_key' ? (c.value ? `${c.value}-${i}` : '') : `${KEY_PREFIX}-${i}`;
      const { error } = await refused({ api_key: key, [c.input]: c.value }, key);
      const problems = error.split('\n').filter((l) => l.startsWith('- '));
      expect(problems, error).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^- ${c.input}: `));
      if (typeof c.expect === 'string') expect(problems[0]).toContain(c.expect);
      else if (c.expect) expect(problems[0]).toMatch(c.expect);
    });
  }

  it.concurrent('several bad inputs at once │ all reported together, each naming its input', async () => {
    const key = `${KEY_PREFIX}-all`;
    const { error } = await refused(
      { api_key: key, lora_rank: '0', seed: 'x', wait_for: 'soon', preflight: 'nope', checkpoint_path: 'bt://x', replicas: '1.5' },
      key,
    );
    const problems = error.split('\n').filter((l) => l.startsWith('- '));
    expect(problems.map((p) => p.slice(2, p.indexOf(':')))).toEqual(
      expect.arrayContaining(['lora_rank', 'seed', 'wait_for', 'preflight', 'checkpoint_path', 'replicas']),
    );
    expect(problems).toHaveLength(6);
  });
});
