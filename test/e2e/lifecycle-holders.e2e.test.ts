// End to end, what holds a run's GPUs whatever happened to it (SPEC "The run's life in a pull
// request"): an earlier attempt's continuation is warm-started from or stopped, never left billing;
// a run whose deployment_id is null still has its continuation found; a cancel never deactivates a
// run another push has taken over; the stop action accounts for every run it was named; a create
// that may have failed never adopts a dead run; warm start takes the newest push and a re-run adopts
// only its own commit's run.

import type { ChildProcess } from 'node:child_process';
import { describe, expect } from 'vitest';
import type { Emulator } from '../emulator/server.js';
import { type Step, requestsTo } from '../support/e2e.js';
import type { RunnerOptions } from '../support/runner.js';
import {
  MINUTE,
  MODEL,
  SHA,
  continueRun,
  creates,
  deactivateDirectly,
  deactivations,
  ids,
  launchInputs,
  lifeTest as test,
  liveIds,
  ourName,
  plant,
  pr,
  state,
  stopStep,
} from './life.js';

describe('3. a re-run after the training script attached', () => {
  test.concurrent(
    "warm_start false: attempt 2 starts cold and stops attempt 1's continuation; one live deployment serves the leg",
    async ({ loops, step }) => {
      const emulator = await loops();
      const inputs = launchInputs(emulator, { warm_start: false });
      const first = await step({ inputs, ...pr(7, SHA.A) });
      const training = continueRun(emulator, first.outputs.run_id ?? '');
      const rerun = await step({ inputs, ...pr(7, SHA.A, { attempt: 2 }) });
      expect(rerun.code, rerun.stdout).toBe(0);
      expect(rerun.outputs).toMatchObject({ adopted: 'false', reused_from_run_id: '', superseded_run_ids: training.id });
      expect(deactivations(emulator)).toEqual([training.id]);
      expect(liveIds(emulator)).toEqual([rerun.outputs.run_id]);
      expect(rerun.stdout).toContain(`run ${training.id} (a continuation of an earlier run's) also served this leg and commit; deactivated`);
    },
  );
});

describe('5. a run whose deployment_id is null still has its continuation found (by its sampler, in the deployments list)', () => {
  const NULL_IDS = { deploymentIdOnRuns: false };

  test.concurrent('push 2 supersedes the continuation, and the close-time stop stops it', async ({ loops, step }) => {
    const emulator = await loops(NULL_IDS);
    const inputs = launchInputs(emulator, { warm_start: false });
    const a = await step({ inputs, ...pr(7, SHA.A) });
    expect(a.outputs.deployment_id).toBe('');
    const training = continueRun(emulator, a.outputs.run_id ?? '');
    const b = await step({ inputs, ...pr(7, SHA.B) });
    expect(b.outputs.superseded_run_ids).toBe(training.id);
    expect(state(emulator, training.id)).toBe('INACTIVE');
    const trainingB = continueRun(emulator, b.outputs.run_id ?? '');
    const close = await stopStep(step, emulator, { pull_request: 7 });
    expect(close.outputs).toMatchObject({ status: 'stopped', stopped_run_ids: trainingB.id });
    expect(liveIds(emulator)).toEqual([]);
    expect(requestsTo(emulator, 'GET', '/v1/loops/deployments').length).toBeGreaterThan(0);
  });

  test.concurrent(
    'two unknown deployments are never one: an SDK run on its own deployment is neither reused nor stopped',
    async ({ loops, step }) => {
      const emulator = await loops(NULL_IDS);
      const a = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
      await deactivateDirectly(emulator, a.outputs.run_id ?? '');
      const bystander = plant(emulator, { name: MODEL }); // a person's SDK run, fresh deployment
      const b = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B) });
      expect(b.outputs.reused_from_run_id).toBe('');
      const close = await stopStep(step, emulator, { pull_request: 7 });
      expect(close.outputs.stopped_run_ids).toBe(b.outputs.run_id);
      expect(liveIds(emulator)).toEqual([bystander.id]);
    },
  );

  test.concurrent(
    'the deployments list failing: the run is left as it is, and the summaries say continuations could not be checked',
    async ({ loops, step }) => {
      const emulator = await loops(NULL_IDS);
      const a = await step({ inputs: launchInputs(emulator, { warm_start: false }), ...pr(7, SHA.A) });
      const training = continueRun(emulator, a.outputs.run_id ?? '');
      emulator.fault({ method: 'GET', path: '/v1/loops/deployments', kind: 'status', status: 500, times: Infinity });
      const b = await step({ inputs: launchInputs(emulator, { warm_start: false }), ...pr(7, SHA.B) });
      expect(b.code, b.stdout).toBe(0);
      expect(b.summary).toContain(`Continuations could not be checked for run ${a.outputs.run_id}`);
      const close = await stopStep(step, emulator, { run_ids: a.outputs.run_id ?? '' });
      expect(close.stdout).toContain(`Continuations could not be checked for run ${a.outputs.run_id}`);
      expect(state(emulator, training.id)).toBe('ACTIVE');
    },
  );
});

