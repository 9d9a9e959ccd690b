// End to end, the rules of the run's life that must hold whatever the event, the order or the
// attempt (SPEC "The run's life in a pull request", "Rules that hold whatever the event…"): a stale
// push never takes a newer push's GPUs (the pull request's head read from GitHub, or the creation-
// order rule when it cannot be read); a second workflow run at one commit adopts, never duplicates;
// ChatOps and workflow_run launches belong to their own pull request; an owner with an underscore
// keeps the whole lifecycle on. Every step is the committed bundle against the emulator and its
// GitHub side.

import { describe, expect } from 'vitest';
import { annotations, requestsTo } from '../support/e2e.js';
import {
  MAIN_SHA,
  SHA,
  creates,
  deactivations,
  ids,
  issueComment,
  launchInputs,
  lifeTest as test,
  liveIds,
  mustRun,
  nameParts,
  pr,
  state,
  stopStep,
  workflowRun,
} from './life.js';

describe("1. a stale push never takes the newest push's GPUs", () => {
  test.concurrent(
    "re-run of push A after push B (warm start on): no reuse of B's run, no supersede, a warning; B keeps its deployment",
    async ({ loops, step, github }) => {
      const gh = await github();
      const emulator = await loops();
      const a = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A, { github: gh }) });
      const b = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B, { github: gh }) });
      expect(b.outputs.reused_from_run_id, 'B is the head: it warm-starts from A').toBe(a.outputs.run_id);
      const rerun = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A, { github: gh, attempt: 2, head: SHA.B }) });
      expect(rerun.code, rerun.stdout).toBe(0);
      expect(rerun.outputs).toMatchObject({ status: 'launched', adopted: 'false', reused_from_run_id: '', superseded_run_ids: '' });
      expect(creates(emulator)[2]).not.toHaveProperty('reuse_from_run_id');
      expect(state(emulator, b.outputs.run_id)).toBe('ACTIVE');
      expect(mustRun(emulator, b.outputs.run_id).deployment_id).toBe(b.outputs.deployment_id);
      expect(deactivations(emulator)).toEqual([]);
      expect(annotations(rerun.stdout, 'warning')).toMatch(/stale: commit bbbbbbb is the head of pull request #7 now, not aaaaaaa/);
      expect(rerun.summary).toContain('This step is stale');
      expect(gh.requests.filter((r) => r.path === '/repos/acme/finetune/pulls/7').every((r) => r.authorization?.includes('ghs_'))).toBe(true);
    },
  );

  test.concurrent('re-run of push A after push B with warm_start false: B is not superseded', async ({ loops, step, github }) => {
    const gh = await github();
    const emulator = await loops();
    const inputs = launchInputs(emulator, { warm_start: false });
    const a = await step({ inputs, ...pr(7, SHA.A, { github: gh }) });
    const b = await step({ inputs, ...pr(7, SHA.B, { github: gh }) });
    expect(b.outputs.superseded_run_ids).toBe(a.outputs.run_id);
    const rerun = await step({ inputs, ...pr(7, SHA.A, { github: gh, attempt: 2, head: SHA.B }) });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(rerun.outputs.superseded_run_ids).toBe('');
    expect(liveIds(emulator)).toEqual(ids(`${b.outputs.run_id} ${rerun.outputs.run_id}`));
  });

  test.concurrent("A's first launch starting after B's (queued runners): no reuse of B's run, no supersede", async ({ loops, step, github }) => {
    const gh = await github();
    const emulator = await loops();
    const b = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B, { github: gh }) });
    const a = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A, { github: gh, head: SHA.B }) });
    expect(a.code, a.stdout).toBe(0);
    expect(a.outputs).toMatchObject({ reused_from_run_id: '', superseded_run_ids: '' });
    expect(state(emulator, b.outputs.run_id)).toBe('ACTIVE');
    expect(deactivations(emulator)).toEqual([]);
  });

  test.concurrent(
    "the head cannot be read (no token): a run of another commit made after this commit's first run is a newer push's, never reused or superseded",
    async ({ loops, step }) => {
      for (const warm_start of [true, false]) {
        const emulator = await loops();
        const inputs = launchInputs(emulator, { warm_start });
        const a = await step({ inputs, ...pr(7, SHA.A) });
        const b = await step({ inputs, ...pr(7, SHA.B) });
        expect(warm_start ? b.outputs.reused_from_run_id : b.outputs.superseded_run_ids).toBe(a.outputs.run_id);
        const rerun = await step({ inputs, ...pr(7, SHA.A, { attempt: 2 }) });
        expect(rerun.code, rerun.stdout).toBe(0);
        expect(rerun.outputs).toMatchObject({ reused_from_run_id: '', superseded_run_ids: '' });
        expect(state(emulator, b.outputs.run_id)).toBe('ACTIVE');
        expect(rerun.stdout).toMatch(/Could not check that commit aaaaaaa is still the head of pull request #7 \(no github_token/);
        expect(deactivations(emulator), 'B superseding A (warm_start false), nothing since').toHaveLength(warm_start ? 0 : 1);
      }
    },
  );

  test.concurrent(
    "the head cannot be read: a late leg of push A judges push B newer by B's runs of any leg, so it never warm-starts from B",
    async ({ loops, step }) => {
      const emulator = await loops();
      const leg = (leg_key: string) => launchInputs(emulator, { leg_key });
      const a2 = await step({ inputs: leg('two'), ...pr(7, SHA.A) });
      const b1 = await step({ inputs: leg('one'), ...pr(7, SHA.B) });
      expect(b1.outputs.reused_from_run_id, 'no older run of leg one to start from').toBe('');
      // Push A's leg one, queued until now: A's earliest run (leg two) predates B's, so B is newer.
      const a1 = await step({ inputs: leg('one'), ...pr(7, SHA.A) });
      expect(a1.code, a1.stdout).toBe(0);
      expect(a1.outputs).toMatchObject({ reused_from_run_id: '', superseded_run_ids: '' });
      expect(state(emulator, b1.outputs.run_id)).toBe('ACTIVE');
      expect(b1.outputs.superseded_run_ids, "B's launch supersedes push A's runs, leg two's too").toBe(a2.outputs.run_id);
    },
  );

  test.concurrent(
    'with warm_start and supersede off, the pull request is not read (no pull-requests permission needed)',
    async ({ loops, step, github }) => {
      const gh = await github();
      const emulator = await loops();
      const result = await step({ inputs: launchInputs(emulator, { warm_start: false, supersede: false }), ...pr(7, SHA.A, { github: gh }) });
      expect(result.code, result.stdout).toBe(0);
      expect(gh.requests).toEqual([]);
    },
  );

  test.concurrent('a 403 on the pull request names the permission; the creation-order rule then applies', async ({ loops, step, github }) => {
    const gh = await github();
    const emulator = await loops();
    const a = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A, { github: gh }) });
    gh.failWith = 403;
    const b = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B, { github: gh }) });
    expect(b.code, b.stdout).toBe(0);
    expect(b.outputs.reused_from_run_id, 'an older push by creation order').toBe(a.outputs.run_id);
    expect(annotations(b.stdout, 'warning')).toMatch(/failed: .*give the job `permissions: pull-requests: read`/);
  });
});

