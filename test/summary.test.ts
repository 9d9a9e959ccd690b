import { describe, expect, it } from 'vitest';
import { renderComment } from '../src/report/comment.js';
import { renderErrorSummary, renderSummary, summaryRows } from '../src/report/summary.js';
import { describeMode } from '../src/modes.js';

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

describe('the mode and the warm start, in the summary and the comment', () => {
  const mode = describeMode('serverless');
  const warmStart = 'skipped: Qwen/Qwen3-8B can run serverless for this workspace, and a reuse would move the run onto dedicated GPUs';

  it('the summary has a Mode row after Status, and a Warm start row when warm start was considered; neither without them', () => {
    const rows = summaryRows({ settings, status: 'ready', runId: 'r1', mode, warmStart });
    const names = rows.map(([k]) => k);
    expect(names.slice(names.indexOf('Status'), names.indexOf('Status') + 3)).toEqual(['Status', 'Mode', 'Warm start']);
    expect(Object.fromEntries(rows)).toMatchObject({ Mode: mode, 'Warm start': warmStart });
    expect(summaryRows({ settings, status: 'error' }).map(([k]) => k)).not.toContain('Mode');
  });

  it('the comment shows them as table cells: no table break, no HTML, no mention', () => {
    const ctx = { eventName: 'pull_request', repository: 'acme/x', job: 'launch', runId: '1', serverUrl: 'https://github.com', apiUrl: '' };
    const body = renderComment(ctx, {
      settings: { baseModel: 'Qwen/Qwen3-8B', loraRank: 32 },
      leg: 'l1',
      status: 'ready',
      mode,
      warmStart: 'skipped: <b>x</b> | @octocat',
    });
    expect(body).toContain(`| Mode | ${mode} |`);
    expect(body).toContain('| Warm start | skipped: &lt;b&gt;x&lt;/b&gt; \\| @\u200boctocat |');
  });
});
