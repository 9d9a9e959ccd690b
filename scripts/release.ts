// Releases, in two halves.
//
// Maintainers, on an up-to-date main with a clean tree:
//   npm run release -- 1.2.3 [--date YYYY-MM-DD] [--no-build]
// bumps package.json and package-lock.json, turns CHANGELOG.md's "## Unreleased" into
// "## 1.2.3 — <today>" under a fresh empty "## Unreleased", rebuilds dist/ (the bundles carry
// the version in their User-Agent), checks that they do, and prints the commands that commit,
// tag and push. Pushing the tag runs .github/workflows/release.yml.
//
// The release workflow, on the pushed tag:
//   npx tsx scripts/release.ts --check v1.2.3
// checks the tag against package.json, package-lock.json, CHANGELOG.md, the bundles and every
// action.yml, then writes the outputs the release job needs (version, major, commit,
// move_major, notes) to $GITHUB_OUTPUT, or prints them.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  actionFiles,
  actionPath,
  bundleUserAgentVersion,
  changelogSection,
  checkActions,
  compareVersions,
  movesMajorTag,
  parseVersion,
  releaseNotes,
  setPackageVersion,
  stampChangelog,
  versionOfTag,
} from './release-lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const file = (name: string): string => join(ROOT, name);
const read = (name: string): string => readFileSync(file(name), 'utf8');
const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

class ReleaseError extends Error {}

function fail(message: string): never {
  throw new ReleaseError(message);
}

/** Every bundle under dist/ that carries the User-Agent, with the version it carries. */
function bundleVersions(): Array<{ bundle: string; version: string | undefined }> {
  const dist = file('dist');
  if (!existsSync(dist)) return [];
  return readdirSync(dist, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dist, d.name, 'index.js')))
    .map((d) => `dist/${d.name}/index.js`)
    .sort()
    .map((bundle) => ({ bundle, text: read(bundle) }))
    .filter(({ text }) => text.includes('baseten-loops-launch/'))
    .map(({ bundle, text }) => ({ bundle, version: bundleUserAgentVersion(text) }));
}

function checkBundles(version: string): string[] {
  const found = bundleVersions();
  if (!found.some((b) => b.bundle === 'dist/main/index.js')) return ['dist/main/index.js carries no User-Agent version'];
  return found
    .filter((b) => b.version !== version)
    .map((b) => `${b.bundle} sends User-Agent baseten-loops-launch/${b.version ?? '(unreadable)'}, not ${version}`);
}

function prepare(args: string[]): void {
  let date = new Date().toISOString().slice(0, 10);
  let build = true;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--date') date = args[++i] ?? fail('--date needs YYYY-MM-DD');
    else if (arg === '--no-build') build = false;
    else if (arg.startsWith('-')) fail(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length !== 1) fail('usage: npm run release -- X.Y.Z [--date YYYY-MM-DD] [--no-build]');
  const version = (positional[0] as string).replace(/^v/, '');
  const next = parseVersion(version) ?? fail(`"${positional[0]}" is not a version (X.Y.Z)`);

  const pkg = JSON.parse(read('package.json')) as { version: string };
  const current = parseVersion(pkg.version) ?? fail(`package.json has version "${pkg.version}", not X.Y.Z`);
  if (compareVersions(next, current) <= 0) fail(`${version} is not newer than package.json's ${pkg.version}`);
  const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trimEnd();
  if (dirty) fail(`the working tree has changes; commit or stash them first:\n${dirty}`);
  if (git('tag', '--list', `v${version}`)) fail(`tag v${version} exists already`);

  const changelog = stampChangelog(read('CHANGELOG.md'), version, date);
  writeFileSync(file('package.json'), setPackageVersion(read('package.json'), version));
  if (existsSync(file('package-lock.json'))) writeFileSync(file('package-lock.json'), setPackageVersion(read('package-lock.json'), version));
  writeFileSync(file('CHANGELOG.md'), changelog);
  console.log(`package.json, package-lock.json: ${pkg.version} → ${version}`);
  console.log(`CHANGELOG.md: "## Unreleased" is now "## ${version} — ${date}"`);

  if (build) {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
    const problems = checkBundles(version);
    if (problems.length) fail(`the rebuilt bundles do not carry ${version}:\n${problems.join('\n')}`);
    console.log(`dist/: rebuilt; the bundles send User-Agent baseten-loops-launch/${version}`);
  } else {
    console.log('dist/: not rebuilt (--no-build); run `npm run build` before committing, or the release workflow fails');
  }

  const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
  const major = `v${next.major}`;
  console.log(
    [
      '',
      `Review the changes (git diff), then commit, tag and push${branch === 'main' ? '' : ` (you are on ${branch}, not main)`}:`,
      '',
      '  git add package.json package-lock.json CHANGELOG.md dist',
      `  git commit -m "Release ${version}"`,
      `  git tag -a v${version} -m "v${version}"`,
      `  git push origin ${branch}`,
      `  git push origin v${version}`,
      '',
      `The tag runs the release workflow: it checks dist/ against a fresh build and runs the tests, creates the`,
      `GitHub release v${version} with the CHANGELOG section as notes, and moves ${major} to it.`,
    ].join('\n'),
  );
}

