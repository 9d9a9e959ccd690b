// End to end, the run's life in a pull request (SPEC "The run's life in a pull request"): two
// pushes (warm start or supersede), a matrix of two legs over two pushes, and re-runs (adoption).
// Every step is the committed bundle run as a runner runs it, against the emulator; the pull
// request comment goes to a fake GitHub on loopback.

import { describe, expect } from 'vitest';
import { requestsTo } from '../support/e2e.js';
import { runPostStep } from '../support/runner.js';
import {
  SHA,
  commentInputs,
  commentsOn,
  continueRun,
  creates,
  deactivations,
  ids,
  launchInputs,
  lifeTest as test,
  liveIds,
  mustRun,
  nameParts,
  pr,
  runsTable,
  state,
  stopInputs,
} from './life.js';

const THIS_RUN = '**live** (this run)';

describe('1. two pushes of a pull request', () => {
  test.concurrent(
    "warm start: the second push takes over the first run's deployment, deactivates nothing, and the comment shows both runs",
    async ({ loops, step, github }) => {
      const gh = await github();
      const emulator = await loops();
      const inputs = launchInputs(emulator, commentInputs);
      const first = await step({ inputs, ...pr(7, SHA.A, { apiUrl: gh.url }) });
      expect(first.code, first.stdout).toBe(0);
      expect(first.outputs).toMatchObject({ status: 'launched', adopted: 'false', reused_from_run_id: '', superseded_run_ids: '' });
      const r1 = first.outputs.run_id ?? '';
      expect(runsTable(commentsOn(gh, 7)[0] ?? '')).toEqual({ [r1]: ['aaaaaaa', THIS_RUN] });

      const second = await step({ inputs, ...pr(7, SHA.B, { apiUrl: gh.url }) });
      expect(second.code, second.stdout).toBe(0);
      const r2 = second.outputs.run_id ?? '';
      expect(second.outputs).toMatchObject({ status: 'launched', adopted: 'false', reused_from_run_id: r1, superseded_run_ids: '' });
      expect(creates(emulator)[0]).not.toHaveProperty('reuse_from_run_id');
      expect(creates(emulator)[1]).toMatchObject({ name: second.outputs.run_name, reuse_from_run_id: r1 });
      expect(second.stdout).toContain(`warm_start: asking to reuse the infrastructure of run ${r1}`);
      // The reuse took the GPUs over: the first run went INACTIVE without any deactivation.
      expect(mustRun(emulator, r2).deployment_id).toBe(first.outputs.deployment_id);
      expect([state(emulator, r1), state(emulator, r2)]).toEqual(['INACTIVE', 'ACTIVE']);
      expect(deactivations(emulator)).toEqual([]);
      // One comment, updated in place, with both runs.
      const comments = commentsOn(gh, 7);
      expect(comments).toHaveLength(1);
      expect(comments[0]).toContain('### Baseten Loops run for bbbbbbb');
      expect(runsTable(comments[0] ?? '')).toEqual({ [r2]: ['bbbbbbb', THIS_RUN], [r1]: ['aaaaaaa', 'stopped'] });
    },
  );

  test.concurrent(
    'warm_start false: the second push starts cold and supersedes the first run (superseded_run_ids), shown in the comment',
    async ({ loops, step, github }) => {
      const gh = await github();
      const emulator = await loops();
      const inputs = launchInputs(emulator, { ...commentInputs, warm_start: false });
      const first = await step({ inputs, ...pr(7, SHA.A, { apiUrl: gh.url }) });
      expect(first.code, first.stdout).toBe(0);
      const r1 = first.outputs.run_id ?? '';
      const second = await step({ inputs, ...pr(7, SHA.B, { apiUrl: gh.url }) });
      expect(second.code, second.stdout).toBe(0);
      const r2 = second.outputs.run_id ?? '';
      expect(second.outputs).toMatchObject({ status: 'launched', reused_from_run_id: '', superseded_run_ids: r1 });
      expect(creates(emulator)[1]).not.toHaveProperty('reuse_from_run_id');
      expect(mustRun(emulator, r2).deployment_id).not.toBe(first.outputs.deployment_id);
      expect(deactivations(emulator)).toEqual([r1]);
      expect(liveIds(emulator)).toEqual([r2]);
      expect(second.stdout).toContain(`supersede: run ${r1} of commit aaaaaaa is superseded by run ${r2}; deactivated`);
      const comments = commentsOn(gh, 7);
      expect(comments).toHaveLength(1);
      expect(runsTable(comments[0] ?? '')).toEqual({ [r2]: ['bbbbbbb', THIS_RUN], [r1]: ['aaaaaaa', 'superseded'] });
    },
  );
});

