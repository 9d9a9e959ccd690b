// Supply-chain checks over workflow (and action.yml) text: every third-party action pinned to a
// full commit SHA with its version in a trailing comment, and every job with least-privilege
// permissions. Pure functions over the file's text, so that the tests can plant bad refs.

import { LineCounter, isMap, isScalar, parse, parseDocument, visit, type Node } from 'yaml';

/** This repository's own action (and its sub-actions) as users reference it: not third party. */
export const OWN_ACTION = /^your-org\/baseten-loops-launch(\/[^@]+)?@\S+$/;

const SHA_PIN = /^([\w.-]+\/[\w.-]+(?:\/[^@\s]+)?)@([0-9a-f]{40})$/;
const DOCKER_DIGEST = /^docker:\/\/[^@\s]+@sha256:[0-9a-f]{64}$/;
const VERSION_COMMENT = /^v\d+\.\d+\.\d+\b/;

export interface Pin {
  /** owner/repo[/path] */
  action: string;
  sha: string;
  /** The trailing comment, e.g. "v4.4.0". */
  version: string;
  line: number;
}

export interface PinReport {
  problems: string[];
  /** Third-party actions correctly pinned. */
  pins: Pin[];
}

/** Every `uses:` value in the document with its line and the comment trailing it on that line. */
function usesRefs(source: string): Array<{ uses: string; line: number; comment: string }> {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines });
  if (doc.errors.length > 0) throw new Error(`not valid YAML: ${doc.errors[0]?.message}`);
  const found: Array<{ uses: string; line: number; comment: string }> = [];
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || pair.key.value !== 'uses') return;
      const value = pair.value as Node | null;
      if (!isScalar(value) || !value.range) {
        found.push({ uses: String(value), line: 0, comment: '' });
        return;
      }
      const end = value.range[1];
      const lineEnd = source.indexOf('\n', end);
      const rest = source.slice(end, lineEnd < 0 ? undefined : lineEnd);
      const comment = /^\s*#\s?(.*?)\s*$/.exec(rest)?.[1] ?? '';
      found.push({ uses: String(value.value), line: lines.linePos(value.range[0]).line, comment });
    },
  });
  return found;
}

/**
 * Pinning problems in one workflow or action.yml: a third-party action (or reusable workflow)
 * referenced by a tag, a branch or a short SHA, a full SHA without a `# vX.Y.Z` comment, or a
 * Docker image without a digest. Local actions (`./…`) and this repository's own action are
 * exempt.
 */
