// The metrics file (src/eval/metrics.ts): both forms, and every bad input named by file, metric
// or item.

import { describe, expect, it } from 'vitest';
import { parseMetrics } from '../src/eval/metrics.js';

const WHERE = 'metrics: "out/m.json"';
const errorsOf = (text: string): string[] => {
  const result = parseMetrics(text, WHERE);
  return result.ok ? [] : result.errors;
};

describe('the metrics file', () => {
  it('an object of name → number, in the file order', () => {
    expect(parseMetrics('{"accuracy": 0.8, "loss": 1.25e-1, "n": -3}', WHERE)).toEqual({
      ok: true,
      metrics: [
        { name: 'accuracy', value: 0.8 },
        { name: 'loss', value: 0.125 },
        { name: 'n', value: -3 },
      ],
    });
  });

  it('a long name is read whole (it is cut only where it is shown)', () => {
    const name = `${'n'.repeat(999)}!`;
    expect(parseMetrics(JSON.stringify({ [name]: 1 }), WHERE)).toEqual({ ok: true, metrics: [{ name, value: 1 }] });
  });

  it('an array of {name, value} (other fields ignored)', () => {
    expect(parseMetrics('[{"name": "accuracy", "value": 0.8, "stderr": 0.01}, {"name": "loss", "value": 0}]', WHERE)).toEqual({
      ok: true,
      metrics: [
        { name: 'accuracy', value: 0.8 },
        { name: 'loss', value: 0 },
      ],
    });
  });

  it('a UTF-8 byte order mark before the JSON', () => {
    expect(parseMetrics('\uFEFF{"accuracy": 0.8}', WHERE)).toEqual({ ok: true, metrics: [{ name: 'accuracy', value: 0.8 }] });
  });

  it('names whole, whatever they hold', () => {
    const name = '</table> | @octocat `x` <!-- -->\n"quoted"';
    expect(parseMetrics(JSON.stringify({ [name]: 1 }), WHERE)).toEqual({ ok: true, metrics: [{ name, value: 1 }] });
  });
});

describe('bad input names the file and the metric or item', () => {
  it.each([
    ['not JSON', '{"accuracy": 0.8,}', /^metrics: "out\/m.json": not JSON \(/],
    ['empty', '', /not JSON/],
    ['a number', '0.8', /must be an object .* or an array .*\(got 0.8\)/],
    ['null', 'null', /must be an object/],
    ['a string value', '{"accuracy": "0.8"}', /metric "accuracy" is not a number \(got "0.8"\)/],
    ['null value', '{"accuracy": null}', /metric "accuracy" is not a number \(got null\)/],
    ['a boolean', '[{"name": "acc", "value": true}]', /metric "acc" is not a number \(got true\)/],
    ['an object value', '{"acc": {"mean": 1}}', /metric "acc" is not a number \(got {"mean":1}\)/],
    ['NaN (as Python writes it)', '{"accuracy": NaN}', /metric "accuracy" is NaN; values must be finite numbers/],
    ['Infinity', '{"loss": Infinity}', /metric "loss" is Infinity/],
    ['-Infinity', '[{"name": "loss", "value": -Infinity}]', /metric "loss" is -Infinity/],
    ['a number beyond double range', '{"loss": 1e400}', /metric "loss" is out of range \(Infinity\)/],
    ['a duplicate name (array form)', '[{"name": "acc", "value": 1}, {"name": "acc", "value": 2}]', /metric "acc" appears more than once/],
    ['an item without a name', '[{"value": 1}]', /item 1 has no "name"/],
    ['an item that is not an object', '[{"name": "a", "value": 1}, 3]', /item 2 has no "name" \(a string\): 3/],
    ['an item without a value', '[{"name": "acc"}]', /metric "acc" \(item 1\) has no "value"/],
    ['an empty name', '{"": 1}', /metric "" has an empty name/],
    ['a blank name', '{"  ": 1}', /has an empty name/],
    ['no metrics (object)', '{}', /no metrics \(an empty object\)/],
    ['no metrics (array)', '[]', /no metrics \(an empty array\)/],
  ])('%s', (_what, text, expected) => {
    const errors = errorsOf(text);
    expect(errors.length, JSON.stringify(errors)).toBeGreaterThan(0);
    expect(errors.every((e) => e.startsWith(`${WHERE}: `))).toBe(true);
    expect(errors.join('\n')).toMatch(expected);
  });

  it('NaN inside a string is text, not a bare NaN', () => {
    expect(parseMetrics('{"NaN": 1, "x \\"NaN\\" Infinity": 2}', WHERE)).toEqual({
      ok: true,
      metrics: [
        { name: 'NaN', value: 1 },
        { name: 'x "NaN" Infinity', value: 2 },
      ],
    });
  });

  it('more than 100 metrics; 100 are fine', () => {
    const of = (n: number): string => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, i])));
    expect(errorsOf(of(101))).toEqual([`${WHERE}: 101 metrics; at most 100`]);
    expect(parseMetrics(of(100), WHERE).ok).toBe(true);
  });

  it('every problem at once', () => {
    expect(errorsOf('[{"name": "a", "value": NaN}, {"name": "b", "value": "x"}, {"name": "c", "value": 1}]')).toEqual([
      `${WHERE}: metric "a" is NaN; values must be finite numbers`,
      `${WHERE}: metric "b" is not a number (got "x")`,
    ]);
  });
});