describe('2. a matrix of two legs (they differ by lora_rank) over two pushes', () => {
  const LEGS = [{ lora_rank: 16 }, { lora_rank: 32 }] as const;

  test.concurrent(
    'each leg warm-starts from its own leg of the older push only (supersede off, so no sweep races a warm start)',
    async ({ loops, step }) => {
      const emulator = await loops();
      const inputs = (leg: (typeof LEGS)[number]) => launchInputs(emulator, { ...leg, supersede: false });
      const older = await Promise.all(LEGS.map((leg) => step({ inputs: inputs(leg), ...pr(7, SHA.A) })));
      const newer = await Promise.all(LEGS.map((leg) => step({ inputs: inputs(leg), ...pr(7, SHA.B) })));
      for (const s of [...older, ...newer]) expect(s.code, s.stdout).toBe(0);
      // One slot, two legs.
      const names = [...older, ...newer].map((s) => nameParts(s.outputs.run_name).slotLeg.split('.'));
      expect(new Set(names.map(([slot]) => slot)).size).toBe(1);
      expect(new Set(names.map(([, leg]) => leg)).size).toBe(2);
      for (const i of [0, 1]) {
        const [was, is] = [older[i]?.outputs ?? {}, newer[i]?.outputs ?? {}];
        expect(is.reused_from_run_id).toBe(was.run_id);
        expect(is.deployment_id).toBe(was.deployment_id);
        expect(creates(emulator).find((b) => b.name === is.run_name)).toMatchObject({ reuse_from_run_id: was.run_id });
      }
      expect(liveIds(emulator)).toEqual(newer.map((s) => s.outputs.run_id).sort());
      expect(deactivations(emulator)).toEqual([]);
    },
  );

  test.concurrent(
    "with the defaults and the newer push's legs one after the other: leg 1 warm-starts and supersedes the slot's older runs; leg 2 starts cold and never touches leg 1",
    async ({ loops, step }) => {
      const emulator = await loops();
      const inputs = (leg: (typeof LEGS)[number]) => launchInputs(emulator, leg);
      const older = await Promise.all(LEGS.map((leg) => step({ inputs: inputs(leg), ...pr(7, SHA.A) })));
      for (const s of older) expect(s.outputs.superseded_run_ids, 'matrix siblings of one commit never supersede each other').toBe('');
      const [a1, a2] = older.map((s) => s.outputs.run_id ?? '');
      const b1 = await step({ inputs: inputs(LEGS[0]), ...pr(7, SHA.B) });
      expect(b1.code, b1.stdout).toBe(0);
      // Supersede covers the slot (SPEC: "same PR and slot"): the older push's other leg goes too.
      expect(b1.outputs).toMatchObject({ reused_from_run_id: a1, superseded_run_ids: a2 });
      const b2 = await step({ inputs: inputs(LEGS[1]), ...pr(7, SHA.B) });
      expect(b2.code, b2.stdout).toBe(0);
      // Its leg has no live run left; its sibling's run (same commit) is never a candidate nor superseded.
      expect(b2.outputs).toMatchObject({ reused_from_run_id: '', superseded_run_ids: '' });
      expect(creates(emulator).find((b) => b.name === b2.outputs.run_name)).not.toHaveProperty('reuse_from_run_id');
      expect(liveIds(emulator)).toEqual([b1.outputs.run_id, b2.outputs.run_id].sort());
      expect(deactivations(emulator)).toEqual([a2]);
    },
  );

  test.concurrent(
    "warm_start false: each push supersedes the older push's runs of its slot and never a sibling leg of its own commit",
    async ({ loops, step }) => {
      const emulator = await loops();
      const inputs = (leg: (typeof LEGS)[number]) => launchInputs(emulator, { ...leg, warm_start: false });
      const older = await Promise.all(LEGS.map((leg) => step({ inputs: inputs(leg), ...pr(7, SHA.A) })));
      for (const s of older) expect(s.outputs.superseded_run_ids).toBe('');
      const newer = await Promise.all(LEGS.map((leg) => step({ inputs: inputs(leg), ...pr(7, SHA.B) })));
      for (const s of newer) expect(s.code, s.stdout).toBe(0);
      const olderIds = older.map((s) => s.outputs.run_id ?? '').sort();
      const newerIds = newer.map((s) => s.outputs.run_id ?? '').sort();
      // Between them the two legs superseded both older runs (whichever got there first), nothing else.
      expect([...new Set(newer.flatMap((s) => ids(s.outputs.superseded_run_ids)))].sort()).toEqual(olderIds);
      expect(liveIds(emulator)).toEqual(newerIds);
      expect([...new Set(deactivations(emulator))].sort()).toEqual(olderIds);
      // A third push: the same again, one push later.
      const third = await Promise.all(LEGS.map((leg) => step({ inputs: inputs(leg), ...pr(7, SHA.C) })));
      expect([...new Set(third.flatMap((s) => ids(s.outputs.superseded_run_ids)))].sort()).toEqual(newerIds);
      expect(liveIds(emulator)).toEqual(third.map((s) => s.outputs.run_id ?? '').sort());
    },
  );
});

