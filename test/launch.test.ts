import { describe, expect, it } from 'vitest';
import { parseInputs } from '../src/inputs.js';
import { buildRunBody } from '../src/launch.js';
import { ownRuns } from '../src/shared.js';
import { plannedRequests, renderPlan } from '../src/dry-run.js';
import type { Run } from '../src/loops/types.js';

function settings(values: Record<string, string>) {
  const result = parseInputs((n) => ({ api_key: 'k', base_model: 'Qwen/Qwen3-8B', ...values })[n] ?? '', {});
  if (!result.ok) throw new Error(result.errors.join());
  return result.settings;
}

describe('buildRunBody', () => {
  it('maps every input and leaves out unset fields and fields equal to the API defaults, but never the name', () => {
    expect(buildRunBody(settings({}), 's1', 'n1')).toEqual({ session_id: 's1', base_model: 'Qwen/Qwen3-8B', name: 'n1' });
    expect(
      buildRunBody(settings({ lora_rank: '64', scale_down_delay_seconds: '3600', availability_model: 'DEDICATED', replicas: '1' }), 's1', 'n1'),
    ).toEqual({ session_id: 's1', base_model: 'Qwen/Qwen3-8B', name: 'n1' });
    expect(
      buildRunBody(
        settings({
          max_seq_len: '2048',
          seed: '0',
          checkpoint_path: 'bt://loops:r0/weights/step-2',
          reuse_from_run_id: 'r0',
          reuse_from_session_id: 's0',
          availability_model: 'spot',
          replicas: '3',
          lora_rank: '8',
          scale_down_delay_seconds: '120',
        }),
        's1',
        'n1',
      ),
    ).toEqual({
      session_id: 's1',
      base_model: 'Qwen/Qwen3-8B',
      name: 'n1',
      lora_rank: 8,
      scale_down_delay_seconds: 120,
      availability_model: 'spot',
      replicas: 3,
      max_seq_len: 2048,
      seed: 0,
      path: 'bt://loops:r0/weights/step-2',
      reuse_from_run_id: 'r0',
      reuse_from_session_id: 's0',
    });
  });
});

describe('buildRunBody: scope', () => {
  it('is left out for auto, sent for serverless and deployment', () => {
    expect(buildRunBody(settings({ scope: 'auto' }), 's1', 'n1')).not.toHaveProperty('scope');
    expect(buildRunBody(settings({ scope: 'Serverless' }), 's1', 'n1').scope).toBe('serverless');
    expect(buildRunBody(settings({ scope: 'deployment' }), 's1', 'n1').scope).toBe('deployment');
  });
});

describe('ownRuns: the runs one step could have made', () => {
  const run = (id: string, sessionId: string, name: string | undefined, createdAt: string, status = 'ACTIVE'): Run => ({
    id,
    sessionId,
    name,
    baseModel: 'Qwen/Qwen3-8B',
    baseUrl: 'https://t',
    createdAt,
    status,
    raw: {},
  });
  const createdAfter = Date.parse('2026-11-21T10:00:00Z');
  const intent = { sessionId: 's1', sessionCreated: false, name: 'mine', createdAfter };

  it('in a reused session: this name, this session, created (server clock) after the first create request; oldest first', () => {
    const runs = [
      run('other-session', 's2', 'mine', '2026-11-21T10:00:05Z'),
      run('other-name', 's1', 'theirs', '2026-11-21T10:00:05Z'),
      run('previous-attempt', 's1', 'mine', '2026-11-21T09:59:59.999Z'),
      run('later', 's1', 'mine', '2026-11-21T10:00:09Z'),
      run('ours', 's1', 'mine', '2026-11-21T10:00:04Z'),
    ];
    expect(ownRuns(runs, intent)).toEqual({ runs: [runs[4], runs[3]], unsure: false });
  });

  it('puts a live run before an INACTIVE one, whatever their ages', () => {
    const runs = [run('dead', 's1', 'mine', '2026-11-21T10:00:01Z', 'INACTIVE'), run('live', 's1', 'mine', '2026-11-21T10:00:02Z')];
    expect(ownRuns(runs, intent).runs.map((r) => r.id)).toEqual(['live', 'dead']);
  });

  it('in a session this step created takes every run of that session, whatever its name or time', () => {
    const runs = [
      run('early', 's1', 'mine', '2026-11-21T09:59:58Z'),
      run('renamed', 's1', 'MINE', '2026-11-21T10:00:05Z'),
      run('unnamed', 's1', undefined, '2026-11-21T10:00:06Z'),
    ];
    const { runs: mine, unsure } = ownRuns(runs, { ...intent, sessionCreated: true });
    expect(mine.map((r) => r.id)).toEqual(['early', 'renamed', 'unnamed']);
    expect(unsure).toBe(false);
  });

  it('is unsure in a reused session whose recent runs carry no name (older API)', () => {
    const runs = [run('unnamed', 's1', undefined, '2026-11-21T10:00:06Z')];
    expect(ownRuns(runs, intent)).toEqual({ runs: [], unsure: true });
  });
});

describe('dry-run plan', () => {
  it('lists the requests in order with the body, and redacts the key', () => {
    const s = settings({ checkpoint_path: 'bt://loops:r0/weights/step-2', api_key: 'super-secret' });
    const plan = plannedRequests(s, 'n1');
    expect(plan.map((p) => `${p.method} ${p.path.split('?')[0]}`)).toEqual([
      'GET /v1/loops/capabilities',
      'GET /v1/loops/checkpoints',
      'POST /v1/loops/sessions',
      'POST /v1/loops/runs',
      'GET /v1/loops/runs/<run_id>',
      'GET <sampler_base_url>/v1/models',
    ]);
    const text = renderPlan(s, plan);
    expect(text).toContain('Bearer ***');
    expect(text).not.toContain('super-secret');
    expect(text).toContain('"path": "bt://loops:r0/weights/step-2"');
  });

  it('verifies a reused session instead of creating one, and skips preflight and waiting when off', () => {
    const plan = plannedRequests(settings({ session_id: 's9', preflight: 'false', wait_for: 'none' }), 'n1');
    expect(plan.map((p) => `${p.method} ${p.path}`)).toEqual(['GET /v1/loops/sessions/s9', 'POST /v1/loops/runs']);
    expect((plan[1]?.body as { session_id: string }).session_id).toBe('s9');
  });
});
