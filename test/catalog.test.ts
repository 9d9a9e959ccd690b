// The capabilities and checkpoints parsers: the serverless field read defensively (its type is
// not published), lora_config absent / null / an object, and the checkpoint preflight's refusals.

import { describe, expect, it } from 'vitest';
import { checkCheckpoint, rankOf } from '../src/checkpoint-check.js';
import { parseCapabilities, parseCheckpoints, parseServerless } from '../src/loops/catalog.js';

describe('parseServerless (assumed shapes)', () => {
  it('a boolean; absent is unknown', () => {
    expect(parseServerless({ serverless: true })).toEqual({ serverless: true });
    expect(parseServerless({ serverless: false })).toEqual({ serverless: false });
    expect(parseServerless({})).toEqual({ serverless: undefined });
  });

  it('an object: its flag (else true) and its limits; sibling limit fields; strings and null', () => {
    expect(parseServerless({ serverless: { enabled: false } })).toEqual({ serverless: false });
    expect(parseServerless({ serverless: { max_lora_rank: 32, max_seq_len: 16384 } })).toEqual({
      serverless: true,
      serverlessLimits: { loraRank: 32, seqLen: 16384 },
    });
    expect(parseServerless({ serverless: { available: true, max_rank: 16, max_sequence_length: 4096 } })).toEqual({
      serverless: true,
      serverlessLimits: { loraRank: 16, seqLen: 4096 },
    });
    expect(parseServerless({ serverless: true, serverless_max_lora_rank: 64, serverless_max_seq_len: 32768 })).toEqual({
      serverless: true,
      serverlessLimits: { loraRank: 64, seqLen: 32768 },
    });
    expect(parseServerless({ serverless: 'Enabled' })).toEqual({ serverless: true });
    expect(parseServerless({ serverless: 'disabled' })).toEqual({ serverless: false });
    expect(parseServerless({ serverless: null })).toEqual({ serverless: false });
  });

  it('ignores what it cannot read: other strings, numbers, lists, limits that are not positive integers', () => {
    expect(parseServerless({ serverless: 'maybe' })).toEqual({ serverless: undefined });
    expect(parseServerless({ serverless: 1 })).toEqual({ serverless: undefined });
    expect(parseServerless({ serverless: [true] })).toEqual({ serverless: undefined });
    expect(parseServerless({ serverless: { max_lora_rank: -1, max_seq_len: 1.5 } })).toEqual({ serverless: true });
    expect(parseServerless({ serverless: true, serverless_max_lora_rank: '64' })).toEqual({ serverless: true });
  });

  it('parseCapabilities carries it for each model', () => {
    const models = parseCapabilities({
      supported_models: [
        { model_name: 'a/b', max_context_length: 8192, serverless: true, serverless_max_lora_rank: 32 },
        { model_name: 'c/d', max_context_length: 8192 },
      ],
    });
    expect(models).toEqual([
      {
        name: 'a/b',
        maxSeqLen: 8192,
        enabled: true,
        remediation: undefined,
        serverless: true,
        serverlessLimits: { loraRank: 32, seqLen: undefined },
      },
      { name: 'c/d', maxSeqLen: 8192, enabled: true, remediation: undefined, serverless: undefined },
    ]);
  });
});

const base = { id: 'Ab1', checkpoint_id: 'step-1', run_id: 'r0', target: 'trainer', base_model: 'Qwen/Qwen3-8B' };

describe('parseCheckpoints', () => {
  it('lora_config: absent is unknown, null cannot be loaded, an object is kept; expires_at kept', () => {
    const [absent, none, config, odd] = parseCheckpoints({
      checkpoints: [
        base,
        { ...base, lora_config: null },
        { ...base, lora_config: { r: 16 }, expires_at: '2026-01-01T00:00:00Z' },
        { ...base, lora_config: 'x' },
      ],
    });
    expect(absent?.loraConfig).toBeUndefined();
    expect(none?.loraConfig).toBeNull();
    expect(config).toMatchObject({ loraConfig: { r: 16 }, expiresAt: '2026-01-01T00:00:00Z', runId: 'r0', target: 'trainer' });
    expect(odd?.loraConfig).toBeUndefined();
  });
});

describe('checkCheckpoint: refusals before the create, each naming the checkpoint and the fix', () => {
  const path = 'bt://loops:r0/weights/step-1';
  const now = Date.parse('2026-11-21T10:00:00Z');
  const settings = { checkpointPath: path, baseModel: 'Qwen/Qwen3-8B', loraRank: 16 };
  const parse = (extra: Record<string, unknown>) => parseCheckpoints({ checkpoints: [{ ...base, ...extra }] });

  it('passes a good one, and one that says nothing of lora_config or expiry', () => {
    expect(checkCheckpoint(settings, parse({ lora_config: { rank: 16 }, expires_at: '2026-11-21T10:00:01Z' }), now)).toEqual([]);
    expect(checkCheckpoint(settings, parse({}), now)).toEqual([]);
    expect(checkCheckpoint(settings, parse({ lora_config: {}, expires_at: null }), now)).toEqual([]);
  });

  it('refuses each problem', () => {
    expect(checkCheckpoint(settings, [], now)).toEqual([`checkpoint_path: no checkpoint found at ${path}`]);
    expect(checkCheckpoint(settings, parse({ lora_config: null }), now)).toEqual([
      `checkpoint_path: the checkpoint ${path} cannot be loaded (the API gives it no lora_config: unsupported). ` +
        'Start from another checkpoint of the run, or leave checkpoint_path empty',
    ]);
    expect(checkCheckpoint(settings, parse({ expires_at: '2026-11-21T10:00:00Z' }), now)[0]).toMatch(
      /^checkpoint_path: the checkpoint bt:\/\/loops:r0\/weights\/step-1 expired at 2026-11-21T10:00:00Z \(server time; .*Start from a newer checkpoint/,
    );
    expect(checkCheckpoint(settings, parse({ base_model: 'Qwen/Qwen3-0.6B' }), now)).toEqual([
      `checkpoint_path: the checkpoint ${path} was trained on Qwen/Qwen3-0.6B, not on base_model Qwen/Qwen3-8B. ` +
        'Set base_model: Qwen/Qwen3-0.6B, or start from a checkpoint of Qwen/Qwen3-8B',
    ]);
    expect(checkCheckpoint(settings, parse({ lora_config: { r: 32 } }), now)).toEqual([
      `lora_rank: 16 differs from the rank of the checkpoint ${path} (32). Set lora_rank: 32`,
    ]);
  });

  it('reads the rank as rank or r, only as a positive integer', () => {
    const rank = (config: Record<string, unknown>) => rankOf({ id: '', checkpointId: '', loraConfig: config });
    expect([rank({ rank: 8 }), rank({ r: 4 }), rank({ r: '4' }), rank({ rank: 0 }), rank({})]).toEqual([8, 4, undefined, undefined, undefined]);
  });
});
