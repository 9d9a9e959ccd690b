// A CI matrix in miniature: many steps launched at once against one rate-limited API, all in one
// shared session with their default run names (distinct through leg_key, as a matrix of legs
// with the same inputs passes it), a few of their creates answered ambiguously. Every step must
// succeed with its own run, and no run may be duplicated.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../emulator/server.js';
import { type StepResult, runStep } from '../support/runner.js';

const KEY = 'sk-parallel-5b8e0c2f94a1d7e36c0b';
const MODEL = 'Qwen/Qwen3-8B';
const STEPS = 24;
const WAITING = 6; // the first few also wait for the sampler (polling under throttling)
const AMBIGUOUS_CREATES = 3;

describe(`${STEPS} bundles in parallel, one emulator rate-limited to 10 req/s (burst 5), one shared session`, () => {
  let emu: Emulator;
  let sessionId: string;
  let results: StepResult[];
  let wallMs: number;

  beforeAll(async () => {
    emu = await startEmulator({
      apiKeys: [KEY],
      rateLimit: { perSecond: 10, burst: 5 },
      samplerTimeline: [{ status: 'DEPLOYING', ms: 500 }, { status: 'ACTIVE' }],
    });
    const res = await fetch(`${emu.url}/v1/loops/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    sessionId = ((await res.json()) as { session: { id: string } }).session.id;
    // A few creates do the work and then lose the answer: those steps must adopt, not re-send.
    emu.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'drop', when: 'after', times: AMBIGUOUS_CREATES });
    const started = performance.now();
    results = await Promise.all(
      Array.from({ length: STEPS }, async (_, i) => {
        const step = await runStep({
          inputs: {
            api_key: KEY,
            api_base_url: emu.url,
            base_model: MODEL,
            session_id: sessionId,
            wait_for: i < WAITING ? 'sampler' : 'none',
            poll_interval_seconds: 0.5,
            wait_timeout_seconds: 120,
            max_retries: 12,
            request_timeout_seconds: 20,
            // What a matrix passes (`leg_key: ${{ toJSON(matrix) }}`) when its legs' inputs are the same.
            leg_key: `{"shard":${i}}`,
          },
          timeoutMs: 150_000,
        });
        step.workspace.remove();
        return step;
      }),
    );
    wallMs = performance.now() - started;
  }, 180_000);

  afterAll(async () => {
    await emu?.close();
  });

  it('every step exits 0 with status launched (or ready when it waited)', () => {
    for (const [i, step] of results.entries()) {
      expect(step.code, `step ${i}:\n${step.stdout}\n${step.stderr}`).toBe(0);
      expect(step.outputs.status).toBe(i < WAITING ? 'ready' : 'launched');
      expect(step.outputs.session_id).toBe(sessionId);
      expect(step.outputs.session_created).toBe('false');
    }
  });

  it(`exactly ${STEPS} runs exist, names distinct, one per step, each step's run_id naming its own run`, () => {
    const runs = emu.runs();
    expect(runs).toHaveLength(STEPS);
    expect(new Set(runs.map((r) => r.name)).size).toBe(STEPS);
    expect(new Set(runs.map((r) => r.id)).size).toBe(STEPS);
    const byId = new Map(runs.map((r) => [r.id, r]));
    const claimed = results.map((s) => s.outputs.run_id);
    expect(new Set(claimed).size).toBe(STEPS);
    for (const step of results) {
      const run = byId.get(step.outputs.run_id ?? '');
      expect(run, step.stdout).toBeDefined();
      expect(run?.name).toBe(step.outputs.run_name);
      expect(run?.session_id).toBe(sessionId);
    }
  });

  it('the API throttled (some 429s were answered) and the steps retried them', () => {
    const throttled = emu.requests.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    const retryLines = results.flatMap((s) =>
      s.stdout.split('\n').filter((l) => /: attempt \d+ of 13 failed \(HTTP 429 Too Many Requests\); retrying in \d/.test(l)),
    );
    expect(retryLines.length).toBeGreaterThan(0);
  });

  it(`the ${AMBIGUOUS_CREATES} creates that lost their answer were adopted after listing, not re-sent`, () => {
    const adopted = results.filter((s) => s.stdout.includes('create run: the earlier request did create run '));
    expect(adopted).toHaveLength(AMBIGUOUS_CREATES);
    const creates = emu.requests.filter((r) => r.method === 'POST' && r.path === '/v1/loops/runs' && r.status !== 429);
    expect(creates).toHaveLength(STEPS);
  });

  it('finishes in reasonable time', () => {
    expect(wallMs).toBeLessThan(150_000);
  });
});
