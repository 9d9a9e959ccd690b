// Thresholds: one rule a line, `NAME OP RHS`, OP one of >= <= > <, RHS a number, `baseline`, or
// `baseline + N` / `baseline - N`. A name may hold spaces and even operators (the right-hand side
// must be all that follows the operator), or be written as a JSON string ("a \"quoted\" name").
// Blank lines and lines starting with # are skipped. Pure: parsing, evaluation, the verdict.

import { show } from '../fields.js';

export type Op = '>=' | '<=' | '>' | '<';

export interface Rule {
  /** 1-based line in the thresholds input. */
  line: number;
  /** The rule as written (trimmed). */
  text: string;
  metric: string;
  op: Op;
  /** A number, or the baseline's value of the metric plus `offset`. */
  rhs: { kind: 'number'; value: number } | { kind: 'baseline'; offset: number };
}

export const MAX_RULES = 100;
/** Room for a quoted name of 256 characters, however its characters are escaped. */
const MAX_LINE = 2000;

const NUMBER = String.raw`(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
const RHS = String.raw`(?<rhs>baseline(?:\s*(?<sign>[+-])\s*(?<offset>${NUMBER}))?|(?<number>[+-]?${NUMBER}))`;
const BARE = new RegExp(String.raw`^(?<name>.*?)\s*(?<op>>=|<=|>|<)\s*${RHS}$`);
const AFTER_QUOTED = new RegExp(String.raw`^\s*(?<op>>=|<=|>|<)\s*${RHS}$`);
const QUOTED = /^"(?:[^"\\]|\\.)*"/;

export type RulesResult = { ok: true; rules: Rule[] } | { ok: false; errors: string[] };

/** Parses the thresholds input; every bad line is reported, each naming its line. */
export function parseRules(text: string): RulesResult {
  const rules: Rule[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const parsed = parseRule(line, i + 1);
    if (typeof parsed === 'string') errors.push(`thresholds: line ${i + 1} (${show(line)}): ${parsed}`);
    else rules.push(parsed);
  });
  if (rules.length > MAX_RULES) errors.push(`thresholds: ${rules.length} rules; at most ${MAX_RULES}`);
  return errors.length ? { ok: false, errors } : { ok: true, rules };
}

/** One rule, or what is wrong with it. */
export function parseRule(text: string, line: number): Rule | string {
  if ([...text].length > MAX_LINE) return `longer than ${MAX_LINE} characters`;
  let name: string | undefined;
  let match: RegExpExecArray | null;
  const quoted = QUOTED.exec(text);
  if (text.startsWith('"') && !quoted) return explain(text);
  if (quoted) {
    name = JSON.parse(quoted[0]) as string;
    match = AFTER_QUOTED.exec(text.slice(quoted[0].length));
  } else {
    match = BARE.exec(text);
    name = match?.groups?.name?.trim();
  }
  const g = match?.groups;
  if (!g) return explain(text);
  if (!name) return 'no metric name before the operator';
  // `a => 1` reads as the metric "a =" and `>`: a typo far likelier than such a name.
  if (!quoted && /[=!]$/.test(name))
    return `${name.slice(-1)}${g.op} is not an operator (write >= or <=; a name ending in = or ! must be quoted)`;
  const op = g.op as Op;
  if (g.number !== undefined) {
    const value = Number(g.number);
    if (!Number.isFinite(value)) return `${g.number} is out of range`;
    return { line, text, metric: name, op, rhs: { kind: 'number', value } };
  }
  const offset = g.offset === undefined ? 0 : Number(g.offset) * (g.sign === '-' ? -1 : 1);
  if (!Number.isFinite(offset)) return `${g.offset} is out of range`;
  return { line, text, metric: name, op, rhs: { kind: 'baseline', offset } };
}

/** Why a line is not a rule, as precisely as can be said. */
function explain(text: string): string {
  const form = 'expected NAME OP VALUE, OP one of >= <= > <, VALUE a number, baseline, baseline + N or baseline - N';
  if (/^"/.test(text) && !QUOTED.test(text)) return `the quoted name is not closed; ${form}`;
  const op = /(==|!=|=>|=<|(?<![<>!=])=(?!=))/.exec(text)?.[1];
  if (op) return `${op} is not an operator; ${form}`;
  if (!/[<>]/.test(text)) return `no operator; ${form}`;
  return `what follows the operator is not a number, baseline, baseline + N or baseline - N; ${form}`;
}

export type Verdict = 'pass' | 'fail' | 'no_baseline';

export interface RuleResult {
  rule: Rule;
  verdict: Verdict;
  got: number;
  /** The bound the value was held to (absent when there was no baseline). */
  needed?: number;
  /** The baseline's value of the metric, for a rule that names the baseline. */
  base?: number;
}

/** A number as people write it: at most 12 significant digits, so 0.4 + 0.05 is 0.45. */
export function round(value: number): number {
  return Number(value.toPrecision(12));
}

export const formatNumber = (value: number): string => String(round(value));

const HOLDS: Record<Op, (got: number, needed: number) => boolean> = {
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
};
export const OP_TEXT: Record<Op, string> = { '>=': '≥', '<=': '≤', '>': '>', '<': '<' };

/** Each rule against this push's values and, for rules that name it, the baseline's. */
export function evaluate(rules: Rule[], values: ReadonlyMap<string, number>, baseline: ReadonlyMap<string, number> | undefined): RuleResult[] {
  return rules.map((rule): RuleResult => {
    // A rule naming a metric that is not in the file is refused with the inputs; NaN cannot hold.
    const got = values.get(rule.metric) ?? Number.NaN;
    if (rule.rhs.kind === 'number') return { rule, verdict: HOLDS[rule.op](got, rule.rhs.value) ? 'pass' : 'fail', got, needed: rule.rhs.value };
    const base = baseline?.get(rule.metric);
    if (base === undefined) return { rule, verdict: 'no_baseline', got };
    // The bound is compared as it is shown, so that a rule never fails on a difference nobody can see.
    const needed = round(base + rule.rhs.offset);
    return { rule, verdict: HOLDS[rule.op](got, needed) ? 'pass' : 'fail', got, needed, base };
  });
}

export type Conclusion = 'success' | 'failure' | 'neutral';

export interface Outcome {
  conclusion: Conclusion;
  /** The `passed` output: 'true', 'false', or '' when there are no rules. */
  passed: '' | 'true' | 'false';
  /** One line per failing rule: the rule as written, then the numbers. */
  failed: string[];
}

/** Whether a result fails the step: a broken rule, or one without a baseline when a baseline is required. */
export const fails = (r: RuleResult, needBaseline: boolean): boolean => r.verdict === 'fail' || (r.verdict === 'no_baseline' && needBaseline);

export function conclude(results: RuleResult[], needBaseline: boolean): Outcome {
  if (results.length === 0) return { conclusion: 'neutral', passed: '', failed: [] };
  const failing = results.filter((r) => fails(r, needBaseline));
  const counted = results.filter((r) => r.verdict !== 'no_baseline' || needBaseline);
  const conclusion: Conclusion = failing.length ? 'failure' : counted.length ? 'success' : 'neutral';
  return { conclusion, passed: failing.length ? 'false' : 'true', failed: failing.map(failureLine) };
}

/** `loss <= baseline + 0.05 — got 0.52, needed ≤ 0.45 (baseline 0.4)`. */
export function failureLine(r: RuleResult): string {
  const got = `got ${formatNumber(r.got)}`;
  if (r.needed === undefined) return `${r.rule.text} — ${got}, no baseline (thresholds_need_baseline: true)`;
  const base = r.base === undefined ? '' : ` (baseline ${formatNumber(r.base)})`;
  return `${r.rule.text} — ${got}, needed ${OP_TEXT[r.rule.op]} ${formatNumber(r.needed)}${base}`;
}
