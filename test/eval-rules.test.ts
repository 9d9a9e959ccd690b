// The threshold grammar (src/eval/rules.ts): every form of a rule, every bad form with the line it
// names, evaluation against this push and the baseline, and the verdict (conclusion, passed,
// failed_rules) of SPEC.md › Eval report.

import { describe, expect, it } from 'vitest';
import { type Rule, type RuleResult, conclude, evaluate, failureLine, parseRule, parseRules, round } from '../src/eval/rules.js';

const rule = (text: string): Rule => {
  const parsed = parseRule(text, 1);
  if (typeof parsed === 'string') throw new Error(`${text}: ${parsed}`);
  return parsed;
};

describe('a rule: NAME OP RHS', () => {
  it.each([
    ['accuracy >= 0.80', 'accuracy', '>=', { kind: 'number', value: 0.8 }],
    ['loss <= 1.5', 'loss', '<=', { kind: 'number', value: 1.5 }],
    ['f1 > 0.5', 'f1', '>', { kind: 'number', value: 0.5 }],
    ['latency_ms < 250', 'latency_ms', '<', { kind: 'number', value: 250 }],
    ['delta >= -0.25', 'delta', '>=', { kind: 'number', value: -0.25 }],
    ['x <= +3', 'x', '<=', { kind: 'number', value: 3 }],
    ['x < .5', 'x', '<', { kind: 'number', value: 0.5 }],
    ['x < 5.', 'x', '<', { kind: 'number', value: 5 }],
    ['x >= 1e-3', 'x', '>=', { kind: 'number', value: 0.001 }],
    ['x >= 2E+2', 'x', '>=', { kind: 'number', value: 200 }],
    ['exact_match >= baseline', 'exact_match', '>=', { kind: 'baseline', offset: 0 }],
    ['loss <= baseline + 0.05', 'loss', '<=', { kind: 'baseline', offset: 0.05 }],
    ['exact_match >= baseline - 0.01', 'exact_match', '>=', { kind: 'baseline', offset: -0.01 }],
    ['loss<=baseline+0.05', 'loss', '<=', { kind: 'baseline', offset: 0.05 }],
    ['accuracy>=0.8', 'accuracy', '>=', { kind: 'number', value: 0.8 }],
    ['  accuracy   >=   0.8  ', 'accuracy', '>=', { kind: 'number', value: 0.8 }],
    ['pass@1 >= 0.3', 'pass@1', '>=', { kind: 'number', value: 0.3 }],
    ['exact match (strict) >= 0.5', 'exact match (strict)', '>=', { kind: 'number', value: 0.5 }],
    ['a>b >= 0.5', 'a>b', '>=', { kind: 'number', value: 0.5 }],
    ['x < 1 >= 2', 'x < 1', '>=', { kind: 'number', value: 2 }],
    ['"name with \\"quotes\\" = and >=" >= baseline - 1', 'name with "quotes" = and >=', '>=', { kind: 'baseline', offset: -1 }],
    ['"ends with =" > 0', 'ends with =', '>', { kind: 'number', value: 0 }],
  ])('%s', (text, metric, op, rhs) => {
    expect(parseRule(text.trim(), 7)).toEqual({ line: 7, text: text.trim(), metric, op, rhs });
  });
});

describe('a line that is not a rule names its line and says why', () => {
  it.each([
    ['accuracy', /no operator/],
    ['accuracy == 0.8', /== is not an operator/],
    ['accuracy = 0.8', /= is not an operator/],
    ['accuracy != 0.8', /!= is not an operator/],
    ['accuracy => 0.8', /=> is not an operator/],
    ['accuracy =< 0.8', /=< is not an operator/],
    ['accuracy >== 0.8', /== is not an operator/],
    ['>= 0.8', /no metric name/],
    ['accuracy >=', /what follows the operator/],
    ['accuracy >= high', /what follows the operator/],
    ['accuracy >= 80%', /what follows the operator/],
    ['accuracy >= 0.8.1', /what follows the operator/],
    ['accuracy >= baseline * 1.1', /what follows the operator/],
    ['accuracy >= baseline + -0.1', /what follows the operator/],
    ['accuracy >= baseline +', /what follows the operator/],
    ['accuracy >= Baseline', /what follows the operator/],
    ['accuracy >= 0x10', /what follows the operator/],
    ['accuracy >= 1e999', /out of range/],
    ['loss <= baseline + 1e999', /out of range/],
    ['"unclosed >= 1', /quoted name is not closed/],
    ['"" >= 1', /no metric name/],
    [`${'m'.repeat(2001)} >= 1`, /longer than 2000 characters/],
  ])('%s', (text, why) => {
    const result = parseRules(`accuracy >= 0.5\n\n${text}`);
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^thresholds: line 3 \(/);
    expect(errors[0]).toMatch(why);
  });

  it('reports every bad line at once, and counts lines as written (blank lines and # comments skipped)', () => {
    const result = parseRules('\n# gates\nacc >= 0.8\r\nacc = 1\n\nloss <=\n');
    expect(result.ok ? [] : result.errors.map((e) => e.split(' (')[0])).toEqual(['thresholds: line 4', 'thresholds: line 6']);
    expect(parseRules('# only comments\n\n   \n')).toEqual({ ok: true, rules: [] });
    expect(parseRules('')).toEqual({ ok: true, rules: [] });
  });

  it('more than 100 rules', () => {
    const many = Array.from({ length: 101 }, (_, i) => `m${i} >= 0`).join('\n');
    expect(parseRules(many)).toEqual({ ok: false, errors: ['thresholds: 101 rules; at most 100'] });
  });
});

