// End to end, the stop action (stop/action.yml, dist/stop) run as a runner runs it, with its own
// action.yml's defaults: by run id, by pull request, by age on the server's clock, dry run,
// idempotence (twice, 404, 409, found INACTIVE), a failure that must turn the step red, the
// refusal to run without a selector, the event's pull request, and a runs list it may not read.
// Then what a run becomes after its launch: a training script's continuation is stopped with the
// run it continues, a newer push's warm-started run is never mistaken for an older run's
// continuation, two stop steps on the same runs both succeed, and the launch comment's runs
// table learns what was stopped.

import { describe, expect } from 'vitest';
import type { Emulator } from '../emulator/server.js';
import { annotations, requestsTo } from '../support/e2e.js';
import {
  HOUR,
  MINUTE,
  SHA,
  commentInputs,
  commentsOn,
  continueRun,
  deactivateDirectly,
  deactivations,
  ids,
  launchInputs,
  lifeTest as test,
  liveIds,
  ourName,
  plant,
  pr,
  push,
  runsTable,
  state,
  stopStep as stop,
} from './life.js';

/** Runs of PR 7 (two commits), PR 8, another owner's same-named repo's PR 7, and two user-named runs. */
function plantPullRequests(emulator: Emulator) {
  const at = (name: string) => plant(emulator, { name }).id;
  return {
    pr7: [at(ourName('pr7', 'aaaaaaa')), at(ourName('pr7', 'bbbbbbb', '0123abcd.99999999'))],
    others: {
      pr8: at(ourName('pr8', 'aaaaaaa')),
      otherOwner: at(`evil-fork/finetune/pr7/aaaaaaa/0123abcd.4567cdef/a1`),
      userNamed: at('acme/finetune pr7 by hand'),
      sdkNamed: at('Qwen/Qwen3-8B'),
    },
  };
}

