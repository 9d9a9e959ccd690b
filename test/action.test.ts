// action.yml is the interface users see: every SPEC input and output, with those names,
// a description each, SPEC's defaults, node24, and a bundle each for main and post.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readActionYml } from './support/runner.js';
import { OPENAPI, SHARED_OPENAPI, SHARED_SPEC, SPEC_INPUTS, SPEC_OUTPUTS, haveShared } from './support/spec.js';

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
    const names = (heading: string): string[] => {
      const sectionText = spec.split(`## ${heading}`)[1]?.split('\n## ')[0] ?? '';
      return [...sectionText.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1] as string);
    };
    expect(names('Inputs').sort()).toEqual(Object.keys(SPEC_INPUTS).sort());
    expect(names('Outputs').sort()).toEqual([...SPEC_OUTPUTS].sort());
    expect(readFileSync(OPENAPI, 'utf8')).toBe(readFileSync(SHARED_OPENAPI, 'utf8'));
  });
});
