// Run identity (src/run-name.ts): the default name is written and parsed back by one module; a
// name it did not write — or another repository's — is never taken for ours.

import { describe, expect, it } from 'vitest';
import { readContext } from '../src/context.js';
import { parseInputs } from '../src/inputs.js';
import { UNKNOWN_HEAD, identityOf, legOf, ownIdentity, parseRunName, placeOf, slotOf, writeRunName } from '../src/run-name.js';

const settings = (() => {
  const parsed = parseInputs((n) => ({ api_key: 'k', base_model: 'Qwen/Qwen3-8B' })[n] ?? '', {});
  if (!parsed.ok) throw new Error(parsed.errors.join());
  return parsed.settings;
})();

const ctx = readContext({
  GITHUB_REPOSITORY: 'acme/fine-tune',
  GITHUB_SHA: 'ABCDEF01234567890',
  GITHUB_REF: 'refs/heads/feature/new-data',
  GITHUB_WORKFLOW_REF: 'acme/fine-tune/.github/workflows/ft.yml@refs/heads/main',
  GITHUB_JOB: 'launch',
  GITHUB_ACTION: 'loops',
  GITHUB_RUN_ATTEMPT: '2',
});

describe('writeRunName / parseRunName', () => {
  it('round-trips: owner, repo, place, commit, slot, leg, attempt', () => {
    const id = identityOf(ctx, settings, '');
    const name = writeRunName(id);
    expect(name).toMatch(/^acme\/fine-tune\/@feature\/new-data\/abcdef0\/[0-9a-f]{8}\.[0-9a-f]{8}\/a2$/);
    expect(parseRunName(name)).toEqual(id);
  });

  it('on a pull request the place is pr<N> and the commit is the head, not the merge commit', () => {
    const pr = { ...ctx, pullRequest: { number: 17, headSha: 'feedface0000' } };
    expect(placeOf(pr)).toBe('pr17');
    const id = identityOf(pr, settings, '');
    expect(id).toMatchObject({ place: 'pr17', sha7: 'feedfac' });
    expect(parseRunName(writeRunName(id))).toEqual(id);
  });

  it('a branch named like a pull request is still a branch', () => {
    const branch = identityOf({ ...ctx, ref: 'refs/heads/pr17' }, settings, '');
    expect(branch.place).toBe('@pr17');
    expect(parseRunName(writeRunName(branch))?.place).toBe('@pr17');
  });

  it('a very long ref keeps the name within 255 characters and apart from a ref that shares its start', () => {
    const long = (tail: string) => writeRunName(identityOf({ ...ctx, ref: `refs/heads/${'x'.repeat(300)}${tail}` }, settings, ''));
    const [a, b] = [long('a'), long('b')];
    expect([...a].length).toBeLessThanOrEqual(255);
    expect(a).not.toBe(b);
    expect(parseRunName(a)?.sha7).toBe('abcdef0');
    // The identity compares equal to the one parsed back from the name (supersede, warm start, adoption).
    const id = identityOf({ ...ctx, ref: `refs/heads/${'x'.repeat(300)}a` }, settings, '');
    expect(parseRunName(writeRunName(id))).toEqual(id);
  });

  it('refuses names it did not write', () => {
    const good = writeRunName(identityOf(ctx, settings, ''));
    for (const name of [
      undefined,
      '',
      'Qwen/Qwen3-8B', // the API's own default name: the base model
      'acme/fine-tune-pr17-abcdef0-x1y2z', // the old default form
      good.replace('/a2', '/a0'),
      good.replace('/a2', '/attempt2'),
      good.replace('/abcdef0/', '/ABCDEF0/'),
      good.replace('/abcdef0/', '/abcdef/'),
      good.replace(/\/[0-9a-f]{8}\./, '/zzzzzzzz.'),
      good.replace('/@feature/new-data/', '/feature/'), // a place that is neither pr<N> nor @ref
      good.replace('/@feature/new-data/', '/pr0/'),
      `-acme/${good.split('/').slice(1).join('/')}`, // an owner GitHub would not allow
    ]) {
      expect(parseRunName(name), String(name)).toBeUndefined();
    }
  });
});

/** A small seeded generator, so that the names below are the same on every run. */
function generator(seed: number): (alphabet: string, min: number, max: number) => string {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return (alphabet, min, max) => {
    const length = min + Math.floor(next() * (max - min + 1));
    return Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  };
}

