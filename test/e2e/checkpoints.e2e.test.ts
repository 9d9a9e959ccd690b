// End to end, the checkpoint preflight (SPEC "Availability modes"): each refusal comes before
// any create, names the checkpoint and the fix; lora_config absent is unknown, not refused; the
// expiry is judged on the server's clock, not the runner's.

import { describe, expect } from 'vitest';
import type { CheckpointSpec, Emulator } from '../emulator/server.js';
import { annotations, requestsTo } from '../support/e2e.js';
import { HOUR, MODEL, lifeTest as test, launchInputs } from './life.js';

const PATH = 'bt://loops:prev0001/weights/step-100';

/** What an attempt left behind: nothing sent past the preflight. */
function nothingCreated(emulator: Emulator): void {
  expect(requestsTo(emulator, 'POST', '/v1/loops/sessions')).toEqual([]);
  expect(requestsTo(emulator, 'POST', '/v1/loops/runs')).toEqual([]);
}

const refusals: Array<{ what: string; spec: Omit<CheckpointSpec, 'path'>; inputs?: Record<string, string | number>; says: string }> = [
  {
    what: 'lora_config null: cannot be loaded',
    spec: { lora_config: null },
    says: `checkpoint_path: the checkpoint ${PATH} cannot be loaded (the API gives it no lora_config: unsupported). Start from another checkpoint of the run, or leave checkpoint_path empty`,
  },
  {
    what: 'expires_at in the past',
    spec: { expires_at: Date.now() - HOUR },
    says: `checkpoint_path: the checkpoint ${PATH} expired at `,
  },
  {
    what: 'another base model',
    spec: { base_model: 'Qwen/Qwen3-0.6B' },
    says: `checkpoint_path: the checkpoint ${PATH} was trained on Qwen/Qwen3-0.6B, not on base_model ${MODEL}. Set base_model: Qwen/Qwen3-0.6B, or start from a checkpoint of ${MODEL}`,
  },
  {
    what: 'a LoRA rank other than lora_rank (lora_config gives it as rank)',
    spec: { lora_config: { rank: 16, alpha: 32 } },
    inputs: { lora_rank: 32 },
    says: `lora_rank: 32 differs from the rank of the checkpoint ${PATH} (16). Set lora_rank: 16`,
  },
  {
    what: 'a LoRA rank other than lora_rank (lora_config gives it as r)',
    spec: { lora_config: { r: 8 } },
    says: `lora_rank: 64 differs from the rank of the checkpoint ${PATH} (8). Set lora_rank: 8`,
  },
];

describe.concurrent('checkpoint preflight: each refusal before any create, naming the checkpoint and the fix', () => {
  for (const r of refusals) {
    test(r.what, async ({ loops, step }) => {
      const emulator = await loops({ checkpoints: [{ path: PATH, ...r.spec }] });
      const result = await step({ inputs: launchInputs(emulator, { checkpoint_path: PATH, ...r.inputs }) });
      expect(result.code).toBe(1);
      expect(result.outputs.status).toBe('error');
      expect(annotations(result.stdout)).toContain(r.says);
      expect(result.summary).toContain('Preflight found problems (nothing was created)');
      nothingCreated(emulator);
    });
  }

  test('a sampler_weights path: refused as an input, with the weights path to use', async ({ loops, step }) => {
    const emulator = await loops();
    const path = 'bt://loops:prev0001/sampler_weights/step-100';
    const result = await step({ inputs: launchInputs(emulator, { checkpoint_path: path }) });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toContain(
      `that is a sampler checkpoint (sampler_weights), a run starts from a trainer checkpoint (weights): use ${PATH} if the run saved one`,
    );
    expect(emulator.requests).toEqual([]);
  });

  test('a checkpoint without lora_config or expires_at, or with a rank that matches: not refused', async ({ loops, step }) => {
    const other = 'bt://loops:prev0002/weights/step-7';
    const emulator = await loops({
      checkpoints: [
        { path: PATH, lora_config: 'absent' },
        { path: other, lora_config: { r: 64 }, expires_at: null },
      ],
    });
    for (const checkpoint_path of [PATH, other]) {
      const result = await step({ inputs: launchInputs(emulator, { checkpoint_path }) });
      expect(result.code, result.stdout).toBe(0);
      expect(result.stdout).toContain('Preflight passed (base_model, checkpoint_path)');
    }
    expect(requestsTo(emulator, 'POST', '/v1/loops/runs')).toHaveLength(2);
  });
});

describe.concurrent('server text in a refusal is text', () => {
  test('a checkpoint whose base model carries workflow commands, HTML and a mention: printed inert, escaped in the summary', async ({
    loops,
    step,
  }) => {
    const hostile = 'evil\n::error::injected\n<img src=x> @octocat';
    const emulator = await loops({ checkpoints: [{ path: PATH, base_model: hostile }] });
    const result = await step({ inputs: launchInputs(emulator, { checkpoint_path: PATH }) });
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').filter((l) => l.startsWith('::error::injected'))).toEqual([]);
    expect(annotations(result.stdout)).toContain('was trained on evil');
    expect(result.summary).toContain('&lt;img src=x&gt;');
    expect(result.summary).not.toContain('<img');
    nothingCreated(emulator);
  });
});

describe.concurrent('the expiry is judged on the server’s clock', () => {
  test('server 3 h behind the runner, checkpoint expiring in 1 h of server time: not refused', async ({ loops, step }) => {
    const server = (): number => Date.now() - 3 * HOUR;
    const emulator = await loops({ now: server, checkpoints: [{ path: PATH, expires_at: server() + HOUR }] });
    const result = await step({ inputs: launchInputs(emulator, { checkpoint_path: PATH }) });
    expect(result.code, result.stdout).toBe(0);
  });

  test('server 3 h ahead of the runner, checkpoint expired 1 h ago in server time: refused', async ({ loops, step }) => {
    const server = (): number => Date.now() + 3 * HOUR;
    const emulator = await loops({ now: server, checkpoints: [{ path: PATH, expires_at: server() - HOUR }] });
    const result = await step({ inputs: launchInputs(emulator, { checkpoint_path: PATH }) });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toContain(`checkpoint_path: the checkpoint ${PATH} expired at `);
    nothingCreated(emulator);
  });
});
