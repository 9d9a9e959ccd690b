// The rules of the run's life as plain functions (src/lifecycle.ts, src/holders.ts,
// src/pull-head.ts): which runs are an older push's, which run a later one yields to, which
// deployment a run without deployment_id is on, and a stale step told from a current one.

import { describe, expect, it } from 'vitest';
import type { GithubContext } from '../src/context.js';
import { continuationOf, holderOf } from '../src/holders.js';
import { parseInputs } from '../src/inputs.js';
import { lifecycleOf } from '../src/lifecycle-step.js';
import { olderPush, ourRuns, rivalOf } from '../src/lifecycle.js';
import { deploymentOf } from '../src/loops/client.js';
import type { Run } from '../src/loops/types.js';
import { freshnessOf } from '../src/pull-head.js';
import { type RunIdentity, parseRunName } from '../src/run-name.js';

const me: RunIdentity = { owner: 'acme', repo: 'ft', place: 'pr7', sha7: 'aaaaaaa', slot: '11111111', leg: '22222222', attempt: 2 };
const nameOf = (sha7: string, attempt = 1, leg = me.leg): string => `acme/ft/pr7/${sha7}/${me.slot}.${leg}/a${attempt}`;

let n = 0;
function run(over: Partial<Run> & { at: number }): Run {
  n += 1;
  const { at, ...rest } = over;
  return {
    id: `r${n}`,
    sessionId: 's',
    baseModel: 'Qwen/Qwen3-8B',
    baseUrl: '',
    createdAt: new Date(Date.UTC(2026, 11, 7, 10, 0, at)).toISOString(),
    status: 'ACTIVE',
    sampler: { id: `sampler-${n}`, baseUrl: '', status: 'ACTIVE' },
    raw: {},
    ...rest,
  };
}
const view = (runs: Run[]) => ({ runs, unresolved: new Set<string>() });

describe("olderPush: which runs of another commit are an older push's", () => {
  const mineEarliest = run({ name: nameOf('aaaaaaa', 1), at: 10 });
  const before = run({ name: nameOf('bbbbbbb'), at: 5 });
  const after = run({ name: nameOf('ccccccc'), at: 20 });
  const place = ourRuns([mineEarliest, before, after], me);
  const older = (f: Parameters<typeof olderPush>[2]) => place.filter(olderPush(place, me, f)).map((o) => o.run.id);

  it('current: every other commit is older; stale: none', () => {
    expect(older({ state: 'current', head: 'aaaaaaa' })).toEqual([mineEarliest.id, before.id, after.id]);
    expect(older({ state: 'stale', head: 'ccccccc' })).toEqual([]);
  });
  it("unknown: only runs made before this commit's earliest run (any attempt)", () => {
    expect(older({ state: 'unknown', why: 'x' })).toEqual([before.id]);
  });
  it('unknown, and this commit has no run yet: every run made so far is older', () => {
    const others = ourRuns([before, after], me);
    expect(others.filter(olderPush(others, me, { state: 'unknown', why: 'x' })).map((o) => o.run.id)).toEqual([before.id, after.id]);
  });
  it("a run whose time cannot be read is never taken for an older push's", () => {
    const odd = ourRuns([mineEarliest, { ...before, createdAt: 'yesterday' }], me);
    expect(odd.filter((o) => o.id.sha7 !== me.sha7).filter(olderPush(odd, me, { state: 'unknown', why: 'x' }))).toEqual([]);
  });
});

describe('rivalOf: the later of two runs of one leg and commit yields to the earlier', () => {
  const first = run({ name: nameOf('aaaaaaa', 1), at: 10 });
  const second = run({ name: nameOf('aaaaaaa', 1), at: 11 });
  it('the later one gets the earlier as its rival; the earlier none', () => {
    expect(rivalOf(view([first, second]), me, second)).toBe(first);
    expect(rivalOf(view([first, second]), me, first)).toBeUndefined();
  });
  it('a tie on created_at is broken by id, the same way for both', () => {
    const twin = { ...second, id: 'r0', createdAt: first.createdAt };
    expect(rivalOf(view([first, twin]), me, first)).toBe(twin);
    expect(rivalOf(view([first, twin]), me, twin)).toBeUndefined();
  });
  it('never a dead run, another commit, another leg, or a run this step cannot see yet', () => {
    const dead = { ...first, status: 'INACTIVE' };
    const failed = { ...first, sampler: { id: 'x', baseUrl: '', status: 'DEPLOY_FAILED' } };
    const other = run({ name: nameOf('bbbbbbb', 1), at: 1 });
    const leg = run({ name: nameOf('aaaaaaa', 1, '33333333'), at: 1 });
    for (const r of [dead, failed, other, leg]) expect(rivalOf(view([r, second]), me, second)).toBeUndefined();
    expect(rivalOf(view([first]), me, second), 'mine not listed yet: still compared by time').toBe(first);
    expect(rivalOf(view([second]), me, first), 'mine not listed yet, and the earlier').toBeUndefined();
  });
});