/** Starts a launch that waits (polling every 60 s), resolves once it is waiting; `done` is the step. */
async function waitingLaunch(step: (o: RunnerOptions) => Promise<Step>, emulator: Emulator) {
  let child: ChildProcess | undefined;
  let seen = '';
  let onWaiting: () => void = () => undefined;
  const waiting = new Promise<void>((resolve) => (onWaiting = resolve));
  const done = step({
    inputs: launchInputs(emulator, { wait_for: 'sampler', poll_interval_seconds: 60, wait_timeout_seconds: 600 }),
    ...pr(7, SHA.A),
    timeoutMs: 30_000,
    onSpawn: (c) => (child = c),
    onStdout: (text) => {
      seen += text;
      if (seen.includes('Waiting up to')) onWaiting();
    },
  });
  await waiting;
  const runId = /Created run (\w+)/.exec(seen)?.[1] ?? '';
  return { done, runId, cancel: () => child?.kill('SIGINT') };
}

describe('7. a cancelled step never deactivates a run another push has taken over', () => {
  const SLOW = { samplerTimeline: [{ status: 'DEPLOYING', ms: 120_000 }, { status: 'ACTIVE' }] };

  test.concurrent(
    'push B warm-starts onto waiting push A, then A is cancelled: A looks, finds its run INACTIVE, deactivates nothing',
    async ({ loops, step }) => {
      const emulator = await loops(SLOW);
      const a = await waitingLaunch(step, emulator);
      const b = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B) });
      expect(b.outputs.reused_from_run_id).toBe(a.runId);
      a.cancel();
      const cancelled = await a.done;
      expect(cancelled.outputs.status).toBe('cancelled');
      expect(cancelled.stdout).toContain(`Run ${a.runId} was already stopped (status cancelled); not deactivated again`);
      expect(deactivations(emulator)).toEqual([]);
      expect(state(emulator, b.outputs.run_id)).toBe('ACTIVE');
      expect(
        emulator
          .deployments()
          .find((d) => d.id === b.outputs.deployment_id)
          ?.gpu.at(-1)?.to,
      ).toBeUndefined();
    },
  );

  test.concurrent('when that look fails, the run is deactivated blind rather than left running', async ({ loops, step }) => {
    const emulator = await loops(SLOW);
    const a = await waitingLaunch(step, emulator);
    emulator.fault({ method: 'GET', path: `/v1/loops/runs/${a.runId}`, kind: 'status', status: 500, times: Infinity });
    a.cancel();
    const cancelled = await a.done;
    expect(cancelled.outputs.status).toBe('cancelled');
    expect(deactivations(emulator)).toEqual([a.runId]);
    expect(requestsTo(emulator, 'GET', `/v1/loops/runs/${a.runId}`).length).toBeGreaterThan(0);
  });
});