describe('evaluation', () => {
  const values = new Map([
    ['accuracy', 0.875],
    ['loss', 0.45],
    ['f1', 0.39],
  ]);
  const baseline = new Map([
    ['accuracy', 0.9],
    ['loss', 0.4],
    ['f1', 0.4],
  ]);
  const verdicts = (texts: string[], base: ReadonlyMap<string, number> | undefined = baseline): string[] =>
    evaluate(texts.map(rule), values, base).map((r) => r.verdict);

  it('each operator against a number, on both sides of the bound and on it', () => {
    expect(verdicts(['accuracy >= 0.875', 'accuracy >= 0.876', 'accuracy > 0.875', 'accuracy > 0.8'])).toEqual(['pass', 'fail', 'fail', 'pass']);
    expect(verdicts(['loss <= 0.45', 'loss <= 0.44', 'loss < 0.45', 'loss < 0.5'])).toEqual(['pass', 'fail', 'fail', 'pass']);
  });

  it('against the baseline, with an offset compared as it is shown (0.7 + 0.1 is 0.8, not 0.7999999999999999)', () => {
    expect(0.7 + 0.1).toBeLessThan(0.8);
    const [shown] = evaluate([rule('score >= baseline + 0.1')], new Map([['score', 0.8]]), new Map([['score', 0.7]]));
    expect(shown).toMatchObject({ verdict: 'pass', needed: 0.8 });
    expect(verdicts(['loss <= baseline + 0.05', 'loss <= baseline', 'f1 >= baseline - 0.01', 'accuracy >= baseline'])).toEqual([
      'pass',
      'fail',
      'pass',
      'fail',
    ]);
    const [result] = evaluate([rule('loss <= baseline + 0.05')], values, baseline);
    expect(result).toMatchObject({ needed: 0.45, base: 0.4, got: 0.45 });
    expect(round(0.1 + 0.2)).toBe(0.3);
  });

  it('a rule naming the baseline when there is none, or when the baseline lacks the metric: no baseline', () => {
    expect(evaluate([rule('loss <= baseline + 0.05'), rule('accuracy >= 0.5')], values, undefined).map((r) => r.verdict)).toEqual([
      'no_baseline',
      'pass',
    ]);
    expect(verdicts(['loss <= baseline'], new Map([['accuracy', 1]]))).toEqual(['no_baseline']);
  });
});

describe('the verdict', () => {
  const result = (text: string, verdict: RuleResult['verdict'], got = 0.5, needed?: number, base?: number): RuleResult => ({
    rule: rule(text),
    verdict,
    got,
    needed,
    base,
  });

  it('no rules: neutral, passed empty', () => {
    expect(conclude([], false)).toEqual({ conclusion: 'neutral', passed: '', failed: [] });
    expect(conclude([], true)).toEqual({ conclusion: 'neutral', passed: '', failed: [] });
  });

  it('every counted rule holds: success; one fails: failure, with the rule as written and the numbers', () => {
    expect(conclude([result('a >= 0.5', 'pass', 0.5, 0.5)], false)).toEqual({ conclusion: 'success', passed: 'true', failed: [] });
    const failing = result('accuracy >= 0.9', 'fail', 0.875, 0.9);
    expect(conclude([result('a >= 0.5', 'pass'), failing], false)).toEqual({
      conclusion: 'failure',
      passed: 'false',
      failed: ['accuracy >= 0.9 — got 0.875, needed ≥ 0.9'],
    });
    expect(failureLine(result('loss <= baseline + 0.05', 'fail', 0.52, 0.45, 0.4))).toBe(
      'loss <= baseline + 0.05 — got 0.52, needed ≤ 0.45 (baseline 0.4)',
    );
    expect(failureLine(result('x > 1', 'fail', 1, 1))).toBe('x > 1 — got 1, needed > 1');
    expect(failureLine(result('x < 1', 'fail', 1, 1))).toBe('x < 1 — got 1, needed < 1');
  });

  it('rules without a baseline do not count: alone they leave the check neutral and passed true', () => {
    const waiting = result('loss <= baseline', 'no_baseline');
    expect(conclude([waiting], false)).toEqual({ conclusion: 'neutral', passed: 'true', failed: [] });
    expect(conclude([waiting, result('a >= 0', 'pass')], false)).toEqual({ conclusion: 'success', passed: 'true', failed: [] });
  });

  it('thresholds_need_baseline: a rule without a baseline fails', () => {
    const waiting = result('loss <= baseline', 'no_baseline', 0.3);
    expect(conclude([waiting, result('a >= 0', 'pass')], true)).toEqual({
      conclusion: 'failure',
      passed: 'false',
      failed: ['loss <= baseline — got 0.3, no baseline (thresholds_need_baseline: true)'],
    });
  });
});