describe('6. the stop action', () => {
  test.concurrent(
    'by run id: the runs named (whatever their names), a run already gone counts as already stopped; nothing else',
    async ({ loops, step }) => {
      const emulator = await loops();
      const { pr7, others } = plantPullRequests(emulator);
      const [ours = '', user = '', gone] = [pr7[0], others.userNamed, 'gone404'];
      const result = await stop(step, emulator, { run_ids: `${ours},\n${user} ${gone}` });
      expect(result.code, result.stdout).toBe(0);
      expect(result.outputs).toMatchObject({ status: 'stopped', failed_run_ids: '', already_stopped_run_ids: gone });
      expect(ids(result.outputs.selected_run_ids)).toEqual([ours, user].sort());
      expect(ids(result.outputs.stopped_run_ids)).toEqual([ours, user].sort());
      expect(deactivations(emulator).sort()).toEqual([ours, user].sort());
      expect(liveIds(emulator)).toEqual([pr7[1], ...Object.values(others)].filter((id) => id !== user).sort());
      expect(result.summary).toContain('Status: stopped');
      for (const id of [ours, user, gone]) expect(result.summary).toContain(`<td>${id}</td>`);
      expect(result.summary).toContain('not found: already gone');
    },
  );

  test.concurrent(
    'by run id: one id that cannot be looked up (403) is reported failed; the other runs are still stopped',
    async ({ loops, step }) => {
      const emulator = await loops();
      const { pr7 } = plantPullRequests(emulator);
      const [ours = '', hidden] = [pr7[0], 'hidden403'];
      emulator.fault({
        method: 'GET',
        path: `/v1/loops/runs/${hidden}`,
        kind: 'status',
        status: 403,
        body: { detail: 'Forbidden' },
        times: Infinity,
      });
      const result = await stop(step, emulator, { run_ids: `${ours} ${hidden}` });
      expect(result.code).toBe(1);
      expect(result.outputs).toMatchObject({ status: 'partial', stopped_run_ids: ours, failed_run_ids: hidden });
      expect(deactivations(emulator)).toEqual([ours]);
      expect(annotations(result.stdout)).toMatch(/Could not stop hidden403: failed: could not look it up: .*HTTP 403/);
    },
  );

  test.concurrent(
    "by pull request: that PR's runs only (not another PR's, another owner's same-named repo's, or user-named runs)",
    async ({ loops, step }) => {
      const emulator = await loops();
      const { pr7, others } = plantPullRequests(emulator);
      const result = await stop(step, emulator, { pull_request: 7 });
      expect(result.code, result.stdout).toBe(0);
      expect(result.outputs).toMatchObject({ status: 'stopped', failed_run_ids: '', already_stopped_run_ids: '' });
      expect(ids(result.outputs.selected_run_ids)).toEqual([...pr7].sort());
      expect(ids(result.outputs.stopped_run_ids)).toEqual([...pr7].sort());
      expect(deactivations(emulator).sort()).toEqual([...pr7].sort());
      expect(liveIds(emulator)).toEqual(Object.values(others).sort());
      expect(result.summary).toContain('pull request #7');
    },
  );

  test.concurrent.for([
    ['behind', -5 * HOUR],
    ['ahead of', 5 * HOUR],
  ] as const)(
    "by age: the server's clock hours %s the runner's, older_than_minutes still picks by the server's clock",
    async ([, offset], { loops, step }) => {
      const now = (): number => Date.now() + offset;
      const emulator = await loops({ now });
      const run = (name: string, ago: number) => plant(emulator, { name, createdAt: now() - ago }).id;
      const oldMain = run(ourName('@main', 'aaaaaaa'), 3 * HOUR);
      const oldPr7 = run(ourName('pr7', 'aaaaaaa'), 2 * HOUR);
      const newPr7 = run(ourName('pr7', 'bbbbbbb'), 10 * MINUTE);
      const newMain = run(ourName('@main', 'bbbbbbb'), 30 * MINUTE);
      const untouched = [newPr7, newMain, run('old by hand', 3 * HOUR), run('evil-fork/finetune/@main/aaaaaaa/0123abcd.4567cdef/a1', 3 * HOUR)];
      // A pull request and an age: that PR's old runs only.
      const byPr = await stop(step, emulator, { pull_request: 7, older_than_minutes: 60 });
      expect(byPr.code, byPr.stdout).toBe(0);
      expect(byPr.outputs).toMatchObject({ status: 'stopped', selected_run_ids: oldPr7, stopped_run_ids: oldPr7 });
      // The janitor: every run of this repository older than an hour.
      const janitor = await stop(step, emulator, { older_than_minutes: 60 });
      expect(janitor.code, janitor.stdout).toBe(0);
      expect(janitor.outputs).toMatchObject({ status: 'stopped', selected_run_ids: oldMain, stopped_run_ids: oldMain });
      expect(liveIds(emulator)).toEqual([...untouched].sort());
      expect(janitor.summary).toContain('this repository');
    },
  );

  test.concurrent(
    "by age without the server's clock (no Date header), the runner's 90 s ahead: a fresh run is never taken for an old one",
    async ({ loops, step }) => {
      const now = (): number => Date.now() - 90_000;
      const emulator = await loops({ now, dateHeader: false });
      const fresh = plant(emulator, { name: ourName('@main', 'bbbbbbb'), createdAt: now() - 30_000 }).id;
      const old = plant(emulator, { name: ourName('@main', 'aaaaaaa'), createdAt: now() - 10 * MINUTE }).id;
      const janitor = await stop(step, emulator, { older_than_minutes: 1 });
      expect(janitor.code, janitor.stdout).toBe(0);
      expect(janitor.outputs).toMatchObject({ selected_run_ids: old, stopped_run_ids: old });
      expect(liveIds(emulator)).toEqual([fresh]);
      expect(emulator.requests.length).toBeGreaterThan(0);
    },
  );

  test.concurrent('dry_run: lists what would be stopped (selected_run_ids), stops nothing, status dry_run', async ({ loops, step }) => {
    const emulator = await loops();
    const { pr7, others } = plantPullRequests(emulator);
    const result = await stop(step, emulator, { pull_request: 7, dry_run: true });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.status).toBe('dry_run');
    expect(ids(result.outputs.selected_run_ids)).toEqual([...pr7].sort());
    expect(result.outputs.stopped_run_ids ?? '').toBe('');
    expect(deactivations(emulator)).toEqual([]);
    expect(liveIds(emulator)).toEqual([...pr7, ...Object.values(others)].sort());
    expect(result.summary).toContain('would stop');
  });

  test.concurrent('twice in a row: the second finds nothing to stop, and succeeds', async ({ loops, step }) => {
    const emulator = await loops();
    const { pr7 } = plantPullRequests(emulator);
    const first = await stop(step, emulator, { pull_request: 7 });
    expect(first.outputs.status).toBe('stopped');
    const before = deactivations(emulator).length;
    const second = await stop(step, emulator, { pull_request: 7 });
    expect(second.code, second.stdout).toBe(0);
    expect(second.outputs).toMatchObject({ status: 'nothing_to_stop', selected_run_ids: '', stopped_run_ids: '', failed_run_ids: '' });
    expect(deactivations(emulator)).toHaveLength(before);
    expect(annotations(second.stdout)).toBe('');
    for (const id of pr7) expect(state(emulator, id)).toBe('INACTIVE');
    // By run id too.
    const third = await stop(step, emulator, { run_ids: pr7.join(' ') });
    expect(third.code, third.stdout).toBe(0);
    expect(third.outputs).toMatchObject({ status: 'nothing_to_stop', stopped_run_ids: '', failed_run_ids: '' });
    expect(deactivations(emulator)).toHaveLength(before);
  });

  test.concurrent.for([404, 409])('deactivate answering %i: already_stopped, the step green', async (status, { loops, step }) => {
    const emulator = await loops();
    const id = plant(emulator, { name: ourName('pr7', 'aaaaaaa') }).id;
    emulator.fault({
      method: 'POST',
      path: /\/deactivate$/,
      kind: 'status',
      status,
      times: Infinity,
      body: { detail: 'Run is already inactive' },
    });
    const result = await stop(step, emulator, { pull_request: 7 });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ selected_run_ids: id, already_stopped_run_ids: id, stopped_run_ids: '', failed_run_ids: '' });
    expect(result.outputs.status).toBe('nothing_to_stop');
    expect(annotations(result.stdout)).toBe('');
    expect(result.stdout).toContain(`Run ${id} was already stopped`);
  });

  test.concurrent(
    'a run listed live but found INACTIVE after selection (a lagging list): already_stopped, no deactivate sent',
    async ({ loops, step }) => {
      const emulator = await loops({ deactivateInactive: 'conflict' });
      const id = plant(emulator, { name: ourName('pr7', 'aaaaaaa') }).id;
      await deactivateDirectly(emulator, id);
      const stale = (body: unknown): unknown => {
        for (const run of (body as { runs: Array<{ status: { name: string } }> }).runs) run.status.name = 'ACTIVE';
        return body;
      };
      emulator.fault({ method: 'GET', path: '/v1/loops/runs', kind: 'transform', transform: stale });
      const result = await stop(step, emulator, { pull_request: 7 });
      expect(result.code, result.stdout).toBe(0);
      expect(result.outputs).toMatchObject({ status: 'nothing_to_stop', selected_run_ids: id, already_stopped_run_ids: id, stopped_run_ids: '' });
      expect(deactivations(emulator)).toEqual([id]); // the other job's, above
    },
  );

  test.concurrent(
    'a run that cannot be stopped (500 on every try): failed_run_ids, status partial, the step red; the rest stopped',
    async ({ loops, step }) => {
      const emulator = await loops();
      const [bad, good] = [plant(emulator, { name: ourName('pr7', 'aaaaaaa') }).id, plant(emulator, { name: ourName('pr7', 'bbbbbbb') }).id];
      emulator.fault({ method: 'POST', path: `/v1/loops/runs/${bad}/deactivate`, kind: 'status', status: 500, times: Infinity });
      const result = await stop(step, emulator, { pull_request: 7, max_retries: 1 });
      expect(result.code).toBe(1);
      expect(result.outputs).toMatchObject({ status: 'partial', failed_run_ids: bad, stopped_run_ids: good, already_stopped_run_ids: '' });
      expect(deactivations(emulator, bad)).toHaveLength(2);
      expect(annotations(result.stdout)).toContain(`Could not stop ${bad}`);
      expect([state(emulator, bad), state(emulator, good)]).toEqual(['ACTIVE', 'INACTIVE']);
      expect(result.summary).toContain('Status: partial');
    },
  );

  test.concurrent('no selector at all: refused before any request (the emulator received nothing), status error', async ({ loops, step }) => {
    const emulator = await loops();
    plantPullRequests(emulator);
    const result = await stop(step, emulator, {});
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('error');
    expect(annotations(result.stdout)).toMatch(/No selector: set run_ids, pull_request or older_than_minutes/);
    expect(emulator.requests).toEqual([]);
    expect(deactivations(emulator)).toEqual([]);
  });

  test.concurrent("on a pull_request event with no selector: the event's pull request", async ({ loops, step }) => {
    const emulator = await loops();
    const { pr7, others } = plantPullRequests(emulator);
    const result = await stop(step, emulator, {}, pr(7, SHA.B));
    expect(result.code, result.stdout).toBe(0);
    expect(ids(result.outputs.stopped_run_ids)).toEqual([...pr7].sort());
    expect(liveIds(emulator)).toEqual(Object.values(others).sort());
  });

  test.concurrent('the runs list answering 403: a clear error (status error, the step red), not "nothing to stop"', async ({ loops, step }) => {
    const emulator = await loops();
    const { pr7 } = plantPullRequests(emulator);
    emulator.fault({ method: 'GET', path: '/v1/loops/runs', kind: 'status', status: 403, times: Infinity, body: { detail: 'Forbidden' } });
    for (const selector of [{ pull_request: 7 }, { run_ids: pr7.join(' ') }] as Array<Record<string, string | number>>) {
      const result = await stop(step, emulator, selector);
      expect(result.code, JSON.stringify(selector)).toBe(1);
      expect(result.outputs.status).toBe('error');
      const error = annotations(result.stdout);
      expect(error).toMatch(/403/);
      expect(error).toContain('nothing was stopped');
      expect(result.summary).not.toContain('nothing_to_stop');
    }
    expect(deactivations(emulator)).toEqual([]);
  });
});