describe('deploymentOf: the deployment of a run without deployment_id', () => {
  const deployments = [
    { id: 'd1', runIds: ['continuation'], samplerId: 'sampler-ours' },
    { id: 'd2', runIds: ['r-other'], samplerId: 'sampler-other' },
  ];
  it("by its sampler, even once a continuation has taken the deployment's run ids", () => {
    expect(deploymentOf({ id: 'ours', sampler: { id: 'sampler-ours', baseUrl: '' } }, deployments)?.id).toBe('d1');
  });
  it('else by the run ids the deployment names; else none', () => {
    expect(deploymentOf({ id: 'r-other' }, deployments)?.id).toBe('d2');
    expect(deploymentOf({ id: 'nobody', sampler: { id: 'nope', baseUrl: '' } }, deployments)).toBeUndefined();
  });
  it('two runs whose deployments are unknown are never taken to share one', () => {
    const ours = run({ name: nameOf('aaaaaaa'), at: 1, status: 'INACTIVE' });
    const sdk = run({ name: 'Qwen/Qwen3-8B', at: 2 });
    expect(continuationOf(ours, [ours, sdk])).toBeUndefined();
    expect(holderOf(ours, [ours, sdk])).toBeUndefined();
    expect(holderOf({ ...ours, deploymentId: 'd1' }, [ours, { ...sdk, deploymentId: 'd1' }])?.id).toBe(sdk.id);
    expect(parseRunName(sdk.name)).toBeUndefined();
  });
});

describe('freshnessOf: this event against the pull request', () => {
  it('current, stale, or unknown with why', () => {
    expect(freshnessOf('ABCDEF0', { sha: 'abcdef0' })).toEqual({ state: 'current', head: 'abcdef0' });
    expect(freshnessOf('abcdef0', { sha: '1234567' })).toEqual({ state: 'stale', head: '1234567' });
    expect(freshnessOf('abcdef0', { why: 'no token' })).toEqual({ state: 'unknown', why: 'no token' });
  });
  it('an event without a head (an issue comment) takes the one read as its own', () => {
    expect(freshnessOf(undefined, { sha: '1234567' })).toEqual({ state: 'current', head: '1234567' });
  });
});

describe('lifecycleOf: what this event turns on', () => {
  const settings = (inputs: Record<string, string> = {}) => {
    const parsed = parseInputs((name) => ({ api_key: 'k', base_model: 'Qwen/Qwen3-8B', ...inputs })[name] ?? '', {});
    if (!parsed.ok) throw new Error(parsed.errors.join());
    return parsed.settings;
  };
  const ctx = (pullRequest?: GithubContext['pullRequest']): GithubContext =>
    ({ eventName: 'pull_request', repository: 'acme/ft', sha: 'f00d', ref: 'refs/pull/7/merge', pullRequest }) as GithubContext;
  const head = { number: 7, headSha: 'aaaaaaa1' };

  it('a pull request whose commit is the head: all three on', () => {
    expect(lifecycleOf(settings(), ctx(head), { state: 'current', head: 'aaaaaaa1' })).toEqual({ supersede: true, warmStart: true, adopt: true });
  });
  it("a stale step: no warm start and no supersede; adoption of its own commit's run stays on", () => {
    expect(lifecycleOf(settings(), ctx(head), { state: 'stale', head: 'bbbbbbb2' })).toEqual({ supersede: false, warmStart: false, adopt: true });
  });
  it('a pull request whose head is unknown (an issue comment, the pulls API unreadable): all off', () => {
    expect(lifecycleOf(settings(), ctx({ number: 7 }), { state: 'unknown', why: 'x' })).toEqual({
      supersede: false,
      warmStart: false,
      adopt: false,
    });
  });
  it('not a pull request: supersede and warm start off by auto, adoption on; a run_name of its own turns all off', () => {
    expect(lifecycleOf(settings(), ctx(undefined))).toEqual({ supersede: false, warmStart: false, adopt: true });
    expect(lifecycleOf(settings({ run_name: 'mine' }), ctx(head), { state: 'current', head: 'aaaaaaa1' })).toEqual({
      supersede: false,
      warmStart: false,
      adopt: false,
    });
    expect(lifecycleOf(settings({ reuse_from_run_id: 'r1' }), ctx(head)).warmStart).toBe(false);
  });
});
