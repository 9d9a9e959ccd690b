// The failure causes as the docs show them (README.md's Troubleshooting section and
// docs/troubleshooting.md), generated from the cause table (src/forensics/causes.ts), so that what
// the docs say cannot drift from what the action does. `npm run docs` rewrites every block between
// `<!-- causes:<table|rules> -->` and `<!-- /causes -->`; test/troubleshooting.test.ts checks them.

import { CAUSES, FAILURE_REASONS, RULES, describeRule } from '../src/forensics/causes.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/** Every failure_reason: what it means, and the fix. */
export function causesTable(): string {
  return [
    '| `failure_reason` | what it means | the fix |',
    '|---|---|---|',
    ...FAILURE_REASONS.map((reason) => `| \`${reason}\` | ${cell(CAUSES[reason].means)} | ${cell(CAUSES[reason].fix)} |`),
  ].join('\n');
}

/** The rules in the order they are tried: the first that holds decides. */
export function rulesTable(): string {
  return [
    '| # | `failure_reason` | when |',
    '|---|---|---|',
    ...RULES.map((rule, i) => `| ${i + 1} | \`${rule.reason}\` | ${cell(describeRule(rule))} |`),
    `| ${RULES.length + 1} | \`unknown\` | no rule above holds |`,
  ].join('\n');
}

const BLOCK = /(<!-- causes:(table|rules) -->\n)[\s\S]*?(<!-- \/causes -->)/g;

/** The text with every marked block regenerated. */
export function withCauses(text: string): string {
  return text.replace(BLOCK, (_all, open: string, kind: 'table' | 'rules', close: string) => {
    return `${open}${kind === 'table' ? causesTable() : rulesTable()}\n${close}`;
  });
}
