// action.yml is the interface users see: every SPEC input and output, with those names,
// a description each, SPEC's defaults, node24, and a bundle each for main and post.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPORT_DEFAULTS, REPORT_OUTPUT_NAMES } from '../src/eval/inputs.js';
import { ROOT, readActionYml } from './support/runner.js';
import {
  OPENAPI,
  SHARED_OPENAPI,
  SHARED_SPEC,
  SPEC_INPUTS,
  SPEC_OUTPUTS,
  SPEC_REPORT_INPUTS,
  SPEC_REPORT_OUTPUTS,
  SPEC_STOP_INPUTS,
  SPEC_STOP_OUTPUTS,
  haveShared,
} from './support/spec.js';

const action = readActionYml();

describe('action.yml', () => {
  it('declares exactly the SPEC inputs, each described, with the SPEC defaults', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(SPEC_INPUTS).sort());
    for (const [name, fallback] of Object.entries(SPEC_INPUTS)) {
      const input = action.inputs[name];
      expect(input?.description?.length, `${name} description`).toBeGreaterThan(10);
      expect(input?.default ?? '', `${name} default`).toBe(fallback);
    }
    expect(action.inputs.base_model?.required).toBe(true);
  });

  it('declares exactly the SPEC outputs, each described', () => {
    expect(Object.keys(action.outputs).sort()).toEqual([...SPEC_OUTPUTS].sort());
    for (const name of SPEC_OUTPUTS) expect(action.outputs[name]?.description?.length, name).toBeGreaterThan(5);
  });

  it('runs on node24, with its own bundle for the main and for the post step', () => {
    expect(action.runs).toMatchObject({ using: 'node24', main: 'dist/main/index.js', post: 'dist/post/index.js' });
  });

  it.runIf(haveShared)('keeps its copy of the SPEC names and the API description in step with shared/', () => {
    const spec = readFileSync(SHARED_SPEC, 'utf8');
    const section = (heading: string): string => spec.split(`## ${heading}`)[1]?.split('\n## ')[0] ?? '';
    const rowNames = (text: string): string[] => [...text.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1] as string);
    const codeNames = (text: string): string[] => [...text.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string);
    // The names a sentence lists, not those its parentheses mention.
    const listed = (text: string): string[] => codeNames(text.replace(/\([^()]*\)/g, ''));
    const life = section("The run's life in a pull request");
    const [lifeInputs = '', stopPart = ''] = life.split('**The stop action**');
    const stopInputs = stopPart.split('Outputs:')[0] ?? '';
    const stopOutputs = (stopPart.split('Outputs:')[1] ?? '').split('. ')[0] ?? '';
    const launchOutputs = (life.split('New launch outputs:')[1] ?? '').split('\n\n')[0] ?? '';
    const evalHandoff = section('Eval handoff');
    const evalInputs = [...evalHandoff.matchAll(/^- `([a-z_]+)` \(default/gm)].map((m) => m[1] as string);
    const evalOutputs = listed((evalHandoff.split('New outputs:')[1] ?? '').split('\n- ')[0] ?? '');
    // A later section's tables: the one whose header starts with `| input |`, and the one with `| output |`.
    const table = (text: string, head: string): string => text.split('\n\n').find((block) => block.trim().startsWith(`| ${head} |`)) ?? '';
    const [modes, forensics] = [section('Availability modes'), section('Failure forensics')];
    const later = (head: string): string[] => [...rowNames(table(modes, head)), ...rowNames(table(forensics, head))];
    expect([...rowNames(section('Inputs')), ...rowNames(lifeInputs), ...evalInputs, ...later('input')].sort()).toEqual(
      Object.keys(SPEC_INPUTS).sort(),
    );
    expect([...rowNames(section('Outputs')), ...listed(launchOutputs), ...evalOutputs, ...later('output')].sort()).toEqual(
      [...SPEC_OUTPUTS].sort(),
    );
    const stopNames = stopInputs
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => codeNames(l.split(' | ')[0] ?? ''));
    expect(stopNames.sort()).toEqual(Object.keys(SPEC_STOP_INPUTS).sort());
    expect(listed(stopOutputs).sort()).toEqual([...SPEC_STOP_OUTPUTS].sort());
    const report = section('Eval report');
    const reportTable = report.split('\n').filter((l) => l.startsWith('| `'));
    // An input the table mentions inside another's meaning: "`name: true` (default `false`)".
    const inline = [...report.matchAll(/`([a-z_]+): [a-z]+` \(default `([^`]*)`\)/g)].map((m) => [m[1] as string, m[2] as string] as const);
    const tableNames = reportTable.flatMap((l) => codeNames(l.split(' | ')[0] ?? ''));
    expect([...tableNames, ...inline.map(([name]) => name)].sort()).toEqual(Object.keys(SPEC_REPORT_INPUTS).sort());
    for (const [name, given] of inline) expect(SPEC_REPORT_INPUTS[name], name).toBe(given);
    for (const row of reportTable) {
      const [names = '', fallback = ''] = row.split(' | ');
      // "as launch" rows name the launch's defaults; the others give theirs in code, or none.
      const given = fallback.includes('as launch') ? undefined : (/`([^`]*)`/.exec(fallback)?.[1] ?? '').replace(/^''$/, '');
      for (const name of codeNames(names)) if (given !== undefined) expect(SPEC_REPORT_INPUTS[name], name).toBe(given);
    }
    expect(listed((report.split('Outputs:')[1] ?? '').split('\n\n')[0] ?? '').sort()).toEqual([...SPEC_REPORT_OUTPUTS].sort());
    expect(readFileSync(OPENAPI, 'utf8')).toBe(readFileSync(SHARED_OPENAPI, 'utf8'));
  });
});

describe.each([
  ['stop', SPEC_STOP_INPUTS, SPEC_STOP_OUTPUTS],
  ['report', SPEC_REPORT_INPUTS, SPEC_REPORT_OUTPUTS],
] as const)('%s/action.yml', (dir, specInputs, specOutputs) => {
  const action = readActionYml(join(ROOT, dir));

  it('declares exactly the SPEC inputs of the action, each described, with the SPEC defaults', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(specInputs).sort());
    for (const [name, fallback] of Object.entries(specInputs)) {
      expect(action.inputs[name]?.description?.length, `${name} description`).toBeGreaterThan(10);
      expect(action.inputs[name]?.default ?? '', `${name} default`).toBe(fallback);
    }
  });

  it('declares exactly the SPEC outputs of the action', () => {
    expect(Object.keys(action.outputs).sort()).toEqual([...specOutputs].sort());
  });

  it('runs its own bundle on node24, from the root dist/', () => {
    expect(action.runs).toEqual({ using: 'node24', main: `../dist/${dir}/index.js` });
    expect(existsSync(join(ROOT, dir, action.runs.main))).toBe(true);
  });
});

describe('report/action.yml', () => {
  const report = readActionYml(join(ROOT, 'report'));

  it('requires metrics; its defaults and outputs are the ones the code reads', () => {
    expect(report.inputs.metrics?.required).toBe(true);
    for (const [name, fallback] of Object.entries(REPORT_DEFAULTS)) expect(report.inputs[name]?.default, name).toBe(fallback);
    expect(Object.keys(report.outputs)).toEqual([...REPORT_OUTPUT_NAMES]);
  });
});
