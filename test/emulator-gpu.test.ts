// Idle scale-down and GPU accounting (brief §3 j, k): what a benchmark of GPU time reads from
// emulator.deployments(), and what clients see of a deployment that nobody uses.
import { describe, expect, it } from 'vitest';
import { emulatorFixture } from './emulator/fixture.js';
import type { EmulatorOptions, LoopsRun } from './emulator/server.js';

const FAST: EmulatorOptions = {
  samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'CREATED', ms: 20 }, { status: 'DEPLOYING', ms: 30 }, { status: 'RUNNING' }],
};

const { api, clock, current, start } = emulatorFixture(FAST);

const statuses = async (run: LoopsRun): Promise<[string, string]> => {
  const d = (await api.getDeployment(run.deployment_id ?? '')).body.deployment;
  return [d.status.name, d.sampler?.status?.name ?? ''];
};

describe('idle scale-down (scaleDownMsPerSecond)', () => {
  it('a deployment unused for scale_down_delay_seconds × scaleDownMsPerSecond ms scales to zero', async () => {
    await start({ scaleDownMsPerSecond: 10 });
    const t0 = clock.t;
    const run = await api.run({ scale_down_delay_seconds: 60 }); // idle after 600 ms
    clock.advance(599);
    expect(await statuses(run)).toEqual(['RUNNING', 'ACTIVE']);
    clock.advance(5_000); // nobody looks when it falls due: it is still accounted at t0+600
    expect(current().deployments()[0]?.gpu).toEqual([{ from: t0, to: t0 + 600 }]);
    expect(await statuses(run)).toEqual(['SCALED_TO_ZERO', 'SCALED_TO_ZERO']);
    expect((await api.getRun(run.id)).body.run.status.name).toBe('ACTIVE');
    expect((await api.getDeployment(run.deployment_id ?? '')).body.deployment.active_run_id).toBe(run.id);
  });

  it('falls due at exactly the delay', async () => {
    await start({ scaleDownMsPerSecond: 10 });
    const run = await api.run({ scale_down_delay_seconds: 60 });
    clock.advance(599);
    expect(await statuses(run)).toEqual(['RUNNING', 'ACTIVE']);
    clock.advance(1);
    expect(await statuses(run)).toEqual(['SCALED_TO_ZERO', 'SCALED_TO_ZERO']);
  });

  it('requests to the sampler count as use; polling the API does not; the time is when it fell due', async () => {
    await start({ scaleDownMsPerSecond: 10, wakeMs: 100 });
    const t0 = clock.t;
    const run = await api.run({ scale_down_delay_seconds: 60 });
    clock.advance(300);
    expect((await api.models(run.sampler)).status).toBe(200); // used at t0+300: idle from t0+900
    clock.advance(500);
    expect(await statuses(run)).toEqual(['RUNNING', 'ACTIVE']);
    clock.advance(100);
    expect(await statuses(run)).toEqual(['SCALED_TO_ZERO', 'SCALED_TO_ZERO']);
    clock.advance(10_000); // noticed late: still accounted from t0+900
    expect(current().deployments()[0]?.gpu).toEqual([{ from: t0, to: t0 + 900 }]);
    expect((await api.models(run.sampler)).status).toBe(503); // woken at t0+10900
    const woken = t0 + 10_900;
    clock.advance(100);
    expect(await statuses(run)).toEqual(['RUNNING', 'ACTIVE']);
    clock.advance(499);
    expect(await statuses(run)).toEqual(['RUNNING', 'ACTIVE']);
    clock.advance(1); // 600 ms after the wake
    expect(await statuses(run)).toEqual(['SCALED_TO_ZERO', 'SCALED_TO_ZERO']);
    expect(current().deployments()[0]?.gpu).toEqual([
      { from: t0, to: t0 + 900 },
      { from: woken, to: woken + 600 },
    ]);
  });

  it('reusing the deployment counts as use, with the new run’s delay', async () => {
    await start({ scaleDownMsPerSecond: 10 });
    const run = await api.run({ scale_down_delay_seconds: 60 });
    clock.advance(500);
    const next = await api.run({ reuse_from_run_id: run.id, scale_down_delay_seconds: 100 });
    clock.advance(999);
    expect(await statuses(next)).toEqual(['RUNNING', 'ACTIVE']);
    clock.advance(1);
    expect(await statuses(next)).toEqual(['SCALED_TO_ZERO', 'SCALED_TO_ZERO']);
  });

  it('default 0: never scales down', async () => {
    await start();
    const run = await api.run({ scale_down_delay_seconds: 1 });
    clock.advance(10 * 3_600_000);
    expect(await statuses(run)).toEqual(['RUNNING', 'ACTIVE']);
    expect(current().deployments()[0]?.gpu).toEqual([{ from: clock.t - 10 * 3_600_000 }]);
  });
});

describe('GPU accounting (emulator.deployments())', () => {
  it('intervals while the trainer is CREATED/DEPLOYING/RUNNING; open while still held', async () => {
    await start({ wakeMs: 100 });
    const t0 = clock.t;
    const run = await api.run();
    clock.advance(10);
    const open = current().deployments();
    expect(open).toEqual([{ id: run.deployment_id, runIds: [run.id], createdAt: t0, gpu: [{ from: t0 }] }]);
    expect(open[0]?.gpu[0]).not.toHaveProperty('to');
    clock.advance(990);
    current().scaleToZero(run.id); // t0+1000
    clock.advance(1_000);
    await api.models(run.sampler); // woken at t0+2000
    clock.advance(3_000);
    await api.deactivate(run.id); // stopped at t0+5000
    clock.advance(1_000);
    expect(current().deployments()[0]?.gpu).toEqual([
      { from: t0, to: t0 + 1_000 },
      { from: t0 + 2_000, to: t0 + 5_000 },
    ]);
  });

  it('a trainer that fails, or is preempted, releases its GPUs then; runs on one deployment share one entry', async () => {
    await start({ trainerTimeline: [{ status: 'CREATED', ms: 20 }, { status: 'DEPLOYING', ms: 30 }, { status: 'FAILED' }] });
    const t0 = clock.t;
    const failed = await api.run();
    clock.advance(100);
    current().configure({ trainerTimeline: [{ status: 'RUNNING' }] });
    const spot = await api.run({ availability_model: 'spot' });
    const next = await api.run({ reuse_from_run_id: spot.id });
    clock.advance(200);
    current().setTrainerStatus(spot.id, 'PREEMPTED');
    clock.advance(50);
    const usage = current().deployments();
    expect(usage.map((u) => [u.id, u.runIds, u.createdAt])).toEqual([
      [failed.deployment_id, [failed.id], t0],
      [spot.deployment_id, [spot.id, next.id], t0 + 100],
    ]);
    expect(usage.map((u) => u.gpu)).toEqual([[{ from: t0, to: t0 + 50 }], [{ from: t0 + 100, to: t0 + 300 }]]);
  });

  it('a run planted in the past is accounted from its createdAt', async () => {
    await start();
    const sessionId = current().createSession();
    const past = clock.t - 60_000;
    current().createRun({ session_id: sessionId, base_model: 'Qwen/Qwen3-8B' }, { createdAt: past });
    expect(current().deployments()[0]).toMatchObject({ createdAt: past, gpu: [{ from: past }] });
  });
});
