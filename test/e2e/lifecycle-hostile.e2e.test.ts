// End to end, a hostile tester's look at a run's life in a pull request: runs that only look like
// this step's are never superseded, reused or adopted; a continuation is never taken from a run
// it does not continue; a late supersede never tears down this run's deployment; legs the inputs
// cannot tell apart are named; a runs list the key may not read leaves the launch standing.

import { describe, expect } from 'vitest';
import type { Emulator, LoopsRun } from '../emulator/server.js';
import { annotations } from '../support/e2e.js';
import {
  SHA,
  continueRun,
  creates,
  deactivations,
  launchInputs,
  lifeTest as test,
  liveIds,
  mustRun,
  nameOf,
  nameParts,
  plant,
  pr,
  state,
} from './life.js';

/** Runs named almost like `ours` (a default name of PR 7, commit A), each live on its own deployment. */
function plantLookAlikes(emulator: Emulator, ours: string): Record<string, LoopsRun> {
  const p = nameParts(ours);
  const [slot = '', leg = ''] = p.slotLeg.split('.');
  const names = {
    "another owner's same-named repo": nameOf({ ...p, owner: 'evil-fork' }),
    'a user-named run': 'finetune pr7 by hand',
    'the API default name (an SDK run of its own)': 'Qwen/Qwen3-8B',
    'a bad sha (8 hex)': nameOf({ ...p, sha7: 'cccccccc' }),
    'a bad sha (not hex)': nameOf({ ...p, sha7: 'zzzzzzz' }),
    'a bad leg (7 hex)': nameOf({ ...p, slotLeg: `${slot}.${leg.slice(1)}` }),
    'a bad attempt (a0)': nameOf({ ...p, attempt: 'a0' }),
    'a bad attempt (a01)': nameOf({ ...p, attempt: 'a01' }),
    'an extra path segment': nameOf({ ...p, place: 'pr7/x' }),
    'another pull request': nameOf({ ...p, place: 'pr8' }),
    'a branch': nameOf({ ...p, place: '@main' }),
    // Another workflow, job or step: another slot, hence another leg (the leg hashes the slot).
    'another slot': nameOf({ ...p, slotLeg: '0000aaaa.1111bbbb' }),
  };
  return Object.fromEntries(Object.entries(names).map(([why, name]) => [why, plant(emulator, { name })]));
}