function check(args: string[]): void {
  if (args.length !== 1) fail('usage: tsx scripts/release.ts --check vX.Y.Z');
  const tag = args[0] as string;
  let version: string;
  try {
    version = versionOfTag(tag);
  } catch (error) {
    fail((error as Error).message);
  }
  const problems: string[] = [];
  const pkg = JSON.parse(read('package.json')) as { version: string };
  if (pkg.version !== version) problems.push(`package.json has version ${pkg.version}, the tag is ${tag}`);
  if (existsSync(file('package-lock.json'))) {
    const lock = JSON.parse(read('package-lock.json')) as { version?: string; packages?: Record<string, { version?: string }> };
    if (lock.version !== version || (lock.packages?.['']?.version ?? version) !== version) {
      problems.push(`package-lock.json has version ${lock.version}, the tag is ${tag}`);
    }
  }
  let section = '';
  try {
    section = changelogSection(read('CHANGELOG.md'), version);
  } catch (error) {
    problems.push((error as Error).message);
  }
  problems.push(...checkActions(ROOT), ...checkBundles(version));
  if (problems.length) fail(`${tag} cannot be released:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

  const commit = git('rev-parse', `${tag}^{commit}`);
  const major = `v${version.split('.')[0]}`;
  const moveMajor = movesMajorTag(version, git('tag', '--list', `${major}.*`).split('\n'));
  const repo = process.env.GITHUB_REPOSITORY || 'OWNER/REPO';
  const paths = actionFiles(ROOT).map((f) => actionPath(ROOT, f));
  const serverUrl = process.env.GITHUB_SERVER_URL || 'https://github.com';
  const notes = releaseNotes({ section, version, repo, commit, actionPaths: paths, serverUrl });

  const outputs = { version, major, commit, move_major: String(moveMajor) };
  const target = process.env.GITHUB_OUTPUT;
  if (target) {
    const delimiter = `NOTES_${randomBytes(12).toString('hex')}`;
    const lines = Object.entries(outputs).map(([k, v]) => `${k}=${v}`);
    appendFileSync(target, `${lines.join('\n')}\nnotes<<${delimiter}\n${notes}\n${delimiter}\n`);
  }
  console.log(`${tag} can be released: commit ${commit}, actions ${paths.map((p) => `${repo}${p}`).join(', ')}`);
  console.log(moveMajor ? `${major} moves to ${tag}` : `${major} stays: a newer ${major}.x.y tag exists`);
  if (!target) console.log(`\n${notes}`);
}

try {
  const args = process.argv.slice(2);
  if (args[0] === '--check') check(args.slice(1));
  else prepare(args);
} catch (error) {
  if (!(error instanceof ReleaseError)) throw error;
  console.error(`release: ${error.message}`);
  process.exit(1);
}
