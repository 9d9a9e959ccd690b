// Shared by the benchmark sections: the result shape, statistics, formatting, and the
// Node 24 binary.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test/support/runner.js';

export const BASELINE = join(ROOT, 'bench/baseline.mjs');
export const API_KEY = 'bench-key';
export const BASE_MODEL = 'Qwen/Qwen3-8B';

export interface Check {
  target: string;
  pass: boolean;
}

export interface Section {
  title: string;
  /** What was measured and how, in a line or two. */
  about: string;
  /** Header row first. */
  table: string[][];
  checks: Check[];
  notes?: string[];
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

export function seconds(valueMs: number): string {
  return `${(valueMs / 1000).toFixed(2)} s`;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

export function verdict(pass: boolean): string {
  return pass ? 'PASS' : 'MISS';
}

export interface NodeBinary {
  label: string;
  path: string;
  version: string;
}

function versionOf(path: string): string {
  return execFileSync(path, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
}

/** The Node binaries to compare: this one (Node 20) and Node 24 (BENCH_NODE24, else fetched with npx). */
export function nodeBinaries(): NodeBinary[] {
  const current: NodeBinary = { label: `Node ${process.versions.node.split('.')[0]}`, path: process.execPath, version: process.version };
  let node24 = process.env.BENCH_NODE24;
  if (!node24) {
    const out = execFileSync('npx', ['-y', '-p', 'node@24', 'node', '-p', 'process.execPath'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    node24 = out.trim().split('\n').pop();
  }
  if (!node24 || !existsSync(node24)) throw new Error('Node 24 not found: set BENCH_NODE24 to its binary');
  const list = [current];
  if (!current.version.startsWith('v24.')) list.push({ label: 'Node 24', path: node24, version: versionOf(node24) });
  return list;
}

/** Inputs for one launch against an emulator. */
export function launchInputs(url: string, extra: Record<string, string | number> = {}): Record<string, string | number> {
  return { api_key: API_KEY, api_base_url: url, base_model: BASE_MODEL, wait_for: 'none', ...extra };
}

/** Renders a table as GitHub markdown (also readable in a terminal). */
export function markdownTable(rows: string[][]): string {
  const [header = [], ...body] = rows;
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}