describe('4. hostile: what is never superseded, reused or adopted', () => {
  test.concurrent(
    'runs that only look like ours (another owner, user-named, bad sha/leg/attempt, other PR, slot or branch) are never superseded or reused',
    async ({ loops, step }) => {
      const emulator = await loops();
      const first = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
      expect(first.code, first.stdout).toBe(0);
      const rA = first.outputs.run_id ?? '';
      // Planted after rA: newer than it, so a warm start that took any of them would take it first.
      const alikes = plantLookAlikes(emulator, first.outputs.run_name ?? '');
      const second = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B) });
      expect(second.code, second.stdout).toBe(0);
      expect(second.outputs).toMatchObject({ reused_from_run_id: rA, superseded_run_ids: '' });
      for (const [why, run] of Object.entries(alikes)) expect(state(emulator, run.id), why).toBe('ACTIVE');
      expect(deactivations(emulator)).toEqual([]);

      // The same with warm_start false: the sweep sees them all live, and still leaves them alone.
      const third = await step({ inputs: launchInputs(emulator, { warm_start: false }), ...pr(7, SHA.C) });
      expect(third.code, third.stdout).toBe(0);
      expect(third.outputs).toMatchObject({ reused_from_run_id: '', superseded_run_ids: second.outputs.run_id });
      for (const [why, run] of Object.entries(alikes)) expect(state(emulator, run.id), why).toBe('ACTIVE');
      expect(deactivations(emulator)).toEqual([second.outputs.run_id]);
    },
  );

  test.concurrent(
    'a re-run never adopts a look-alike of its own run (same leg, commit and attempt 1, but another owner or a bad name)',
    async ({ loops, step }) => {
      const emulator = await loops();
      // Attempt 1 left no run of its own (a dry run names it and sends nothing); only look-alikes are live.
      const first = await step({ inputs: launchInputs(emulator, { dry_run: true }), ...pr(7, SHA.A) });
      expect(emulator.requests).toEqual([]);
      const alikes = plantLookAlikes(emulator, first.outputs.run_name ?? '');
      const second = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A, { attempt: 2 }) });
      expect(second.code, second.stdout).toBe(0);
      expect(second.outputs.adopted).toBe('false');
      expect(Object.values(alikes).map((r) => r.id)).not.toContain(second.outputs.run_id);
      expect(creates(emulator)).toHaveLength(1);
      for (const [why, run] of Object.entries(alikes)) expect(state(emulator, run.id), why).toBe('ACTIVE');
    },
  );

  test.concurrent(
    "a late supersede never kills a run on this run's deployment (its training script attached before the sweep)",
    async ({ loops, step }) => {
      const emulator = await loops();
      const first = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
      const rA = first.outputs.run_id ?? '';
      // Between this step's create and its sweep, its training script attaches (SDK reuse of its session).
      let continuation: LoopsRun | undefined;
      emulator.fault({
        method: 'GET',
        path: '/v1/loops/runs',
        kind: 'transform',
        times: Infinity,
        transform: (body) => {
          const mine = emulator.runs().find((r) => r.name.includes('/bbbbbbb/'));
          if (!mine || continuation) return body;
          continuation = continueRun(emulator, mine);
          return { runs: emulator.runs() };
        },
      });
      const second = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B) });
      expect(second.code, second.stdout).toBe(0);
      expect(second.outputs.reused_from_run_id).toBe(rA);
      expect(continuation?.deployment_id).toBe(second.outputs.deployment_id);
      expect(second.outputs.superseded_run_ids).toBe('');
      expect(state(emulator, continuation?.id)).toBe('ACTIVE');
      expect(deactivations(emulator)).toEqual([]);
    },
  );

  // A continuation belongs to the newest of our runs on its deployment (here this commit's sibling
  // leg, which warm-started there), never to an older run that was once on it.
  test("a continuation of a sibling leg's warm-started run (same commit) is never superseded", async ({ loops, step }) => {
    const emulator = await loops();
    const leg2 = { lora_rank: 32 };
    const a2 = await step({ inputs: launchInputs(emulator, leg2), ...pr(7, SHA.A) });
    const b2 = await step({ inputs: launchInputs(emulator, leg2), ...pr(7, SHA.B) });
    expect(b2.outputs.reused_from_run_id).toBe(a2.outputs.run_id);
    const trainingB2 = continueRun(emulator, b2.outputs.run_id ?? '');
    // Leg 1 of the same commit B starts later (a matrix leg waiting for a runner).
    const b1 = await step({ inputs: launchInputs(emulator, { lora_rank: 16 }), ...pr(7, SHA.B) });
    expect(b1.code, b1.stdout).toBe(0);
    expect(state(emulator, trainingB2.id), "leg 2's training on commit B").toBe('ACTIVE');
    expect(b1.outputs.superseded_run_ids).toBe('');
  });

  test("a re-run warm-starts from the continuation of this commit's own earlier attempt: one live deployment serves the leg", async ({
    loops,
    step,
  }) => {
    const emulator = await loops();
    const a = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
    const b = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B) });
    expect(b.outputs.reused_from_run_id).toBe(a.outputs.run_id);
    const trainingB = continueRun(emulator, b.outputs.run_id ?? '');
    const rerun = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B, { attempt: 2 }) });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(rerun.outputs).toMatchObject({ adopted: 'false', reused_from_run_id: trainingB.id });
    expect(rerun.outputs.deployment_id).toBe(b.outputs.deployment_id);
    expect(state(emulator, trainingB.id), "attempt 1's training handed its deployment over").toBe('INACTIVE');
    expect(liveIds(emulator)).toEqual([rerun.outputs.run_id]);
    expect(deactivations(emulator)).toEqual([]);
  });

  test.concurrent(
    'a second launch with the same inputs at the same commit (a matrix leg the inputs cannot tell apart, or a second workflow run) adopts the first run and says leg_key',
    async ({ loops, step }) => {
      const emulator = await loops();
      const one = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
      const two = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
      expect(annotations(one.stdout, 'warning')).toBe('');
      expect(two.outputs.run_name).toBe(one.outputs.run_name);
      expect(two.outputs).toMatchObject({ adopted: 'true', run_id: one.outputs.run_id });
      expect(annotations(two.stdout, 'warning')).toMatch(/run \w+ has this step's own name.*leg_key/s);
      expect(creates(emulator)).toHaveLength(1);
      expect(liveIds(emulator)).toEqual([one.outputs.run_id]);
      // One run per leg and commit: the next push knows which run to warm-start from.
      const next = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B) });
      expect(next.code, next.stdout).toBe(0);
      expect(next.outputs.reused_from_run_id).toBe(one.outputs.run_id);
    },
  );
});

