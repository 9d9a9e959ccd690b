// modes.ts: the mode an answer shows, the mode predicted before the create, whether warm start
// may reuse, the warnings, and the billing line. Pure functions, plain data.

import { describe, expect, it } from 'vitest';
import type { Log } from '../src/core/log.js';
import type { SupportedModel } from '../src/loops/catalog.js';
import type { Run, Sampler } from '../src/loops/types.js';
import { BILLING, describeMode, detectMode, modeLogger, modeWarnings, predictMode, warmStartGate } from '../src/modes.js';
import { checkScope } from '../src/preflight.js';

const sampler = (extra: Partial<Sampler> = {}): Sampler => ({ id: 'sm1', baseUrl: 'https://s', ...extra });

describe('detectMode: what the answer about the run shows', () => {
  it('a deployment_id, or a sampler backed by a model deployment, is dedicated', () => {
    expect(detectMode({ deploymentId: 'd1', sampler: sampler() })).toBe('dedicated');
    expect(detectMode({ deploymentId: 'd1', sampler: undefined })).toBe('dedicated');
    // deployment_id is nullable for dedicated runs too (2026-08-21): the sampler still tells.
    expect(detectMode({ sampler: sampler({ modelId: 'mo1' }) })).toBe('dedicated');
    expect(detectMode({ sampler: sampler({ deploymentId: 'md1' }) })).toBe('dedicated');
  });

  it('no deployment_id and a sampler with neither model_id nor deployment_id is serverless, with or without status and URL', () => {
    expect(detectMode({ sampler: sampler() })).toBe('serverless');
    expect(detectMode({ sampler: sampler({ status: 'ACTIVE' }) })).toBe('serverless');
    expect(detectMode({ sampler: { id: 'sm1', baseUrl: '' } })).toBe('serverless');
  });

  it('no deployment and no sampler in the answer is unknown, until a later answer tells', () => {
    expect(detectMode({ sampler: undefined })).toBe('unknown');
  });
});

describe('the billing line', () => {
  it('says per token and idle free for serverless, GPU time until stopped for dedicated', () => {
    expect(describeMode('serverless')).toBe('serverless (billed per token trained and sampled; an idle run costs nothing)');
    expect(describeMode('dedicated')).toMatch(/^dedicated \(billed for GPU time .* until the run is stopped\)$/);
    expect(BILLING.unknown).toMatch(/not shown yet/);
  });

  it('modeLogger logs once per change, with the line', () => {
    const lines: string[] = [];
    const log: Log = { info: (l) => lines.push(l), warning: () => undefined, error: () => undefined, debug: () => undefined };
    const see = modeLogger(log);
    const run = (extra: Partial<Run>): Run => ({ id: 'r1', sessionId: 's', baseModel: 'm', baseUrl: '', createdAt: '', raw: {}, ...extra });
    expect(see(run({}))).toBe('unknown');
    expect(see(run({}))).toBe('unknown');
    expect(see(run({ deploymentId: 'd1' }))).toBe('dedicated');
    expect(lines).toEqual([`Run r1: mode ${describeMode('unknown')}`, `Run r1: mode ${describeMode('dedicated')}`]);
  });
});

const models: SupportedModel[] = [
  { name: 'Qwen/Qwen3-8B', maxSeqLen: 131072, enabled: true, serverless: true, serverlessLimits: { loraRank: 64, seqLen: 32768 } },
  { name: 'Qwen/Qwen3-0.6B', maxSeqLen: 8192, enabled: true, serverless: true },
  { name: 'moonshotai/Kimi-K2.6', maxSeqLen: 131072, enabled: true, serverless: false },
  { name: 'old/Model', maxSeqLen: 4096, enabled: true },
];

