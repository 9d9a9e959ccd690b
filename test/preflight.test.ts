import { describe, expect, it } from 'vitest';
import { checkModel, closestNames, editDistance } from '../src/preflight.js';

const models = [
  { name: 'Qwen/Qwen3-8B', maxSeqLen: 131072, enabled: true },
  { name: 'Qwen/Qwen3-0.6B', maxSeqLen: 8192, enabled: true },
  { name: 'Qwen/Qwen3-4B-Instruct-2507', maxSeqLen: 40960, enabled: true },
  { name: 'moonshotai/Kimi-K2.6', maxSeqLen: 131072, enabled: false, remediation: 'Ask support to enable Kimi.' },
];
const names = models.map((m) => m.name);

describe('preflight checks', () => {
  it('computes edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('suggests the closest supported names, case-insensitively', () => {
    expect(closestNames('qwen/qwen3-8b', names)[0]).toBe('Qwen/Qwen3-8B');
    expect(closestNames('Qwen/Qwen3-8', names)[0]).toBe('Qwen/Qwen3-8B');
    expect(closestNames('Qwen3-8B', names)[0]).toBe('Qwen/Qwen3-8B');
    expect(closestNames('meta-llama/Llama-3.1-70B', names)).toEqual([]);
  });

  it('passes a supported model within its sequence length', () => {
    expect(checkModel({ baseModel: 'Qwen/Qwen3-8B', maxSeqLen: 131072 }, models)).toEqual([]);
  });

  it('names base_model and suggests on a miss', () => {
    const [problem] = checkModel({ baseModel: 'Qwen/Qwen3-8b', maxSeqLen: undefined }, models);
    expect(problem).toMatch(/^base_model: "Qwen\/Qwen3-8b" is not a model .* Did you mean "Qwen\/Qwen3-8B"/);
  });

  it('names max_seq_len when it exceeds the model maximum', () => {
    expect(checkModel({ baseModel: 'Qwen/Qwen3-0.6B', maxSeqLen: 8193 }, models)).toEqual([
      'max_seq_len: 8193 exceeds the maximum of 8192 for Qwen/Qwen3-0.6B',
    ]);
  });

  it('reports a model that is not enabled, with the remediation', () => {
    expect(checkModel({ baseModel: 'moonshotai/Kimi-K2.6', maxSeqLen: undefined }, models)[0]).toMatch(
      /not enabled for this workspace: Ask support/,
    );
  });
});