describe('3. re-runs', () => {
  test.concurrent(
    "attempt 2 adopts attempt 1's live run of the same leg and commit: nothing created, adopted true, and it waits on it",
    async ({ loops, step }) => {
      const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 3000 }, { status: 'ACTIVE' }] });
      const first = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
      expect(first.outputs.status).toBe('launched');
      const r1 = first.outputs.run_id ?? '';
      const before = emulator.requests.length;
      const second = await step({ inputs: launchInputs(emulator, { wait_for: 'sampler' }), ...pr(7, SHA.A, { attempt: 2 }) });
      expect(second.code, second.stdout).toBe(0);
      expect(second.outputs).toMatchObject({
        adopted: 'true',
        run_id: r1,
        run_name: first.outputs.run_name,
        session_id: first.outputs.session_id,
        session_created: 'false',
        status: 'ready',
        sampler_status: 'ACTIVE',
      });
      const during = emulator.requests.slice(before);
      expect(during.filter((r) => r.method === 'POST')).toEqual([]);
      expect(during.filter((r) => r.method === 'GET' && r.path === `/v1/loops/runs/${r1}`).length).toBeGreaterThanOrEqual(2);
      expect(second.stdout).toContain(`adopt_on_rerun: adopted run ${r1}`);
      expect(liveIds(emulator)).toEqual([r1]);
    },
  );

  test.concurrent('after a failed attempt (its run INACTIVE) attempt 2 creates a new run', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'DEPLOY_FAILED' }] });
    const first = await step({ inputs: launchInputs(emulator, { wait_for: 'sampler' }), ...pr(7, SHA.A) });
    expect(first.code).toBe(1);
    expect(first.outputs.status).toBe('failed');
    const r1 = first.outputs.run_id ?? '';
    expect(state(emulator, r1)).toBe('INACTIVE');
    emulator.configure({ samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'ACTIVE' }] });
    const second = await step({ inputs: launchInputs(emulator, { wait_for: 'sampler' }), ...pr(7, SHA.A, { attempt: 2 }) });
    expect(second.code, second.stdout).toBe(0);
    expect(second.outputs).toMatchObject({ adopted: 'false', status: 'ready', reused_from_run_id: '' });
    expect(second.outputs.run_id).not.toBe(r1);
    expect(nameParts(second.outputs.run_name).attempt).toBe('a2');
    expect(creates(emulator)).toHaveLength(2);
    expect(liveIds(emulator)).toEqual([second.outputs.run_id]);
  });

  test.concurrent("adopt_on_rerun false: attempt 2 creates its own run and leaves attempt 1's (same commit) alone", async ({ loops, step }) => {
    const emulator = await loops();
    const first = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
    const r1 = first.outputs.run_id ?? '';
    const second = await step({ inputs: launchInputs(emulator, { adopt_on_rerun: false }), ...pr(7, SHA.A, { attempt: 2 }) });
    expect(second.code, second.stdout).toBe(0);
    expect(second.outputs).toMatchObject({ adopted: 'false', reused_from_run_id: '', superseded_run_ids: '' });
    expect(second.outputs.run_id).not.toBe(r1);
    expect(creates(emulator)).toHaveLength(2);
    expect(creates(emulator)[1]).not.toHaveProperty('reuse_from_run_id');
    expect(liveIds(emulator)).toEqual([r1, second.outputs.run_id].sort());
    expect(deactivations(emulator)).toEqual([]);
  });

  test.concurrent(
    'a run_name of your own opts out of supersede, warm start and adoption; stop by run id still works',
    async ({ loops, step }) => {
      const emulator = await loops();
      const inputs = launchInputs(emulator, { run_name: 'my-experiment' });
      const first = await step({ inputs, ...pr(7, SHA.A) });
      const second = await step({ inputs, ...pr(7, SHA.B) });
      const rerun = await step({ inputs, ...pr(7, SHA.B, { attempt: 2 }) });
      for (const s of [first, second, rerun]) {
        expect(s.code, s.stdout).toBe(0);
        expect(s.outputs).toMatchObject({ run_name: 'my-experiment', adopted: 'false', reused_from_run_id: '', superseded_run_ids: '' });
      }
      const all = [first, second, rerun].map((s) => s.outputs.run_id ?? '');
      expect(new Set(all).size).toBe(3);
      for (const body of creates(emulator)) expect(body).not.toHaveProperty('reuse_from_run_id');
      expect(liveIds(emulator)).toEqual([...all].sort());
      expect(deactivations(emulator)).toEqual([]);
      // Nothing looked for runs to reuse, adopt or supersede.
      expect(requestsTo(emulator, 'GET', '/v1/loops/runs')).toEqual([]);

      const stop = await step({ action: 'stop', inputs: stopInputs(emulator, { run_ids: all[0] ?? '' }), ...pr(7, SHA.B) });
      expect(stop.code, stop.stdout).toBe(0);
      expect(stop.outputs).toMatchObject({ status: 'stopped', selected_run_ids: all[0], stopped_run_ids: all[0] });
      expect(liveIds(emulator)).toEqual([all[1], all[2]].sort());
    },
  );
});

describe('4. the post step and a training script in the same job', () => {
  test.concurrent(
    'deactivate_at_job_end: once the training script has continued the run, the post step stops the continuation',
    async ({ loops, step }) => {
      const emulator = await loops();
      const inputs = launchInputs(emulator, { deactivate_at_job_end: true });
      const main = await step({ inputs, ...pr(7, SHA.A) });
      expect(main.code, main.stdout).toBe(0);
      const training = continueRun(emulator, main.outputs.run_id ?? '');
      const post = await runPostStep(main, { inputs });
      expect(post.code, post.stdout).toBe(0);
      expect(post.stdout).toContain(`Deactivated run ${training.id} (continuing run ${main.outputs.run_id}) at the end of the job`);
      expect(state(emulator, training.id)).toBe('INACTIVE');
      expect(liveIds(emulator)).toEqual([]);
      expect(deactivations(emulator)).toEqual([training.id]);
    },
  );
});