describe('2. a second workflow run at one commit adopts the run, never duplicates it', () => {
  test.concurrent(
    'labeled, reopened or ready_for_review at an unchanged head: the run of this leg and commit is adopted; one run live',
    async ({ loops, step, github }) => {
      const gh = await github();
      const emulator = await loops();
      const first = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A, { github: gh, runId: '100' }) });
      const second = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.A, { github: gh, runId: '200' }) });
      expect(second.code, second.stdout).toBe(0);
      expect(second.outputs).toMatchObject({ adopted: 'true', run_id: first.outputs.run_id, sampler_base_url: first.outputs.sampler_base_url });
      expect(creates(emulator)).toHaveLength(1);
      expect(liveIds(emulator)).toEqual([first.outputs.run_id]);
      // The next push starts warm: there is one run to start from.
      const next = await step({ inputs: launchInputs(emulator), ...pr(7, SHA.B, { github: gh, runId: '300' }) });
      expect(next.outputs.reused_from_run_id).toBe(first.outputs.run_id);
    },
  );

  test.concurrent(
    'two workflow runs at one commit at the same time, both creating: the later run yields; both end on the earlier, one live',
    async ({ loops, step, github }) => {
      const gh = await github();
      const emulator = await loops();
      // Both looks before the create see no run yet (answered as the state was, a second later): both create.
      emulator.fault({ method: 'GET', path: '/v1/loops/runs', kind: 'delay', when: 'after', delayMs: 1000, times: 2 });
      const [one, two] = await Promise.all(
        ['100', '200'].map((runId) => step({ inputs: launchInputs(emulator, { wait_for: 'sampler' }), ...pr(7, SHA.A, { github: gh, runId }) })),
      );
      expect([one?.code, two?.code]).toEqual([0, 0]);
      expect(creates(emulator)).toHaveLength(2);
      const [earlier, later] = [...emulator.runs()].sort((x, y) => x.created_at.localeCompare(y.created_at) || (x.id < y.id ? -1 : 1));
      expect([one?.outputs.run_id, two?.outputs.run_id]).toEqual([earlier?.id, earlier?.id]);
      expect([one?.outputs.status, two?.outputs.status]).toEqual(['ready', 'ready']);
      expect(deactivations(emulator)).toEqual([later?.id]);
      expect(liveIds(emulator)).toEqual([earlier?.id]);
      const yielded = [one, two].find((s) => s?.outputs.adopted === 'true');
      expect(annotations(yielded?.stdout ?? '', 'warning')).toMatch(/created by another workflow run just before this step's run .* adopted/);
    },
  );

  test.concurrent('adopt_on_rerun false: a second workflow run creates its own run', async ({ loops, step }) => {
    const emulator = await loops();
    const inputs = launchInputs(emulator, { adopt_on_rerun: false });
    await step({ inputs, ...pr(7, SHA.A, { runId: '100' }) });
    const second = await step({ inputs, ...pr(7, SHA.A, { runId: '200' }) });
    expect(second.outputs.adopted).toBe('false');
    expect(creates(emulator)).toHaveLength(2);
  });
});