describe('5. the runs list answering 403 on launch', () => {
  test.concurrent('a warning, and the launch still succeeds: no warm start, no supersede, nothing deactivated', async ({ loops, step }) => {
    const emulator = await loops();
    const first = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
    const rA = first.outputs.run_id ?? '';
    emulator.fault({ method: 'GET', path: '/v1/loops/runs', kind: 'status', status: 403, times: Infinity, body: { detail: 'Forbidden' } });
    const second = await step({ inputs: launchInputs(emulator, { wait_for: 'sampler' }), ...pr(7, SHA.B) });
    expect(second.code, second.stdout).toBe(0);
    expect(second.outputs).toMatchObject({ status: 'ready', adopted: 'false', reused_from_run_id: '', superseded_run_ids: '' });
    const warnings = annotations(second.stdout, 'warning');
    expect(warnings).toMatch(/Could not list runs, so warm_start and adopt_on_rerun were skipped: .*403/);
    expect(warnings).toMatch(/supersede: could not list runs, so older runs of this pull request were left alone: .*403/);
    expect(annotations(second.stdout)).toBe('');
    expect(creates(emulator)[1]).not.toHaveProperty('reuse_from_run_id');
    expect(liveIds(emulator)).toEqual([rA, second.outputs.run_id].sort());
    expect(mustRun(emulator, second.outputs.run_id).deployment_id).not.toBe(first.outputs.deployment_id);
  });
});

describe('the warm start source during its handover', () => {
  test.concurrent(
    'a source still looking live right after the create (the handover not visible yet, no deployment_id) is not superseded then',
    async ({ loops, step }) => {
      // Runs carry no deployment_id (the API allows it), so "on this run's deployment" cannot be told.
      const emulator = await loops({ deploymentIdOnRuns: false });
      const first = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
      const source = first.outputs.run_id ?? '';
      // Right after the second push's create, the list and the run itself still show the source live.
      const stale = (run: { id: string; status: { name: string } }) => (run.id === source ? { ...run, status: { name: 'ACTIVE' } } : run);
      emulator.fault({
        method: 'GET',
        path: '/v1/loops/runs',
        kind: 'transform',
        transform: (body) => ({ runs: (body as { runs: Array<{ id: string; status: { name: string } }> }).runs.map(stale) }),
        times: 2,
      });
      emulator.fault({
        method: 'GET',
        path: `/v1/loops/runs/${source}`,
        kind: 'transform',
        transform: (body) => ({ run: stale((body as { run: { id: string; status: { name: string } } }).run) }),
      });
      const second = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B) });
      expect(second.code, second.stdout).toBe(0);
      expect(second.outputs.reused_from_run_id).toBe(source);
      expect(deactivations(emulator)).toEqual([]);
      expect(state(emulator, second.outputs.run_id)).toBe('ACTIVE');
    },
  );
});

describe('a warm start that did not take', () => {
  test.concurrent(
    "the source was an older run's continuation and the server started fresh: it is superseded at the end of the step",
    async ({ loops, step }) => {
      const emulator = await loops();
      // replicas 2: the API provisions fresh infrastructure instead of reusing (best effort).
      const inputs = launchInputs(emulator, { replicas: 2 });
      const first = await step({ inputs, ...pr(7, SHA.A) });
      const training = continueRun(emulator, first.outputs.run_id ?? '');
      const second = await step({ inputs, ...pr(7, SHA.B) });
      expect(second.code, second.stdout).toBe(0);
      expect(second.outputs.reused_from_run_id).toBe(training.id);
      expect(second.outputs.deployment_id).not.toBe(training.deployment_id);
      expect(second.outputs.superseded_run_ids).toBe(training.id);
      expect(state(emulator, training.id)).toBe('INACTIVE');
      expect(liveIds(emulator)).toEqual([second.outputs.run_id]);
    },
  );
});
