// Run identity: the default run name says where a run comes from, in a form this module writes
// and parses back — `<owner>/<repo>/<place>/<sha7>/<slot>.<leg>/a<attempt>`, where place is
// `pr<N>` on pull requests and `@<ref>` otherwise, slot is a hash of the workflow file, job and
// step, and leg a hash of the slot, every input that shapes the run and `leg_key`. A name this
// module cannot parse is never treated as ours.

import { createHash } from 'node:crypto';
import type { GithubContext } from './context.js';
import { UserError } from './core/errors.js';
import type { Settings } from './inputs.js';

export interface RunIdentity {
  owner: string;
  repo: string;
  /** `pr<N>` or `@<ref>`. */
  place: string;
  sha7: string;
  slot: string;
  leg: string;
  attempt: number;
}

type Shaping = Pick<
  Settings,
  'baseModel' | 'loraRank' | 'maxSeqLen' | 'seed' | 'scaleDownDelaySeconds' | 'checkpointPath' | 'availabilityModel' | 'replicas'
> &
  Partial<Pick<Settings, 'scope'>>;

type Where = Pick<GithubContext, 'workflow' | 'job' | 'action'>;

const hash8 = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8);

/** Where the step runs: workflow file, job and step id. */
export function slotOf(ctx: Where): string {
  return hash8(['slot', ctx.workflow, ctx.job, ctx.action]);
}

/** The leg: the slot plus every input that shapes the run (what the create body carries, less session, name and reuse) plus `legKey`. */
export function legOf(ctx: Where, settings: Shaping, legKey = ''): string {
  const shape = [
    settings.baseModel,
    settings.loraRank,
    settings.maxSeqLen ?? '',
    settings.seed ?? '',
    settings.scaleDownDelaySeconds,
    settings.checkpointPath ?? '',
    settings.availabilityModel,
    settings.replicas,
    // Only when set: the legs of runs launched before scope existed keep their names.
    ...(settings.scope && settings.scope !== 'auto' ? [settings.scope] : []),
  ];
  return hash8([slotOf(ctx), shape, legKey]);
}

/** The place a run belongs to: the pull request, or else the ref (`refs/heads/` dropped). */
export function placeOf(ctx: Pick<GithubContext, 'pullRequest' | 'ref'>): string {
  if (ctx.pullRequest) return `pr${ctx.pullRequest.number}`;
  const ref = ctx.ref.replace(/^refs\/heads\//, '').replace(/^refs\//, '');
  return `@${ref || 'unknown'}`;
}

/**
 * The commit a name carries when the event is about a pull request whose head could not be
 * learned (an issue comment, and the pulls API unreadable): never GITHUB_SHA, which is then the
 * default branch's head, not the pull request's. Adoption, warm start and supersede are off then.
 */
export const UNKNOWN_HEAD = '0000000';

export function identityOf(ctx: GithubContext, settings: Shaping, legKey: string): RunIdentity {
  const [owner = '', repo = ''] = ctx.repository.split('/');
  const head = ctx.pullRequest ? (ctx.pullRequest.headSha ?? UNKNOWN_HEAD) : ctx.sha;
  const id = {
    owner,
    repo,
    place: placeOf(ctx),
    sha7: head.slice(0, 7).toLowerCase(),
    slot: slotOf(ctx),
    leg: legOf(ctx, settings, legKey),
    attempt: ctx.runAttempt,
  };
  // The place as the name carries it, so that runs parsed back from names compare equal.
  return { ...id, place: fittedPlace(id) };
}

// What GitHub allows: owners of letters, digits and '-' (up to 39, never first), and '_' in
// Enterprise Managed Users' `handle_shortcode` logins; repositories of letters, digits, '-', '_' and '.' (up to 100).
// Lengths are kept loose: a name GitHub gave must never fail to parse.
const OWNER = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
const MAX_NAME = 255;

const nameParts = (id: RunIdentity): [string, string] => [`${id.owner}/${id.repo}/`, `/${id.sha7}/${id.slot}.${id.leg}/a${id.attempt}`];

/** A very long ref keeps its start and gains a hash of the whole, so that the name fits and two refs never share one. */
function fittedPlace(id: RunIdentity): string {
  const [head, tail] = nameParts(id);
  const room = MAX_NAME - head.length - tail.length;
  const place = [...id.place];
  return place.length > room ? `${place.slice(0, Math.max(1, room - 10)).join('')}~${hash8(id.place)}` : id.place;
}

/**
 * The default run name. A name this module could not parse back would turn supersede, warm
 * start, adoption and the stop action's selectors off without a word, so that throws instead.
 */
export function writeRunName(id: RunIdentity): string {
  const [head, tail] = nameParts(id);
  const name = `${head}${fittedPlace(id)}${tail}`;
  const back = parseRunName(name);
  const same = back && back.owner === id.owner && back.repo === id.repo && back.sha7 === id.sha7 && back.leg === id.leg;
  if (!same || back.attempt !== id.attempt || back.place !== fittedPlace(id)) {
    throw new UserError(
      `run_name: the default run name ${JSON.stringify(name)} would not be recognised as this repository's ` +
        '(owner, repository, ref or commit out of the expected form), so supersede, warm start, adoption and the ' +
        'stop action could not find the run. Nothing was sent. Set run_name to a name of your own.',
    );
  }
  return name;
}

/** The identity a run name carries, or undefined when it is not a name this module wrote. */
export function parseRunName(name: string | undefined): RunIdentity | undefined {
  if (!name) return undefined;
  const parts = name.split('/');
  if (parts.length < 6) return undefined;
  const [owner = '', repo = ''] = parts;
  const [sha7 = '', slotLeg = '', attempt = ''] = parts.slice(-3);
  const place = parts.slice(2, -3).join('/');
  const ids = /^([0-9a-f]{8})\.([0-9a-f]{8})$/.exec(slotLeg);
  const tries = /^a([1-9][0-9]{0,5})$/.exec(attempt);
  if (!OWNER.test(owner) || !REPO.test(repo) || !/^[0-9a-f]{7}$/.test(sha7) || !ids || !tries) return undefined;
  if (!/^pr[1-9][0-9]*$/.test(place) && !/^@./.test(place)) return undefined;
  return { owner, repo, place, sha7, slot: ids[1] ?? '', leg: ids[2] ?? '', attempt: Number(tries[1]) };
}

/** Same repository (GitHub names are case-insensitive): owner and name both. */
export function sameRepo(a: Pick<RunIdentity, 'owner' | 'repo'>, b: Pick<RunIdentity, 'owner' | 'repo'>): boolean {
  return a.owner.toLowerCase() === b.owner.toLowerCase() && a.repo.toLowerCase() === b.repo.toLowerCase();
}

/** A run's identity when its name is this repository's, else undefined. */
export function ownIdentity(name: string | undefined, repo: Pick<RunIdentity, 'owner' | 'repo'>): RunIdentity | undefined {
  const id = parseRunName(name);
  return id && sameRepo(id, repo) ? id : undefined;
}