describe('8. the stop action accounts for every run named in run_ids', () => {
  test.concurrent('live → stopped, INACTIVE → already stopped, gone → already stopped, each in exactly one list', async ({ loops, step }) => {
    const emulator = await loops();
    const live = plant(emulator, { name: ourName('pr7', 'aaaaaaa') }).id;
    const inactive = plant(emulator, { name: ourName('pr7', 'bbbbbbb') }).id;
    await deactivateDirectly(emulator, inactive);
    const result = await stopStep(step, emulator, { run_ids: `${live} ${inactive} nosuchrun` });
    expect(result.code, result.stdout).toBe(0);
    expect(ids(result.outputs.stopped_run_ids)).toEqual([live]);
    expect(ids(result.outputs.already_stopped_run_ids)).toEqual(ids(`${inactive} nosuchrun`));
    expect(result.outputs.failed_run_ids).toBe('');
    const all = ['stopped_run_ids', 'already_stopped_run_ids', 'failed_run_ids'].flatMap((k) => ids(result.outputs[k]));
    expect(all.sort()).toEqual(ids(`${live} ${inactive} nosuchrun`));
  });

  test.concurrent("older_than_minutes never drops a run named in run_ids; it narrows only the pull request's runs", async ({ loops, step }) => {
    const emulator = await loops();
    const now = Date.now();
    const young = plant(emulator, { name: ourName('pr7', 'aaaaaaa') }).id;
    const youngOfPr = plant(emulator, { name: ourName('pr7', 'bbbbbbb', '0123abcd.89abcdef') }).id;
    const oldOfPr = plant(emulator, { name: ourName('pr7', 'ccccccc', '0123abcd.fedcba98'), createdAt: now - 120 * MINUTE }).id;
    const alone = await stopStep(step, emulator, { run_ids: young, older_than_minutes: 60 });
    expect(alone.outputs).toMatchObject({ status: 'stopped', stopped_run_ids: young });
    const both = await stopStep(step, emulator, { pull_request: 7, older_than_minutes: 60 });
    expect(both.outputs).toMatchObject({ status: 'stopped', stopped_run_ids: oldOfPr });
    expect(state(emulator, youngOfPr)).toBe('ACTIVE');
  });
});

describe('9. after an ambiguous create, a dead run of the same name is never adopted', () => {
  for (const dead of ['INACTIVE', 'sampler DEPLOY_FAILED'] as const) {
    test.concurrent(
      `a fixed run_name in a shared session, its earlier run ${dead} within the slack: the create is re-sent`,
      async ({ loops, step }) => {
        const emulator = await loops();
        const session = emulator.createSession();
        // The earlier attempt's run, made (on the server's clock) just as this step begins.
        const earlier = plant(emulator, { name: 'nightly-finetune', sessionId: session, createdAt: Date.now() + 1500 }).id;
        if (dead === 'INACTIVE') await deactivateDirectly(emulator, earlier);
        else emulator.setSamplerStatus(earlier, 'DEPLOY_FAILED');
        emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 503, times: 1 });
        const result = await step({
          inputs: launchInputs(emulator, { session_id: session, run_name: 'nightly-finetune', max_retries: 2, request_timeout_seconds: 2 }),
        });
        expect(result.code, result.stdout).toBe(0);
        expect(result.outputs.status).toBe('launched');
        expect(result.outputs.run_id).not.toBe(earlier);
        expect(creates(emulator)).toHaveLength(2);
        expect(result.stdout).toContain(`not adopting ${earlier}`);
      },
    );
  }
});

describe('10. the rules a planted bug once left unpinned', () => {
  test.concurrent('warm start takes the newest live run of the leg from an older push, not an older one', async ({ loops, step, github }) => {
    const gh = await github();
    const emulator = await loops();
    const idle = launchInputs(emulator, { warm_start: false, supersede: false });
    const a = await step({ inputs: idle, ...pr(7, SHA.A, { github: gh }) });
    const b = await step({ inputs: idle, ...pr(7, SHA.B, { github: gh }) });
    expect(liveIds(emulator)).toEqual(ids(`${a.outputs.run_id} ${b.outputs.run_id}`));
    const c = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.C, { github: gh }) });
    expect(c.outputs.reused_from_run_id).toBe(b.outputs.run_id);
    expect(c.outputs.deployment_id).toBe(b.outputs.deployment_id);
  });

  test.concurrent("a re-run adopts its own commit's run, never another commit's", async ({ loops, step }) => {
    const emulator = await loops();
    const idle = launchInputs(emulator, { warm_start: false, supersede: false });
    const a = await step({ inputs: idle, ...pr(7, SHA.A) });
    const b = await step({ inputs: idle, ...pr(7, SHA.B) });
    const rerunA = await step({ inputs: idle, ...pr(7, SHA.A, { attempt: 2 }) });
    const rerunB = await step({ inputs: idle, ...pr(7, SHA.B, { attempt: 2 }) });
    expect(rerunA.outputs).toMatchObject({ adopted: 'true', run_id: a.outputs.run_id });
    expect(rerunB.outputs).toMatchObject({ adopted: 'true', run_id: b.outputs.run_id });
    expect(creates(emulator)).toHaveLength(2);
    expect(requestsTo(emulator, 'POST', /deactivate$/)).toEqual([]);
  });
});