describe('7. continuations', () => {
  for (const by of ['pull request', 'run id'] as const) {
    test.concurrent(`a training script's continuation of our run is stopped with it, by ${by}`, async ({ loops, step }) => {
      const emulator = await loops();
      const launched = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
      const ours = launched.outputs.run_id ?? '';
      const training = continueRun(emulator, ours);
      const bystander = plant(emulator, { name: 'Qwen/Qwen3-8B' }).id; // an SDK run on a deployment of its own
      const result = await stop(step, emulator, by === 'run id' ? { run_ids: ours } : { pull_request: 7 });
      expect(result.code, result.stdout).toBe(0);
      // A run named in run_ids lands in one of the three lists: here stopped, through its continuation.
      expect(result.outputs).toMatchObject({ status: 'stopped', selected_run_ids: training.id, already_stopped_run_ids: '', failed_run_ids: '' });
      expect(ids(result.outputs.stopped_run_ids)).toEqual((by === 'run id' ? [training.id, ours] : [training.id]).sort());
      expect(deactivations(emulator)).toEqual([training.id]);
      expect(liveIds(emulator)).toEqual([bystander]);
      expect(result.summary).toContain(`its continuation ${training.id}`);
    });
  }

  test.concurrent(
    "a newer push's warm-started run is never an older run's continuation: stopping the old run id late leaves it running",
    async ({ loops, step }) => {
      const emulator = await loops();
      const older = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
      const newer = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B) });
      expect(newer.outputs.reused_from_run_id).toBe(older.outputs.run_id);
      expect(newer.outputs.deployment_id).toBe(older.outputs.deployment_id);
      const result = await stop(step, emulator, { run_ids: older.outputs.run_id ?? '' }, pr(7, SHA.A));
      expect(result.code, result.stdout).toBe(0);
      expect(result.outputs).toMatchObject({ status: 'nothing_to_stop', selected_run_ids: '', stopped_run_ids: '', failed_run_ids: '' });
      expect(state(emulator, newer.outputs.run_id)).toBe('ACTIVE');
      expect(deactivations(emulator)).toEqual([]);
    },
  );

  // The training script's run continues the newer push's run (the newest of ours on that
  // deployment), not the old one: stopping the old run id late leaves it alone.
  test("a newer push's training (the continuation of its warm-started run) survives a late stop of the old run id", async ({ loops, step }) => {
    const emulator = await loops();
    const older = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A) });
    const newer = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B) });
    expect(newer.outputs.reused_from_run_id).toBe(older.outputs.run_id);
    const training = continueRun(emulator, newer.outputs.run_id ?? '');
    const result = await stop(step, emulator, { run_ids: older.outputs.run_id ?? '' }, pr(7, SHA.A));
    expect(result.code, result.stdout).toBe(0);
    expect(state(emulator, training.id), "the newer push's training").toBe('ACTIVE');
    expect(result.outputs.selected_run_ids).toBe('');
  });

  test('the janitor (older_than_minutes) never stops the training of a fresh run that warm-started on an old run’s deployment', async ({
    loops,
    step,
  }) => {
    const emulator = await loops();
    const old = plant(emulator, { name: ourName('pr7', 'aaaaaaa'), createdAt: Date.now() - 3 * HOUR });
    const fresh = plant(emulator, { name: ourName('pr7', 'bbbbbbb'), createdAt: Date.now() - 5 * MINUTE, reuseFromRunId: old.id });
    expect(fresh.deployment_id).toBe(old.deployment_id);
    const training = continueRun(emulator, fresh);
    const result = await stop(step, emulator, { older_than_minutes: 60 }, push());
    expect(result.code, result.stdout).toBe(0);
    expect(state(emulator, training.id), 'the fresh run’s training').toBe('ACTIVE');
    expect(result.outputs.selected_run_ids).toBe('');
  });
});

