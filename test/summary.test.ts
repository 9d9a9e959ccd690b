import { describe, expect, it } from 'vitest';
import { renderErrorSummary, renderSummary, summaryRows } from '../src/report/summary.js';

const settings = { baseModel: 'Qwen/Qwen3-8B', loraRank: 32, maxSeqLen: undefined, seed: undefined, checkpointPath: undefined };

describe('job summary', () => {
  it('has a row for each detail of the run', () => {
    const rows = summaryRows({
      settings: { ...settings, maxSeqLen: 4096, seed: 7, checkpointPath: 'bt://loops:r0/weights/step-1' },
      status: 'ready',
      runId: 'r1',
      runName: 'pr-1',
      sessionId: 's1',
      sessionCreated: false,
      samplerBaseUrl: 'https://sampler.example',
      openaiBaseUrl: 'https://sampler.example/v1',
      samplerModel: 'Qwen/Qwen3-8B',
      samplerStatus: 'ACTIVE',
      timeToReadyMs: 12_340,
    });
    expect(Object.fromEntries(rows)).toEqual({
      Run: 'r1 (pr-1)',
      Session: 's1 (reused)',
      'Base model': 'Qwen/Qwen3-8B',
      'LoRA rank': '32',
      'Sequence length': '4096',
      Seed: '7',
      Checkpoint: 'bt://loops:r0/weights/step-1',
      'Sampler URL': 'https://sampler.example',
      'OpenAI base URL': 'https://sampler.example/v1',
      'Sampler model': 'Qwen/Qwen3-8B',
      Status: 'ready (sampler ACTIVE)',
      'Time to ready': '12.3s',
    });
  });

  it('marks what is unset and a new session', () => {
    const rows = Object.fromEntries(summaryRows({ settings, status: 'launched', sessionId: 's2', sessionCreated: true }));
    expect(rows.Session).toBe('s2 (new)');
    expect(rows['Sequence length']).toBe('model maximum');
    expect(rows.Seed).toBe('—');
    expect(rows['Time to ready']).toBe('—');
  });

  it('escapes HTML from user-controlled values', () => {
    const html = renderSummary({ settings, status: 'error', runName: '<img src=x>', message: 'a & b' });
    expect(html).toContain('&lt;img src=x&gt;');
    expect(html).not.toContain('<img');
    expect(html).toContain('a &amp; b');
  });

  it('lists the problems when the inputs were invalid', () => {
    const html = renderErrorSummary('Invalid inputs; nothing was sent:\n- lora_rank: must be a whole number ≥ 1 (got "0")\n- seed: <bad>');
    expect(html).toContain('<p>Status: error. Invalid inputs; nothing was sent:</p>');
    expect(html).toContain('<li>lora_rank: must be a whole number ≥ 1 (got &quot;0&quot;)</li>');
    expect(html).toContain('<li>seed: &lt;bad&gt;</li>');
  });
});