export function checkPins(source: string, ownAction: RegExp = OWN_ACTION): PinReport {
  const problems: string[] = [];
  const pins: Pin[] = [];
  for (const { uses, line, comment } of usesRefs(source)) {
    const at = `line ${line}: ${uses}`;
    if (uses === '.' || uses.startsWith('./')) continue;
    if (ownAction.test(uses)) continue;
    if (uses.startsWith('docker://')) {
      if (!DOCKER_DIGEST.test(uses)) problems.push(`${at} is not pinned to an image digest (docker://image@sha256:…)`);
      continue;
    }
    const pin = SHA_PIN.exec(uses);
    if (!pin) {
      problems.push(`${at} is not pinned to a full commit SHA (owner/repo@<40 hex digits> # vX.Y.Z)`);
      continue;
    }
    if (!VERSION_COMMENT.test(comment)) {
      problems.push(`${at} has no trailing version comment (# vX.Y.Z)${comment ? `, got "# ${comment}"` : ''}`);
      continue;
    }
    pins.push({ action: pin[1] as string, sha: pin[2] as string, version: (VERSION_COMMENT.exec(comment) as RegExpExecArray)[0], line });
  }
  return { problems, pins };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The scopes a permissions value grants write on ("all" for write-all). */
function writeScopes(permissions: unknown): string[] {
  if (permissions === 'write-all') return ['all'];
  if (!isObj(permissions)) return [];
  return Object.entries(permissions)
    .filter(([, level]) => level === 'write')
    .map(([scope]) => scope);
}

/** The comment trailing `<scope>: write` inside a job's (or the workflow's) permissions mapping. */
function writeComments(source: string): Map<string, Map<string, string>> {
  const doc = parseDocument(source);
  const out = new Map<string, Map<string, string>>();
  const collect = (owner: string, node: unknown): void => {
    if (!isMap(node)) return;
    const comments = new Map<string, string>();
    for (const pair of node.items) {
      if (!isScalar(pair.key) || !isScalar(pair.value) || pair.value.value !== 'write' || !pair.value.range) continue;
      const end = pair.value.range[1];
      const lineEnd = source.indexOf('\n', end);
      const rest = source.slice(end, lineEnd < 0 ? undefined : lineEnd);
      comments.set(String(pair.key.value), /^\s*#\s?(.*?)\s*$/.exec(rest)?.[1] ?? '');
    }
    out.set(owner, comments);
  };
  const root = doc.contents;
  if (!isMap(root)) return out;
  collect('(workflow)', root.get('permissions', true));
  const jobs = root.get('jobs', true);
  if (isMap(jobs)) {
    for (const pair of jobs.items) {
      if (isScalar(pair.key) && isMap(pair.value)) collect(String(pair.key.value), pair.value.get('permissions', true));
    }
  }
  return out;
}

/**
 * Least-privilege problems in one workflow: a job with no permissions of its own and none from
 * the workflow (so it gets the repository's default token, possibly read-write), `read-all` or
 * `write-all`, a write grant at the workflow level (writes belong to the job that needs them),
 * and a write grant without a trailing comment saying why.
 */
export function checkPermissions(source: string): string[] {
  const workflow = parse(source) as { permissions?: unknown; jobs?: Record<string, Obj> } | null;
  const problems: string[] = [];
  const jobs = workflow?.jobs;
  if (!isObj(jobs) || Object.keys(jobs).length === 0) return ['no jobs'];
  const blanket = (value: unknown): boolean => value === 'read-all' || value === 'write-all';
  const workflowLevel = workflow?.permissions;
  if (blanket(workflowLevel)) problems.push(`workflow: permissions: ${String(workflowLevel)} is not least privilege; list the scopes`);
  for (const scope of writeScopes(workflowLevel)) {
    problems.push(`workflow: grants ${scope}: write to every job; grant it only to the job that needs it`);
  }
  const comments = writeComments(source);
  for (const [name, job] of Object.entries(jobs)) {
    const own = isObj(job) ? job.permissions : undefined;
    if (own === undefined && workflowLevel === undefined) {
      problems.push(`jobs.${name}: no permissions (neither the job nor the workflow declares them)`);
      continue;
    }
    if (own !== undefined && blanket(own))
      problems.push(`jobs.${name}: permissions: ${typeof own === 'string' ? own : JSON.stringify(own)} is not least privilege; list the scopes`);
    else if (own !== undefined && !isObj(own)) problems.push(`jobs.${name}: permissions must be a mapping of scopes`);
    for (const scope of isObj(own) ? writeScopes(own) : []) {
      if (!comments.get(name)?.get(scope)) problems.push(`jobs.${name}: ${scope}: write has no trailing comment saying why`);
    }
  }
  return problems;
}

/** Pins of the same action that disagree across files: two SHAs, or one SHA with two versions. */
export function inconsistentPins(pinsByFile: Record<string, Pin[]>): string[] {
  const shas = new Map<string, Set<string>>();
  const versions = new Map<string, Set<string>>();
  for (const pins of Object.values(pinsByFile)) {
    for (const pin of pins) {
      if (!shas.has(pin.action)) shas.set(pin.action, new Set());
      shas.get(pin.action)?.add(pin.sha);
      const key = `${pin.action}@${pin.sha}`;
      if (!versions.has(key)) versions.set(key, new Set());
      versions.get(key)?.add(pin.version);
    }
  }
  const problems: string[] = [];
  for (const [action, set] of shas) if (set.size > 1) problems.push(`${action} is pinned to ${set.size} commits: ${[...set].join(', ')}`);
  for (const [key, set] of versions) if (set.size > 1) problems.push(`${key} is labelled ${[...set].join(' and ')}`);
  return problems;
}

/** Steps (with `uses`) of every job, for tests that look at a workflow's structure. */
export function stepsOf(source: string): Array<{ job: string; uses?: string; run?: string; with?: Obj; env?: Obj }> {
  const doc = parseDocument(source);
  const root = doc.toJS() as { jobs?: Record<string, { steps?: unknown }> };
  const out: Array<{ job: string; uses?: string; run?: string; with?: Obj; env?: Obj }> = [];
  for (const [job, def] of Object.entries(root.jobs ?? {})) {
    const steps = def.steps;
    if (!Array.isArray(steps)) continue;
    for (const step of steps as Obj[]) out.push({ job, ...(step as object) });
  }
  return out;
}
