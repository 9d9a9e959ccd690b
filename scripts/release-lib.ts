// The pieces of a release, as pure functions over file text (scripts/release.ts does the I/O):
// versions, the CHANGELOG's sections, package.json, the version inside a bundle, the actions
// in the repository, the release notes and whether the major tag moves.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse } from 'yaml';

export interface Version {
  major: number;
  minor: number;
  patch: number;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** "1.2.3" → {1, 2, 3}; anything else (pre-releases, a leading "v", "1.2") → undefined. */
export function parseVersion(text: string): Version | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export const formatVersion = (v: Version): string => `${v.major}.${v.minor}.${v.patch}`;

/** "v1.2.3" → "1.2.3"; throws on anything that is not a release tag. */
export function versionOfTag(tag: string): string {
  const m = /^v(\d+\.\d+\.\d+)$/.exec(tag);
  if (!m || !parseVersion(m[1] as string)) throw new Error(`"${tag}" is not a release tag (vX.Y.Z)`);
  return m[1] as string;
}

const UNRELEASED = /^## Unreleased[ \t]*$/m;

interface Section {
  heading: string;
  start: number;
  bodyStart: number;
  end: number;
}

/** The `## ` sections of a changelog, in order. */
function sections(changelog: string): Section[] {
  const heads = [...changelog.matchAll(/^## .*$/gm)];
  return heads.map((m, i) => {
    const start = m.index;
    const bodyStart = start + m[0].length;
    const end = heads[i + 1]?.index ?? changelog.length;
    return { heading: m[0].slice(3).trim(), start, bodyStart, end };
  });
}

/** The heading of a released version: "## 1.2.3 — 2026-11-22". */
const releasedHeading = (heading: string): string | undefined => /^(\d+\.\d+\.\d+)(\s+—\s+\d{4}-\d{2}-\d{2})?$/.exec(heading)?.[1];

/** The text under `## <version> — <date>`, trimmed; throws when there is none or it is empty. */
export function changelogSection(changelog: string, version: string): string {
  const section = sections(changelog).find((s) => releasedHeading(s.heading) === version);
  if (!section) throw new Error(`CHANGELOG.md has no "## ${version} — YYYY-MM-DD" section`);
  const body = changelog.slice(section.bodyStart, section.end).trim();
  if (!body) throw new Error(`CHANGELOG.md: the ${version} section is empty`);
  return body;
}

/** Whether a section body says something (HTML comments alone do not count). */
const hasEntries = (body: string): boolean => body.replace(/<!--[\s\S]*?-->/g, '').trim().length > 0;

/**
 * Turns `## Unreleased` into `## <version> — <date>` and opens a fresh, empty `## Unreleased`
 * above it. Throws when there is no Unreleased section, when it is empty, or when the version
 * is already in the changelog.
 */
export function stampChangelog(changelog: string, version: string, date: string): string {
  if (!parseVersion(version)) throw new Error(`"${version}" is not a version (X.Y.Z)`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    throw new Error(`"${date}" is not a date (YYYY-MM-DD)`);
  }
  const all = sections(changelog);
  if (all.some((s) => releasedHeading(s.heading) === version)) throw new Error(`CHANGELOG.md already has a ${version} section`);
  const unreleased = all.filter((s) => UNRELEASED.test(`## ${s.heading}`));
  if (unreleased.length !== 1) throw new Error(`CHANGELOG.md needs exactly one "## Unreleased" section (found ${unreleased.length})`);
  const section = unreleased[0] as Section;
  if (!hasEntries(changelog.slice(section.bodyStart, section.end))) {
    throw new Error('CHANGELOG.md: the Unreleased section is empty; describe the release there first');
  }
  return `${changelog.slice(0, section.start)}## Unreleased\n\n## ${version} — ${date}${changelog.slice(section.bodyStart)}`;
}

/** package.json or package-lock.json text with the package's own version set; formatting kept as npm writes it. */
export function setPackageVersion(json: string, version: string): string {
  const data = JSON.parse(json) as { version?: string; packages?: Record<string, { version?: string }> };
  if (typeof data.version !== 'string') throw new Error('no "version" field');
  data.version = version;
  const root = data.packages?.[''];
  if (root && typeof root.version === 'string') root.version = version;
  return `${JSON.stringify(data, null, 2)}\n`;
}

/**
 * The version the bundle puts in its User-Agent (`baseten-loops-launch/<version>`), read from the
 * minified code: either a literal or a template over the inlined package.json object.
 */
export function bundleUserAgentVersion(bundle: string): string | undefined {
  const literal = /baseten-loops-launch\/(\d+\.\d+\.\d+)[`"']/.exec(bundle);
  if (literal) return literal[1];
  const template = /`baseten-loops-launch\/\$\{([\w$]+)\.([\w$]+)\}`/.exec(bundle);
  if (!template) return undefined;
  const [, object, property] = template as unknown as [string, string, string];
  const before = bundle.slice(0, template.index);
  const escape = (s: string): string => s.replace(/\$/g, '\\$');
  const definitions = [...before.matchAll(new RegExp(`(?<![\\w$])${escape(object)}=\\{[^{}]*?(?<![\\w$])${escape(property)}:"([^"]+)"`, 'g'))];
  return definitions.at(-1)?.[1];
}

/** The action.yml files this repository publishes: the root action and every `<dir>/action.yml`. */
export function actionFiles(root: string): string[] {
  const files = existsSync(join(root, 'action.yml')) ? [join(root, 'action.yml')] : [];
  for (const entry of readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const file = join(root, entry.name, 'action.yml');
    if (existsSync(file)) files.push(file);
  }
  return files;
}

/** How users reference an action file: "" for the root action, "/stop" for stop/action.yml. */
export function actionPath(root: string, file: string): string {
  const dir = relative(root, dirname(file));
  return dir === '' ? '' : `/${dir.split('\\').join('/')}`;
}

/** Problems with the actions a release publishes: a runtime other than the root's, a missing entry file. */
export function checkActions(root: string): string[] {
  const problems: string[] = [];
  const files = actionFiles(root);
  if (files.length === 0 || relative(root, files[0] as string) !== 'action.yml') return ['no action.yml at the root'];
  let rootRuntime: string | undefined;
  for (const file of files) {
    const name = relative(root, file);
    const action = parse(readFileSync(file, 'utf8')) as { name?: string; runs?: Record<string, unknown> } | null;
    const runs = action?.runs;
    if (!action?.name || !runs || typeof runs.using !== 'string') {
      problems.push(`${name}: needs a name and runs.using`);
      continue;
    }
    rootRuntime ??= runs.using;
    if (runs.using !== rootRuntime) problems.push(`${name}: runs.using is ${runs.using}, the root action's is ${rootRuntime}`);
    if (!runs.using.startsWith('node')) continue;
    for (const key of ['pre', 'main', 'post']) {
      const entry = runs[key];
      if (key === 'main' && typeof entry !== 'string') problems.push(`${name}: no runs.main`);
      if (typeof entry === 'string' && !existsSync(join(dirname(file), entry))) problems.push(`${name}: runs.${key} ${entry} does not exist`);
    }
  }
  return problems;
}

/** Whether `version` is the newest vMAJOR.x.y among the tags, so that vMAJOR should move to it. */
export function movesMajorTag(version: string, tags: string[]): boolean {
  const v = parseVersion(version);
  if (!v) throw new Error(`"${version}" is not a version`);
  return tags
    .map((t) => /^v(\d+\.\d+\.\d+)$/.exec(t.trim())?.[1])
    .map((t) => (t ? parseVersion(t) : undefined))
    .filter((t): t is Version => t !== undefined && t.major === v.major)
    .every((t) => compareVersions(t, v) <= 0);
}

/** Relative Markdown links (`[SECURITY.md](SECURITY.md)`) made absolute, so that they work on the release page. */
export function absoluteLinks(markdown: string, base: string): string {
  return markdown.replace(/\]\((?![a-z][a-z0-9+.-]*:|#|\/)([^)\s]+)\)/gi, (_, target: string) => `](${base}/${target.replace(/^\.\//, '')})`);
}

/** The GitHub release notes: the version's CHANGELOG section, then how to reference each action. */
export function releaseNotes(options: {
  section: string;
  version: string;
  repo: string;
  commit: string;
  actionPaths: string[];
  serverUrl?: string;
}): string {
  const { version, repo, commit, actionPaths, serverUrl = 'https://github.com' } = options;
  const section = absoluteLinks(options.section, `${serverUrl}/${repo}/blob/v${version}`);
  const major = `v${version.split('.')[0]}`;
  const lines = actionPaths.map((p) => `uses: ${repo}${p}@${commit} # v${version}`);
  return [
    section,
    '',
    '---',
    '',
    `Use this release as \`${repo}@v${version}\`, follow ${major} with \`${repo}@${major}\`, or pin its commit (recommended for a step that holds your Baseten API key):`,
    '',
    '```yaml',
    ...lines,
    '```',
    '',
  ].join('\n');
}