describe('4. ChatOps and workflow_run launches belong to their own pull request', () => {
  test.concurrent(
    "issue_comment: the head comes from the pulls API; a re-run of PR 43 adopts only PR 43's run, never PR 42's",
    async ({ loops, step, github }) => {
      const gh = await github();
      const emulator = await loops();
      const on42 = await step({ inputs: launchInputs(emulator), ...issueComment(42, { github: gh, headOnGithub: SHA.A }) });
      const on43 = await step({ inputs: launchInputs(emulator), ...issueComment(43, { github: gh, headOnGithub: SHA.B }) });
      for (const [s, place, sha7] of [
        [on42, 'pr42', 'aaaaaaa'],
        [on43, 'pr43', 'bbbbbbb'],
      ] as const) {
        expect(s.code, s.stdout).toBe(0);
        expect(nameParts(s.outputs.run_name)).toMatchObject({ place, sha7 });
      }
      expect(on43.outputs.run_id).not.toBe(on42.outputs.run_id);
      const rerun = await step({ inputs: launchInputs(emulator), ...issueComment(43, { github: gh, headOnGithub: SHA.B, attempt: 2 }) });
      expect(rerun.outputs).toMatchObject({ adopted: 'true', run_id: on43.outputs.run_id });
      // The stop action finds PR 43's runs by number (and leaves PR 42's alone).
      const stop = await stopStep(step, emulator, { pull_request: 43 });
      expect(stop.outputs.stopped_run_ids).toBe(on43.outputs.run_id);
      expect(state(emulator, on42.outputs.run_id)).toBe('ACTIVE');
    },
  );

  test.concurrent(
    'issue_comment whose head cannot be read: no adoption, warm start or supersede, said in the log and summary; never GITHUB_SHA',
    async ({ loops, step }) => {
      const emulator = await loops();
      const first = await step({ inputs: launchInputs(emulator), ...issueComment(43) });
      const rerun = await step({ inputs: launchInputs(emulator), ...issueComment(43, { attempt: 2 }) });
      for (const s of [first, rerun]) {
        expect(s.code, s.stdout).toBe(0);
        expect(nameParts(s.outputs.run_name)).toMatchObject({ place: 'pr43', sha7: '0000000' });
        expect(s.outputs.run_name).not.toContain(MAIN_SHA.slice(0, 7));
        expect(s.stdout).toMatch(/head commit of pull request #43 could not be learned .*adoption, warm start and supersede are off/);
        expect(s.summary).toContain('adoption, warm start and supersede are off');
      }
      expect(rerun.outputs.adopted).toBe('false');
      expect(requestsTo(emulator, 'GET', '/v1/loops/runs')).toEqual([]);
    },
  );

  test.concurrent(
    'workflow_run: the pull request and head from the event; it supersedes an older push of that pull request',
    async ({ loops, step, github }) => {
      const gh = await github();
      const emulator = await loops();
      const inputs = launchInputs(emulator, { warm_start: false, supersede: true });
      const a = await step({ inputs, ...workflowRun(43, SHA.A, { github: gh }) });
      const b = await step({ inputs, ...workflowRun(43, SHA.B, { github: gh }) });
      expect(nameParts(b.outputs.run_name)).toMatchObject({ place: 'pr43', sha7: 'bbbbbbb' });
      expect(b.outputs.superseded_run_ids).toBe(a.outputs.run_id);
    },
  );
});

describe("4b. a workflow_run without a pull request (a fork's, or a branch push) is about its own commit", () => {
  test.concurrent(
    "two heads get two runs, each named by the triggering run's commit and branch, never the default branch's",
    async ({ loops, step }) => {
      const emulator = await loops();
      const at = (sha: string) => ({
        env: { GITHUB_EVENT_NAME: 'workflow_run', GITHUB_SHA: MAIN_SHA, GITHUB_REF: 'refs/heads/main' },
        event: { action: 'completed', workflow_run: { head_sha: sha, head_branch: 'patch-1', pull_requests: [] } },
      });
      const a = await step({ inputs: launchInputs(emulator), ...at(SHA.A) });
      const b = await step({ inputs: launchInputs(emulator), ...at(SHA.B) });
      expect(nameParts(a.outputs.run_name)).toMatchObject({ place: '@patch-1', sha7: SHA.A.slice(0, 7) });
      expect(nameParts(b.outputs.run_name)).toMatchObject({ place: '@patch-1', sha7: SHA.B.slice(0, 7) });
      expect(b.outputs.adopted).toBe('false');
      expect(b.outputs.run_id).not.toBe(a.outputs.run_id);
      expect(creates(emulator)).toHaveLength(2);
    },
  );
});

describe('6. an owner with an underscore (Enterprise Managed Users) keeps the lifecycle on', () => {
  test.concurrent('mona_acme/llm-finetune: warm start, supersede and the close-time stop all find the runs', async ({ loops, step }) => {
    const emulator = await loops();
    const env = { GITHUB_REPOSITORY: 'mona_acme/llm.finetune_2' };
    const at = (sha: string, extra = {}) => {
      const ctx = pr(7, sha);
      return { ...ctx, env: { ...ctx.env, ...env, ...extra } };
    };
    const a = await step({ inputs: launchInputs(emulator), ...at(SHA.A) });
    expect(nameParts(a.outputs.run_name)).toMatchObject({ owner: 'mona_acme', repo: 'llm.finetune_2' });
    const b = await step({ inputs: launchInputs(emulator, { warm_start: false }), ...at(SHA.B) });
    expect(b.outputs.superseded_run_ids).toBe(a.outputs.run_id);
    const ctx = pr(7, SHA.B);
    const stop = await stopStep(step, emulator, {}, { ...ctx, env: { ...ctx.env, ...env, GITHUB_EVENT_NAME: 'pull_request' } });
    expect(stop.outputs).toMatchObject({ status: 'stopped', stopped_run_ids: b.outputs.run_id });
    expect(liveIds(emulator)).toEqual([]);
  });
});
