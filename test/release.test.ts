// Releases: the licence, changelog and security policy exist and agree with package.json; the
// release script's pieces (versions, changelog stamping, package.json, the bundle's User-Agent,
// the actions released, the notes, the major tag); and a dry run of `npm run release` in a
// temporary clone of this working tree: version bumped, changelog stamped, bundles rebuilt with
// the new User-Agent, then the release workflow's `--check` on the tag it would push.

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actionFiles,
  actionPath,
  bundleUserAgentVersion,
  changelogSection,
  checkActions,
  movesMajorTag,
  parseVersion,
  releaseNotes,
  setPackageVersion,
  stampChangelog,
  versionOfTag,
} from '../scripts/release-lib.js';
import { USER_AGENT } from '../src/shared.js';
import { ROOT } from './support/runner.js';

const read = (name: string, root = ROOT): string => readFileSync(join(root, name), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; license: string; scripts: Record<string, string> };

describe('LICENSE, CHANGELOG.md and SECURITY.md', () => {
  it('LICENSE is the MIT licence package.json declares', () => {
    expect(pkg.license).toBe('MIT');
    const license = read('LICENSE');
    expect(license.split('\n')[0]).toBe('MIT License');
    expect(license).toMatch(/^Copyright \(c\) \d{4} \S/m);
    expect(license).toContain('Permission is hereby granted, free of charge, to any person obtaining a copy');
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
  });

  it('CHANGELOG.md has one Unreleased section on top describing the first release, including the stop action', () => {
    const changelog = read('CHANGELOG.md');
    const headings = [...changelog.matchAll(/^## (.*)$/gm)].map((m) => m[1] as string);
    expect(headings[0]).toBe('Unreleased');
    expect(headings.filter((h) => h === 'Unreleased')).toHaveLength(1);
    const unreleased = changelog.split(/^## Unreleased$/m)[1]?.split(/^## /m)[0] ?? '';
    expect(unreleased).toContain('your-org/baseten-loops-launch@v1');
    expect(unreleased).toMatch(/^- \*\*Stop action\*\* \(`your-org\/baseten-loops-launch\/stop@v1`\)/m);
  });

  it('CHANGELOG.md lists released versions newest first, each with a date', () => {
    const released = [...read('CHANGELOG.md').matchAll(/^## (\d+\.\d+\.\d+) — (\d{4}-\d{2}-\d{2})$/gm)].map((m) => m[1] as string);
    const versions = released.map((v) => parseVersion(v)).map((v) => [v?.major ?? 0, v?.minor ?? 0, v?.patch ?? 0]);
    const sorted = [...versions].sort(
      (a, b) => (b[0] as number) - (a[0] as number) || (b[1] as number) - (a[1] as number) || (b[2] as number) - (a[2] as number),
    );
    expect(versions).toEqual(sorted);
    const other = [...read('CHANGELOG.md').matchAll(/^## (.*)$/gm)]
      .map((m) => m[1] as string)
      .filter((h) => h !== 'Unreleased' && !/^\d+\.\d+\.\d+ — \d{4}-\d{2}-\d{2}$/.test(h));
    expect(other, 'headings that are neither Unreleased nor "X.Y.Z — YYYY-MM-DD"').toEqual([]);
  });

  it('SECURITY.md says how to report a vulnerability and where the key is sent', () => {
    const security = read('SECURITY.md');
    expect(security).toMatch(/^## Reporting a vulnerability$/m);
    expect(security).toContain('Report a\nvulnerability');
    expect(security).toMatch(/^## What the action promises about the key$/m);
    for (const promise of ['api_base_url', 'https://api.baseten.co', 'Authorization', 'redirect', 'dry_run']) expect(security).toContain(promise);
    expect(read('README.md')).toContain('[SECURITY.md](SECURITY.md)');
  });

  it('npm run release runs scripts/release.ts', () => {
    expect(pkg.scripts.release).toBe('tsx scripts/release.ts');
  });
});

describe('the User-Agent', () => {
  it('is built from package.json, never a copy', () => {
    expect(USER_AGENT).toBe(`baseten-loops-launch/${pkg.version}`);
    expect(read('src/shared.ts')).toMatch(/USER_AGENT = `baseten-loops-launch\/\$\{pkg\.version\}`/);
    expect(read('src/shared.ts')).not.toMatch(/baseten-loops-launch\/\d/);
  });

  it('the committed bundles send the version in package.json', () => {
    for (const bundle of ['dist/main/index.js', 'dist/post/index.js']) expect(bundleUserAgentVersion(read(bundle)), bundle).toBe(pkg.version);
  });

  it('is read from minified code: a template over the nearest inlined package.json, or a literal', () => {
    const minified =
      'const Ae={rE:"9.9.9"};function f(){const Ae={rE:"0.0.1"}}const Ae={rE:"1.2.3",x:1};const Ce=`baseten-loops-launch/${Ae.rE}`;';
    expect(bundleUserAgentVersion(minified)).toBe('1.2.3');
    expect(bundleUserAgentVersion('const $a={v:"2.0.0"};x=`baseten-loops-launch/${$a.v}`')).toBe('2.0.0');
    expect(bundleUserAgentVersion('ua:"baseten-loops-launch/3.1.4"')).toBe('3.1.4');
    expect(bundleUserAgentVersion('const Ce=`baseten-loops-launch/${Ae.rE}`;')).toBeUndefined();
    expect(bundleUserAgentVersion('no user agent here')).toBeUndefined();
  });
});

describe('release pieces', () => {
  const CHANGELOG = `# Changelog

Intro.

## Unreleased

- New thing.

## 1.0.0 — 2026-01-02

- First.
`;

  it('parses versions and release tags strictly', () => {
    expect(parseVersion('1.2.3')).toEqual({ major: 1, minor: 2, patch: 3 });
    for (const bad of ['v1.2.3', '1.2', '1.2.3-rc.1', '01.2.3', '1.2.3 ', '']) expect(parseVersion(bad), bad).toBeUndefined();
    expect(versionOfTag('v10.0.1')).toBe('10.0.1');
    for (const bad of ['1.2.3', 'v1', 'v1.2', 'v1.2.3-rc.1', 'release-1.2.3']) expect(() => versionOfTag(bad), bad).toThrow(/not a release tag/);
  });

  it('stamps Unreleased with the version and date, under a fresh empty Unreleased', () => {
    expect(stampChangelog(CHANGELOG, '1.1.0', '2026-11-22')).toBe(`# Changelog

Intro.

## Unreleased

## 1.1.0 — 2026-11-22

- New thing.

## 1.0.0 — 2026-01-02

- First.
`);
  });

  it('refuses an empty Unreleased, a missing one, a version already released, bad versions and dates', () => {
    const stamped = stampChangelog(CHANGELOG, '1.1.0', '2026-11-22');
    expect(() => stampChangelog(stamped, '1.2.0', '2026-11-23')).toThrow(/Unreleased section is empty/);
    expect(() => stampChangelog(CHANGELOG.replace('- New thing.', '<!-- nothing yet -->'), '1.1.0', '2026-11-22')).toThrow(/empty/);
    expect(() => stampChangelog(CHANGELOG.replace('## Unreleased', '## Next'), '1.1.0', '2026-11-22')).toThrow(/exactly one "## Unreleased"/);
    expect(() => stampChangelog(CHANGELOG, '1.0.0', '2026-11-22')).toThrow(/already has a 1.0.0 section/);
    expect(() => stampChangelog(CHANGELOG, 'v1.1.0', '2026-11-22')).toThrow(/not a version/);
    expect(() => stampChangelog(CHANGELOG, '1.1.0', '22/11/2026')).toThrow(/not a date/);
  });

  it('reads one version’s section as the release notes', () => {
    const stamped = stampChangelog(CHANGELOG, '1.1.0', '2026-11-22');
    expect(changelogSection(stamped, '1.1.0')).toBe('- New thing.');
    expect(changelogSection(stamped, '1.0.0')).toBe('- First.');
    expect(() => changelogSection(stamped, '1.2.0')).toThrow(/no "## 1.2.0 — YYYY-MM-DD" section/);
    expect(() => changelogSection('## 2.0.0 — 2026-01-01\n\n## 1.0.0 — 2025-01-01\n- x\n', '2.0.0')).toThrow(/empty/);
  });

  it('the real CHANGELOG.md stamps as 1.0.0', () => {
    const stamped = stampChangelog(read('CHANGELOG.md'), '1.0.0', '2026-11-22');
    expect(changelogSection(stamped, '1.0.0')).toMatch(/^The first release\./);
  });

  it('sets the version in package.json and package-lock.json and changes nothing else', () => {
    for (const name of ['package.json', 'package-lock.json']) {
      const before = read(name);
      const after = setPackageVersion(before, '7.8.9');
      const changed = after.split('\n').filter((line, i) => line !== before.split('\n')[i]);
      expect(
        changed.map((l) => l.trim()),
        name,
      ).toEqual(name === 'package.json' ? ['"version": "7.8.9",'] : ['"version": "7.8.9",', '"version": "7.8.9",']);
      expect(after.split('\n')).toHaveLength(before.split('\n').length);
    }
  });

  it('moves the major tag only to the newest release of that major', () => {
    const tags = ['v1.0.0', 'v1.1.0', 'v2.0.0', 'v1', 'v2'];
    expect(movesMajorTag('1.2.0', tags)).toBe(true);
    expect(movesMajorTag('1.0.1', tags)).toBe(false);
    expect(movesMajorTag('1.1.0', tags)).toBe(true);
    expect(movesMajorTag('2.0.1', tags)).toBe(true);
    expect(movesMajorTag('3.0.0', [])).toBe(true);
  });

  it('releases the root action and every <dir>/action.yml, and checks their entry files', () => {
    const root = mkdtempSync(join(tmpdir(), 'release-actions-'));
    try {
      const write = (name: string, text: string): void => {
        mkdirSync(dirname(join(root, name)), { recursive: true });
        writeFileSync(join(root, name), text);
      };
      write('action.yml', 'name: Launch\nruns:\n  using: node24\n  main: dist/main/index.js\n  post: dist/post/index.js\n');
      write('dist/main/index.js', '');
      write('dist/post/index.js', '');
      write('stop/action.yml', 'name: Stop\nruns:\n  using: node24\n  main: ../dist/stop/index.js\n');
      write('node_modules/x/action.yml', 'name: not ours\n');
      write('docs/README.md', '');
      expect(actionFiles(root).map((f) => actionPath(root, f))).toEqual(['', '/stop']);
      expect(checkActions(root)).toEqual(['stop/action.yml: runs.main ../dist/stop/index.js does not exist']);
      write('dist/stop/index.js', '');
      expect(checkActions(root)).toEqual([]);
      write('stop/action.yml', 'name: Stop\nruns:\n  using: node20\n  main: ../dist/stop/index.js\n');
      expect(checkActions(root)).toEqual(["stop/action.yml: runs.using is node20, the root action's is node24"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the real actions are all present: the launch, the eval report and the stop action', () => {
    expect(actionFiles(ROOT).map((f) => actionPath(ROOT, f))).toEqual(['', '/report', '/stop']);
    expect(checkActions(ROOT)).toEqual([]);
  });

  it('release notes are the changelog section, then a pin line per action', () => {
    const notes = releaseNotes({
      section: '- New thing.',
      version: '1.1.0',
      repo: 'acme/loops',
      commit: 'a'.repeat(40),
      actionPaths: ['', '/stop'],
    });
    expect(notes.startsWith('- New thing.\n\n---\n')).toBe(true);
    expect(notes).toContain('`acme/loops@v1.1.0`');
    expect(notes).toContain('`acme/loops@v1`');
    expect(notes).toContain(`uses: acme/loops@${'a'.repeat(40)} # v1.1.0\nuses: acme/loops/stop@${'a'.repeat(40)} # v1.1.0\n`);
  });

  it('release notes link to the files of the release, not to paths relative to the release page', () => {
    const section = 'See [SECURITY.md](SECURITY.md), [the doc](./docs/a.md#x), [site](https://x.test/a), [top](#top) and [root](/abs).';
    const notes = releaseNotes({
      section,
      version: '1.1.0',
      repo: 'acme/loops',
      commit: 'a'.repeat(40),
      actionPaths: [''],
      serverUrl: 'https://ghe.test',
    });
    expect(notes.split('\n')[0]).toBe(
      'See [SECURITY.md](https://ghe.test/acme/loops/blob/v1.1.0/SECURITY.md), [the doc](https://ghe.test/acme/loops/blob/v1.1.0/docs/a.md#x), [site](https://x.test/a), [top](#top) and [root](/abs).',
    );
  });
});

describe('npm run release, dry run in a temporary clone', () => {
  let clone = '';
  const env = {
    ...process.env,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Release Test',
    GIT_AUTHOR_EMAIL: 'release-test@example.invalid',
    GIT_COMMITTER_NAME: 'Release Test',
    GIT_COMMITTER_EMAIL: 'release-test@example.invalid',
    SCARF_ANALYTICS: 'false',
    npm_config_update_notifier: 'false',
    GITHUB_OUTPUT: '',
    GITHUB_REPOSITORY: 'acme/loops-launch',
    GITHUB_SERVER_URL: 'https://github.com',
  };
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: clone, env, encoding: 'utf8' }).trim();
  const run = (command: string, args: string[], extra: Record<string, string> = {}) => {
    const result = spawnSync(command, args, { cwd: clone, env: { ...env, ...extra }, encoding: 'utf8', timeout: 240_000 });
    return { code: result.status, out: `${result.stdout}${result.stderr}` };
  };

  beforeAll(() => {
    // This working tree as it is (tracked and new files, not ignored ones), committed in a fresh
    // repository, with node_modules linked from here.
    clone = mkdtempSync(join(tmpdir(), 'release-clone-'));
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && existsSync(join(ROOT, f)));
    for (const file of files) {
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      cpSync(join(ROOT, file), join(clone, file));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    git('init', '-q', '-b', 'main');
    writeFileSync(join(clone, '.git', 'info', 'exclude'), 'node_modules\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'Before the release');
  }, 60_000);

  afterAll(() => {
    if (clone) rmSync(clone, { recursive: true, force: true });
  });

  it('refuses a version that is not newer, and changes nothing', () => {
    const result = run('npm', ['run', '-s', 'release', '--', pkg.version, '--no-build']);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`is not newer than package.json's ${pkg.version}`);
    expect(git('status', '--porcelain')).toBe('');
  });

  it('bumps package.json, stamps the changelog, rebuilds the bundles with the new User-Agent and prints the push commands', () => {
    const before = read('CHANGELOG.md', clone);
    const result = run('npm', ['run', '-s', 'release', '--', '1.0.0', '--date', '2026-11-22']);
    expect(result.code, result.out).toBe(0);

    expect((JSON.parse(read('package.json', clone)) as { version: string }).version).toBe('1.0.0');
    const lock = JSON.parse(read('package-lock.json', clone)) as { version: string; packages: Record<string, { version: string }> };
    expect([lock.version, lock.packages['']?.version]).toEqual(['1.0.0', '1.0.0']);

    const changelog = read('CHANGELOG.md', clone);
    expect(changelog).toBe(before.replace(/^## Unreleased$/m, '## Unreleased\n\n## 1.0.0 — 2026-11-22'));
    expect(changelog).toMatch(/^## Unreleased\n\n## 1\.0\.0 — 2026-11-22\n\nThe first release\./m);

    for (const bundle of ['dist/main/index.js', 'dist/post/index.js']) {
      expect(bundleUserAgentVersion(read(bundle, clone)), bundle).toBe('1.0.0');
      expect(read(bundle, clone)).not.toContain(`"${pkg.version}"`);
    }
    const changed = execFileSync('git', ['status', '--porcelain'], { cwd: clone, env, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(
      changed
        .map((l) => l.slice(3))
        .filter((f) => !f.startsWith('dist/'))
        .sort(),
    ).toEqual(['CHANGELOG.md', 'package-lock.json', 'package.json']);

    for (const command of [
      'git add package.json package-lock.json CHANGELOG.md dist',
      'git commit -m "Release 1.0.0"',
      'git tag -a v1.0.0 -m "v1.0.0"',
      'git push origin main',
      'git push origin v1.0.0',
    ]) {
      expect(result.out).toContain(`  ${command}\n`);
    }
    expect(result.out).toContain('moves v1 to it');
  }, 240_000);

  it('refuses to run on a tree with changes', () => {
    const result = run('npm', ['run', '-s', 'release', '--', '1.0.1', '--no-build']);
    expect(result.code).toBe(1);
    expect(result.out).toContain('the working tree has changes');
  });

  it('after the printed commit and tag, the release workflow check passes and writes the notes', () => {
    git('add', 'package.json', 'package-lock.json', 'CHANGELOG.md', 'dist');
    git('commit', '-q', '-m', 'Release 1.0.0');
    git('tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
    const output = join(clone, '.git', 'github-output');
    writeFileSync(output, '');
    const result = run('npx', ['tsx', 'scripts/release.ts', '--check', 'v1.0.0'], { GITHUB_OUTPUT: output });
    expect(result.code, result.out).toBe(0);

    const commit = git('rev-parse', 'HEAD');
    const written = readFileSync(output, 'utf8');
    expect(written).toMatch(new RegExp(`^version=1\\.0\\.0\\nmajor=v1\\ncommit=${commit}\\nmove_major=true\\nnotes<<(NOTES_[0-9a-f]{24})\\n`));
    const delimiter = /notes<<(\S+)/.exec(written)?.[1] as string;
    const notes = written.split(`notes<<${delimiter}\n`)[1]?.split(`\n${delimiter}\n`)[0] ?? '';
    expect(notes.startsWith('The first release.\n')).toBe(true);
    expect(notes).toContain(`uses: acme/loops-launch@${commit} # v1.0.0`);
    expect(notes).not.toContain('## Unreleased');
    expect(notes).toContain('[SECURITY.md](https://github.com/acme/loops-launch/blob/v1.0.0/SECURITY.md)');
  });

  it('the check releases a sub-action with the same tag and refuses a tag that does not match', () => {
    mkdirSync(join(clone, 'extra'));
    writeFileSync(join(clone, 'extra', 'action.yml'), 'name: Extra\nruns:\n  using: node24\n  main: ../dist/extra/index.js\n');
    let result = run('npx', ['tsx', 'scripts/release.ts', '--check', 'v1.0.0']);
    expect(result.code).toBe(1);
    expect(result.out).toContain('extra/action.yml: runs.main ../dist/extra/index.js does not exist');

    cpSync(join(clone, 'dist', 'post'), join(clone, 'dist', 'extra'), { recursive: true });
    result = run('npx', ['tsx', 'scripts/release.ts', '--check', 'v1.0.0']);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain('actions acme/loops-launch, acme/loops-launch/extra, acme/loops-launch/report, acme/loops-launch/stop');
    expect(result.out).toContain(`uses: acme/loops-launch/report@${git('rev-parse', 'HEAD')} # v1.0.0`);
    expect(result.out).toContain(`uses: acme/loops-launch/stop@${git('rev-parse', 'HEAD')} # v1.0.0`);
    expect(result.out).toContain(`uses: acme/loops-launch/extra@${git('rev-parse', 'HEAD')} # v1.0.0`);

    result = run('npx', ['tsx', 'scripts/release.ts', '--check', 'v1.0.1']);
    expect(result.code).toBe(1);
    expect(result.out).toContain('package.json has version 1.0.0, the tag is v1.0.1');
    expect(result.out).toContain('CHANGELOG.md has no "## 1.0.1 — YYYY-MM-DD" section');
    expect(result.out).toContain('dist/main/index.js sends User-Agent baseten-loops-launch/1.0.0, not 1.0.1');
  }, 60_000);
});
