// The benchmark suite: `npx tsx bench/run.ts [time|readiness|scale|footprint|standin|pr-life|pr-life-serverless ...] [--write]`.
// Runs the sections one after another (never concurrently, so they do not disturb each
// other), prints each table, and — when all sections ran — writes BENCHMARKS.md. With
// --write, sections run on their own replace their counterparts in BENCHMARKS.md (the rest
// of it is left as it is) and say when and where they ran; their lines in "Targets" are
// replaced too (each line names its section), and the count of targets met is recomputed.
// BENCH_PAIRS (default 15) sets the measured A/B pairs; BENCH_NODE24 a Node 24 binary.

import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/support/runner.js';
import { type Section, markdownTable, nodeBinaries, verdict } from './common.js';
import { footprint } from './footprint.js';
import { prLife } from './pr-life.js';
import { prLifeServerless } from './pr-life-serverless.js';
import { readiness } from './readiness.js';
import { scale } from './scale.js';
import { standIn } from './stand-in.js';
import { timeToOutputs } from './time-to-outputs.js';

const COMMAND = 'npm run bench   # = npx tsx bench/run.ts';
const pairs = Math.max(15, Number(process.env.BENCH_PAIRS ?? 15) || 15);
const nodes = nodeBinaries();

const SECTIONS: Record<string, () => Promise<Section>> = {
  time: () => timeToOutputs(nodes, pairs),
  readiness: () => readiness(3),
  scale: () => scale(50, 10),
  footprint: () => footprint(nodes),
  standin: () => standIn(nodes, pairs),
  'pr-life': () => prLife(),
  'pr-life-serverless': () => prLifeServerless(),
};

const write = process.argv.includes('--write');
const wanted = process.argv.slice(2).filter((a) => a !== '--write');
for (const name of wanted) if (!(name in SECTIONS)) throw new Error(`unknown section ${name}; one of ${Object.keys(SECTIONS).join(', ')}`);
const names = wanted.length > 0 ? wanted : Object.keys(SECTIONS);

const cpus = os.cpus();
const machine =
  `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
  `${os.type()} ${os.release()} ${os.arch()}; load average at start ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
const header = [
  `Command: \`${COMMAND}\``,
  `Date: ${new Date().toISOString()}`,
  `Node: ${nodes.map((n) => `${n.label} ${n.version} (${n.path})`).join('; ')}`,
  `Machine: ${machine}`,
];
console.log(header.join('\n'));

const started = performance.now();
const sections: Section[] = [];
for (const name of names) {
  const t = performance.now();
  console.log(`\n… running ${name}`);
  const section = await (SECTIONS[name] as () => Promise<Section>)();
  sections.push(section);
  console.log(render(section));
  console.log(`(${((performance.now() - t) / 1000).toFixed(1)} s)`);
}

const checks = sections.flatMap((s) => s.checks);
const summary = [
  '## Targets',
  '',
  ...sections.flatMap(targetLines),
  '',
  `${checks.filter((c) => c.pass).length} of ${checks.length} targets met; the suite took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
].join('\n');
console.log(`\n${summary}`);

if (wanted.length === 0) {
  const doc = [
    '# Benchmarks',
    '',
    'Produced by `bench/run.ts` against the local Loops emulator (see bench/README.md). Reproduce with:',
    '',
    '```sh',
    COMMAND,
    '```',
    '',
    ...header.map((line) => `- ${line}`),
    '',
    ...sections.map(render),
    summary,
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), doc);
  console.log('\nWrote BENCHMARKS.md');
} else if (write) {
  let doc = readFileSync(join(ROOT, 'BENCHMARKS.md'), 'utf8');
  const command = `npx tsx bench/run.ts ${names.join(' ')} --write`;
  for (const section of sections) {
    const ran = `Run without the other sections (\`${command}\`), finished ${new Date().toISOString()}; ${nodes.map((n) => `${n.label} ${n.version}`).join(', ')}; ${machine}.`;
    const text = render({ ...section, notes: [...(section.notes ?? []), ran] });
    doc = spliceSection(doc, section.title, `${text}\n`);
  }
  doc = spliceTargets(doc, sections, command);
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), doc);
  console.log(`\nWrote ${sections.map((s) => `"${s.title}"`).join(', ')} into BENCHMARKS.md`);
} else {
  console.log('\n(BENCHMARKS.md is written only when every section runs, or with --write.)');
}

/** A section's lines in "Targets": each names its section, so that --write can replace them. */
function targetLines(section: Section): string[] {
  return section.checks.map((c) => `- ${verdict(c.pass)} — ${section.title}: ${c.target}`);
}

/** The section number a title starts with ("2. Readiness…" → 2, "6b. …" → 6); titles without one sort last. */
function numberOf(title: string): number {
  const n = /^(\d+)[a-z]?\./.exec(title);
  return n ? Number(n[1]) : Infinity;
}

/**
 * `doc` with the "Targets" lines of `sections` replaced by their new ones (kept in section order)
 * and the count of targets met recomputed over every line; the rest of the block stays.
 */
function spliceTargets(doc: string, sections: Section[], command: string): string {
  const start = doc.indexOf('## Targets\n');
  if (start < 0) return doc;
  const lines = doc.slice(start).split('\n');
  const titleOf = (line: string): string => /^- (?:PASS|MISS) — (.+?): /.exec(line)?.[1] ?? '';
  const known = new Set(sections.map((s) => s.title));
  const kept = lines.filter((l) => l.startsWith('- ') && !known.has(titleOf(l)));
  const targets = [...kept, ...sections.flatMap(targetLines)]
    .map((line, i) => ({ line, i, n: numberOf(titleOf(line)) }))
    .sort((a, b) => a.n - b.n || a.i - b.i)
    .map((t) => t.line);
  const met = targets.filter((l) => l.startsWith('- PASS')).length;
  const tally = lines.find((l) => /^\d+ of \d+ targets met/.test(l)) ?? '';
  const took = /the (?:full )?suite took (\d+) s/.exec(tally)?.[1];
  const count =
    `${met} of ${targets.length} targets met` +
    `${took ? `; the full suite took ${took} s` : ''}; ${sections.map((s) => `"${s.title}"`).join(', ')} updated since by \`${command}\`.`;
  return `${doc.slice(0, start)}${['## Targets', '', ...targets, '', count, ''].join('\n')}`;
}

/** `doc` with the section titled `title` replaced by `text`, or `text` inserted before "## Targets". */
function spliceSection(doc: string, title: string, text: string): string {
  const start = doc.indexOf(`## ${title}\n`);
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + 1);
    return doc.slice(0, start) + text + (next >= 0 ? doc.slice(next + 1) : '');
  }
  const targets = doc.indexOf('## Targets\n');
  return targets >= 0 ? doc.slice(0, targets) + text + doc.slice(targets) : `${doc}\n${text}`;
}

function render(section: Section): string {
  return [
    `## ${section.title}`,
    '',
    section.about,
    '',
    markdownTable(section.table),
    '',
    ...(section.notes ?? []).map((n) => `- ${n}`),
    ...(section.notes?.length ? [''] : []),
  ].join('\n');
}