describe('every owner and repository name GitHub allows', () => {
  const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const pick = generator(42);
  const owners = [
    'a',
    'mona_acme', // Enterprise Managed Users: handle_shortcode
    'Octo-Cat_ACME',
    'x'.repeat(39),
    ...Array.from({ length: 150 }, () => pick(ALNUM, 1, 1) + pick(`${ALNUM}-`, 0, 38)),
    ...Array.from({ length: 150 }, () => `${pick(ALNUM, 1, 1)}${pick(`${ALNUM}-`, 0, 20)}_${pick(ALNUM, 1, 8)}`),
  ];
  const repos = [
    '.github',
    'llm.finetune_2',
    '_private',
    '-dash',
    'trailing.',
    'r'.repeat(100),
    ...Array.from({ length: 300 }, () => pick(`${ALNUM}._-`, 1, 100)).filter((r) => r !== '.' && r !== '..'),
  ];

  it('writes, for each, a name that parses back to the same identity and is recognised as that repository only', () => {
    for (const [i, owner] of owners.entries()) {
      const repo = repos[i % repos.length] ?? 'r';
      for (const pullRequest of [undefined, { number: 1 + i, headSha: 'abcdef0123' }]) {
        const here = { ...ctx, repository: `${owner}/${repo}`, pullRequest };
        const id = identityOf(here, settings, '');
        const name = writeRunName(id);
        expect(name.length, name).toBeLessThanOrEqual(255);
        expect(parseRunName(name), name).toEqual(id);
        expect(ownIdentity(name, { owner, repo }), name).toBeDefined();
        expect(ownIdentity(name, { owner: `${owner}x`, repo }), name).toBeUndefined();
      }
    }
  });

  it('refuses to write a name it could not parse back: loudly, before anything is sent', () => {
    for (const repository of ['', 'mona acme/repo', 'acme/re po', 'acme']) {
      expect(() => writeRunName(identityOf({ ...ctx, repository }, settings, '')), repository).toThrow(
        /run_name: the default run name .* Nothing was sent/,
      );
    }
    expect(() => writeRunName(identityOf({ ...ctx, sha: '' }, settings, ''))).toThrow(/run_name/);
  });

  it('a pull request whose head is not known is named with a commit that is none, never GITHUB_SHA', () => {
    const id = identityOf({ ...ctx, pullRequest: { number: 43 } }, settings, '');
    expect(id).toMatchObject({ place: 'pr43', sha7: UNKNOWN_HEAD });
    expect(parseRunName(writeRunName(id))).toEqual(id);
  });
});

describe('ownIdentity: this repository only', () => {
  const name = writeRunName(identityOf(ctx, settings, ''));

  it('takes this repository, whatever the case GitHub spells it in', () => {
    expect(ownIdentity(name, { owner: 'acme', repo: 'fine-tune' })).toBeDefined();
    expect(ownIdentity(name, { owner: 'ACME', repo: 'Fine-Tune' })).toBeDefined();
  });

  it('never a repository of the same name under another owner, nor another repository of this owner', () => {
    expect(ownIdentity(name, { owner: 'evil', repo: 'fine-tune' })).toBeUndefined();
    expect(ownIdentity(name, { owner: 'acme', repo: 'fine-tune2' })).toBeUndefined();
  });
});

describe('slot and leg', () => {
  it('the slot is the workflow file, job and step; the leg adds every input that shapes the run, and leg_key', () => {
    expect(slotOf(ctx)).toBe(slotOf({ ...ctx }));
    expect(slotOf({ ...ctx, action: 'other' })).not.toBe(slotOf(ctx));
    expect(slotOf({ ...ctx, job: 'other' })).not.toBe(slotOf(ctx));
    expect(slotOf({ ...ctx, workflow: 'other.yml' })).not.toBe(slotOf(ctx));
    const leg = legOf(ctx, settings);
    for (const change of [
      { seed: 1 },
      { availabilityModel: 'spot' as const },
      { loraRank: 8 },
      { maxSeqLen: 4096 },
      { replicas: 2 },
      { scaleDownDelaySeconds: 60 },
      { checkpointPath: 'bt://loops:r/weights/s' },
      { baseModel: 'Qwen/Qwen3-4B' },
    ]) {
      expect(legOf(ctx, { ...settings, ...change }), JSON.stringify(change)).not.toBe(leg);
    }
    expect(legOf(ctx, settings, '{"shard":1}')).not.toBe(leg);
    // What does not shape the run does not change the leg.
    expect(legOf(ctx, { ...settings, waitFor: 'none', reuseFromRunId: 'r1' } as typeof settings)).toBe(leg);
  });

  it('scope shapes the leg only when set: a leg from before scope existed keeps its name with scope auto', () => {
    // The leg of these settings as the action before the scope input computed it (pinned).
    const before = 'd9695941';
    expect(legOf(ctx, { ...settings, scope: 'auto' })).toBe(before);
    expect(legOf(ctx, { ...settings, scope: 'serverless' })).not.toBe(before);
    expect(legOf(ctx, { ...settings, scope: 'deployment' })).not.toBe(legOf(ctx, { ...settings, scope: 'serverless' }));
  });
});