describe('8. two stop steps in parallel on the same runs', () => {
  /** Two stop steps at once on PR 7's three runs: both green, and each reports every run it selected. */
  async function stopTwice(emulator: Emulator, step: Parameters<typeof stop>[0]) {
    const runs = ['aaaaaaa', 'bbbbbbb', 'ccccccc'].map((sha) => plant(emulator, { name: ourName('pr7', sha) }).id).sort();
    const both = await Promise.all([stop(step, emulator, { pull_request: 7 }), stop(step, emulator, { pull_request: 7 })]);
    for (const r of both) {
      expect(r.code, r.stdout).toBe(0);
      expect(['stopped', 'nothing_to_stop']).toContain(r.outputs.status);
      expect(r.outputs.failed_run_ids).toBe('');
      expect([...ids(r.outputs.stopped_run_ids), ...ids(r.outputs.already_stopped_run_ids)].sort()).toEqual(ids(r.outputs.selected_run_ids));
    }
    expect(liveIds(emulator)).toEqual([]);
    return { runs, stopped: both.flatMap((r) => ids(r.outputs.stopped_run_ids)).sort() };
  }

  test.concurrent(
    'both succeed and agree: each run stopped once overall, the other step reports it already stopped (or never saw it live)',
    async ({ loops, step }) => {
      // The facts: deactivating a run that is already INACTIVE answers 409, which counts as "already stopped".
      const emulator = await loops({ deactivateInactive: 'conflict' });
      const { runs, stopped } = await stopTwice(emulator, step);
      expect(stopped).toEqual(runs);
      const effective = requestsTo(emulator, 'POST', /\/deactivate$/).filter((q) => q.status === 200);
      expect(effective.map((q) => q.path.split('/')[4]).sort()).toEqual(runs);
    },
  );

  test.concurrent('both succeed when deactivating an INACTIVE run answers 200: every run stopped, none failed', async ({ loops, step }) => {
    // Then neither step can tell whose deactivation took effect: a run may be reported stopped by both.
    const emulator = await loops({ deactivateInactive: 'ok' });
    const { runs, stopped } = await stopTwice(emulator, step);
    expect([...new Set(stopped)]).toEqual(runs);
  });
});