const settings = (extra: Partial<Parameters<typeof predictMode>[0]> = {}): Parameters<typeof predictMode>[0] => ({
  baseModel: 'Qwen/Qwen3-8B',
  scope: 'auto',
  loraRank: 64,
  maxSeqLen: undefined,
  reuseFromRunId: undefined,
  reuseFromSessionId: undefined,
  replicas: 1,
  availabilityModel: 'dedicated',
  ...extra,
});

describe('predictMode: Baseten’s fallback rules, from the capabilities and the settings', () => {
  it('serverless when the workspace has serverless access and the settings are within the limits', () => {
    expect(predictMode(settings(), models)).toEqual({
      mode: 'serverless',
      why: 'Qwen/Qwen3-8B can run serverless for this workspace',
      serverlessCapable: true,
    });
    expect(predictMode(settings({ scope: 'serverless', maxSeqLen: 32768 }), models).mode).toBe('serverless');
  });

  it('dedicated for each fallback: no access, rank or sequence length beyond, a reuse; and for scope deployment', () => {
    expect(predictMode(settings({ baseModel: 'moonshotai/Kimi-K2.6' }), models)).toMatchObject({
      mode: 'dedicated',
      why: 'this workspace has no serverless access to moonshotai/Kimi-K2.6',
      serverlessCapable: false,
    });
    expect(predictMode(settings({ loraRank: 128 }), models)).toMatchObject({
      mode: 'dedicated',
      why: "lora_rank 128 is beyond serverless's limit of 64 for Qwen/Qwen3-8B",
      serverlessCapable: false,
    });
    expect(predictMode(settings({ maxSeqLen: 32769 }), models).why).toBe(
      "max_seq_len 32769 is beyond serverless's limit of 32768 for Qwen/Qwen3-8B",
    );
    expect(predictMode(settings({ reuseFromSessionId: 's0' }), models)).toMatchObject({ mode: 'dedicated', serverlessCapable: true });
    expect(predictMode(settings({ scope: 'deployment' }), models)).toMatchObject({ mode: 'dedicated', why: 'scope is deployment' });
  });

  it('an empty max_seq_len is not counted as beyond a serverless limit (whether the server caps it is not published)', () => {
    expect(predictMode(settings({ maxSeqLen: undefined }), models).mode).toBe('serverless');
  });

  it('unknown without capabilities, without the model, or without a serverless field', () => {
    expect(predictMode(settings(), undefined)).toMatchObject({ mode: 'unknown', why: 'the capabilities could not be read' });
    expect(predictMode(settings({ baseModel: 'x/y' }), models).mode).toBe('unknown');
    expect(predictMode(settings({ baseModel: 'old/Model' }), models)).toMatchObject({ mode: 'unknown', serverlessCapable: false });
    expect(predictMode(settings({ scope: 'deployment' }), undefined).mode).toBe('dedicated');
  });
});

describe('warmStartGate: a reuse makes a run dedicated, so warm start only when it will be dedicated anyway', () => {
  it('skips a run that can be serverless, and says why and what to do', () => {
    const gate = warmStartGate({ scope: 'auto' }, predictMode(settings(), models));
    expect(gate).toEqual({
      allowed: false,
      why:
        'Qwen/Qwen3-8B can run serverless for this workspace, and a reuse would move the run onto dedicated GPUs billed until stopped; ' +
        'set scope: deployment to warm-start on dedicated GPUs',
    });
  });

  it('allows it when dedicated anyway (scope deployment, no access, beyond the limits) or unknown (as before)', () => {
    for (const s of [settings({ scope: 'deployment' }), settings({ baseModel: 'moonshotai/Kimi-K2.6' }), settings({ loraRank: 65 })]) {
      expect(warmStartGate(s, predictMode(s, models)), s.baseModel + s.scope + s.loraRank).toEqual({ allowed: true });
    }
    expect(warmStartGate({ scope: 'auto' }, predictMode(settings(), undefined))).toEqual({ allowed: true });
    expect(warmStartGate({ scope: 'auto' }, predictMode(settings({ baseModel: 'old/Model' }), models))).toEqual({ allowed: true });
  });

  it('never with scope serverless, whatever the prediction', () => {
    const s = settings({ scope: 'serverless' });
    expect(warmStartGate(s, predictMode(s, undefined))).toMatchObject({
      allowed: false,
      why: expect.stringContaining('scope is serverless') as unknown,
    });
  });
});