describe('9. the stop action and the pull-request comment', () => {
  test.concurrent("with comment_on_pr it marks the stopped runs in the launch comment's runs table", async ({ loops, step, github }) => {
    const gh = await github();
    const emulator = await loops();
    const inputs = launchInputs(emulator, { ...commentInputs, warm_start: false });
    const a = await step({ inputs, ...pr(7, SHA.A, { apiUrl: gh.url }) });
    const b = await step({ inputs, ...pr(7, SHA.B, { apiUrl: gh.url }) });
    const [ra = '', rb = ''] = [a.outputs.run_id, b.outputs.run_id];
    expect(runsTable(commentsOn(gh, 7)[0] ?? '')).toEqual({ [rb]: ['bbbbbbb', '**live** (this run)'], [ra]: ['aaaaaaa', 'superseded'] });
    // The pull request is closed: a job on that event stops its runs.
    const closed = await stop(step, emulator, { ...commentInputs }, pr(7, SHA.B, { apiUrl: gh.url }));
    expect(closed.code, closed.stdout).toBe(0);
    expect(closed.outputs.stopped_run_ids).toBe(rb);
    const comments = commentsOn(gh, 7);
    expect(comments).toHaveLength(1);
    expect(runsTable(comments[0] ?? '')).toEqual({ [rb]: ['bbbbbbb', 'stopped'], [ra]: ['aaaaaaa', 'superseded'] });
    expect(gh.requests.filter((q) => q.method === 'PATCH')).toHaveLength(2); // the second launch, then the stop
  });

  test('with comment_on_pr, stopping by run id on a pull_request event marks that run in the comment too', async ({ loops, step, github }) => {
    const gh = await github();
    const emulator = await loops();
    const launched = await step({ inputs: launchInputs(emulator, commentInputs), ...pr(7, SHA.A, { apiUrl: gh.url }) });
    const id = launched.outputs.run_id ?? '';
    const result = await stop(step, emulator, { ...commentInputs, run_ids: id }, pr(7, SHA.A, { apiUrl: gh.url }));
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.stopped_run_ids).toBe(id);
    expect(runsTable(commentsOn(gh, 7)[0] ?? '')).toEqual({ [id]: ['aaaaaaa', 'stopped'] });
  });
});