describe('modeWarnings', () => {
  it('replicas or spot while serverless: ignored, and how to force dedicated', () => {
    const s = settings({ replicas: 2, availabilityModel: 'spot' });
    expect(modeWarnings(s, predictMode(s, models))).toEqual([
      'replicas: 2 and availability_model: spot apply only to dedicated runs, and this run will be serverless ' +
        '(Qwen/Qwen3-8B can run serverless for this workspace): ignored. Set scope: deployment to force a dedicated run.',
    ]);
    const dedicated = settings({ replicas: 2, scope: 'deployment' });
    expect(modeWarnings(dedicated, predictMode(dedicated, models))).toEqual([]);
  });

  it('an explicit reuse of a serverless-capable model with scope auto: goes ahead, with the GPU billing warning', () => {
    const s = settings({ reuseFromRunId: 'r0' });
    expect(modeWarnings(s, predictMode(s, models))).toEqual([
      "reuse_from_run_id: reusing another run's infrastructure makes this run dedicated, billed for GPU time until stopped, although " +
        'Qwen/Qwen3-8B can run serverless here (billed per token). Leave reuse_from_run_id empty to run serverless.',
    ]);
    const kimi = settings({ reuseFromRunId: 'r0', baseModel: 'moonshotai/Kimi-K2.6' });
    expect(modeWarnings(kimi, predictMode(kimi, models))).toEqual([]);
    // scope: deployment asked for dedicated GPUs: a reuse gives up nothing, so no warning.
    const asked = settings({ reuseFromSessionId: 's0', scope: 'deployment' });
    expect(modeWarnings(asked, predictMode(asked, models))).toEqual([]);
  });
});

describe('checkScope (preflight): scope serverless fails instead of falling back', () => {
  it('refuses a model without serverless access, with a did-you-mean among the serverless models', () => {
    expect(checkScope({ ...settings({ scope: 'serverless' }), baseModel: 'Qwen/Qwen3-0.6B' }, models)).toEqual([]);
    const [problem] = checkScope({ ...settings({ scope: 'serverless' }), baseModel: 'moonshotai/Kimi-K2.6' }, models);
    expect(problem).toMatch(/^scope: serverless, but this workspace has no serverless access to moonshotai\/Kimi-K2.6\. /);
    expect(problem).toMatch(/Serverless here: Qwen\/Qwen3-8B, Qwen\/Qwen3-0.6B\. Set scope: auto/);
    const near = [...models, { name: 'moonshotai/Kimi-K2.6-Lite', enabled: true, serverless: true }];
    expect(checkScope({ ...settings({ scope: 'serverless' }), baseModel: 'moonshotai/Kimi-K2.6' }, near)[0]).toContain(
      'Did you mean "moonshotai/Kimi-K2.6-Lite"?',
    );
  });

  it('refuses settings beyond the serverless limits; leaves auto, deployment and an unknown model alone', () => {
    expect(checkScope(settings({ scope: 'serverless', loraRank: 128 }), models)).toEqual([
      "scope: serverless, but lora_rank 128 is beyond serverless's limit of 64 for Qwen/Qwen3-8B, and serverless does not fall back. Lower it, or set scope: auto",
    ]);
    expect(checkScope(settings({ loraRank: 128 }), models)).toEqual([]);
    expect(checkScope(settings({ scope: 'deployment', baseModel: 'moonshotai/Kimi-K2.6' }), models)).toEqual([]);
    expect(checkScope(settings({ scope: 'serverless', baseModel: 'old/Model' }), models)).toEqual([]);
  });
});
