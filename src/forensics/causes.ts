// Why a launch failed, in one table: the causes users actually meet, how each is recognised (the
// step's status, the error that ended it, the trainer's and sampler's last statuses, a line of
// their logs), what it means and the fix. The first row that matches decides, so the rows go from
// the surest evidence (the step was cancelled, an error the API gave, a status) to the weakest (a
// log line, a timeout); nothing matched is `unknown`. Every pattern that classifies lives here.
// Assumed (unpublished): how Baseten's trainers and samplers word these failures in their logs
// (PyTorch's "CUDA out of memory", Kubernetes' "CrashLoopBackOff", a preemption notice, a checkpoint
// that fails to load), and the `details.reason` codes beside loops_capacity (the capabilities'
// enablement reasons loops_not_enabled and needs_approval, assumed to be sent as error reasons too).

import { ApiError, RetriesExhaustedError, errorMessage } from '../core/errors.js';
import type { LogLine } from '../loops/logs.js';

export const FAILURE_REASONS = [
  'oom',
  'preempted',
  'capacity',
  'checkpoint',
  'model_access',
  'sampler_unhealthy',
  'auth',
  'timeout',
  'cancelled',
  'unknown',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** What each cause means and its fix, as the error line, the summary, the comment and the docs say them. */
export const CAUSES: Readonly<Record<FailureReason, { means: string; fix: string }>> = {
  oom: { means: 'The trainer or the sampler ran out of GPU memory.', fix: 'Lower `max_seq_len` or `lora_rank`.' },
  preempted: {
    means: 'The spot capacity running the trainer was taken back (preempted).',
    fix: 'Use `availability_model: dedicated`, or resume from the last checkpoint with `checkpoint_path`.',
  },
  capacity: {
    means: 'Baseten has no capacity for this run now.',
    fix: 'Try again later, try another `base_model`, or set `scope` to the other availability mode.',
  },
  checkpoint: {
    means: 'The checkpoint in `checkpoint_path` cannot be used: missing, expired, unsupported, or of another base model or LoRA rank.',
    fix: 'Point `checkpoint_path` at a trainer checkpoint (`bt://loops:<run_id>/weights/<name>`) of a run with the same `base_model` and `lora_rank` that has not expired, or leave it empty to start fresh.',
  },
  model_access: {
    means: 'The base model (or Loops itself) is not enabled for this workspace.',
    fix: 'Ask Baseten to enable it for your workspace, or choose a `base_model` that the capabilities list as enabled (see the preflight).',
  },
  sampler_unhealthy: {
    means: 'The sampler did not come up healthy: it failed its health checks, crashed or kept restarting.',
    fix: 'Read the sampler logs; a crash at start is often memory (lower `max_seq_len`) or a bad checkpoint. Launch again once fixed.',
  },
  auth: {
    means: 'The API key was refused, or it lacks the scope this action needs.',
    fix: 'Store a current Baseten API key that can manage the organization’s training projects (Settings → API keys) in the secret passed as `api_key`.',
  },
  timeout: {
    means: 'The run was not ready within `wait_timeout_seconds`, and nothing else explains why.',
    fix: 'Raise `wait_timeout_seconds` (the first start of a large model can take many minutes), or read the logs for what it was doing.',
  },
  cancelled: {
    means: 'The workflow was cancelled.',
    fix: 'Nothing to fix: the run was stopped unless `deactivate_on_failure` is false. Run the workflow again to launch again.',
  },
  unknown: {
    means: 'No known cause was recognised.',
    fix: 'Read the error and the trainer and sampler logs; if this is a cause the action should recognise, report it.',
  },
};

/** One way to recognise a cause: every field given must hold. */
export interface Rule {
  reason: Exclude<FailureReason, 'unknown'>;
  /** The step's status. */
  step?: readonly string[];
  /** The HTTP status of the API error that ended the step. */
  http?: readonly number[];
  /** That error's machine-readable reason (`details.reason`). */
  code?: readonly string[];
  /** The error's class name (so that a class another module adds needs no import here). */
  errorName?: readonly string[];
  /** The error's text (this action's own messages included). */
  error?: RegExp;
  /** The trainer's (Loops deployment's) last status. */
  trainer?: readonly string[];
  /** The sampler's last status. */
  sampler?: readonly string[];
  /** A WARNING, ERROR or unlevelled line of the trainer's or the sampler's logs (DEBUG and INFO lines never decide). */
  log?: RegExp;
}

export const RULES: readonly Rule[] = [
  { reason: 'cancelled', step: ['cancelled'] },
  { reason: 'capacity', code: ['loops_capacity'] },
  { reason: 'capacity', errorName: ['CapacityError'] },
  { reason: 'model_access', code: ['loops_not_enabled', 'needs_approval'] },
  { reason: 'model_access', error: /\bnot enabled for (this|your) (workspace|organi[sz]ation)/i },
  { reason: 'auth', http: [401, 403] },
  { reason: 'auth', error: /\bHTTP 40[13]\b|refused the API key/ },
  { reason: 'checkpoint', error: /^- checkpoint_path:/m },
  { reason: 'checkpoint', http: [400, 404, 409, 422], error: /checkpoint|\bpath\b/i },
  { reason: 'preempted', trainer: ['PREEMPTED'] },
  { reason: 'oom', log: /CUDA out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED|OOMKilled|out of memory/i },
  { reason: 'preempted', log: /preempt|spot (capacity|instance) (was )?(reclaimed|interrupted)/i },
  { reason: 'checkpoint', log: /(failed to|cannot|could not|unable to) (load|restore|read) (the )?checkpoint|checkpoint .*cannot be loaded/i },
  { reason: 'model_access', log: /not enabled for (this|your) (workspace|organi[sz]ation)|gated repo|access to model .* is restricted/i },
  { reason: 'sampler_unhealthy', sampler: ['UNHEALTHY'] },
  { reason: 'sampler_unhealthy', log: /CrashLoopBackOff|Back-off restarting failed container|(health|readiness|liveness) (check|probe) failed/i },
  { reason: 'sampler_unhealthy', sampler: ['DEPLOY_FAILED', 'FAILED'] },
  { reason: 'timeout', step: ['timed_out'] },
];

/** What is known when the step fails. */
export interface Facts {
  status: string;
  error?: unknown;
  trainerStatus?: string;
  samplerStatus?: string;
  /** The lines each source gave, in any order. */
  logs?: ReadonlyArray<{ source: 'trainer' | 'sampler'; lines: readonly LogLine[] }>;
}

export interface Cause {
  reason: FailureReason;
  means: string;
  fix: string;
  /** What matched, in a phrase (a log line is cut short). */
  evidence?: string;
}

interface ErrorFacts {
  api?: ApiError;
  names: string[];
  text: string;
}

function errorFacts(error: unknown): ErrorFacts {
  if (error === undefined) return { names: [], text: '' };
  const chain = [error, error instanceof RetriesExhaustedError ? error.last : undefined].filter((e): e is Error => e instanceof Error);
  return { api: chain.find((e): e is ApiError => e instanceof ApiError), names: chain.map((e) => e.name), text: errorMessage(error) };
}

const DECIDING_LEVELS = new Set([undefined, 'WARNING', 'ERROR']);
const LINE_EVIDENCE_CHARS = 200;

/** Why the row holds, in a phrase; undefined when it does not. */
function matches(rule: Rule, facts: Facts, err: ErrorFacts): string | undefined {
  const said: string[] = [];
  if (rule.step && !rule.step.includes(facts.status)) return undefined;
  if (rule.step) said.push(`the step ended ${facts.status}`);
  if (rule.http) {
    if (!err.api || !rule.http.includes(err.api.status)) return undefined;
    said.push(`HTTP ${err.api.status} from ${err.api.method} ${err.api.route}`);
  }
  if (rule.code) {
    if (!err.api?.code || !rule.code.includes(err.api.code)) return undefined;
    said.push(`the API's reason ${err.api.code}`);
  }
  if (rule.errorName) {
    const name = err.names.find((n) => rule.errorName?.includes(n));
    if (!name) return undefined;
    said.push(`a ${name}`);
  }
  if (rule.error) {
    const found = rule.error.exec(err.text);
    if (!found) return undefined;
    said.push(`the error says "${found[0].replace(/^- /, '')}"`);
  }
  for (const [what, list, status] of [
    ['trainer', rule.trainer, facts.trainerStatus],
    ['sampler', rule.sampler, facts.samplerStatus],
  ] as const) {
    if (!list) continue;
    if (!status || !list.includes(status)) return undefined;
    said.push(`${what} status ${status}`);
  }
  if (rule.log) {
    const line = findLine(rule.log, facts);
    if (!line) return undefined;
    said.push(line);
  }
  return said.join('; ');
}

/** The newest deciding line that matches, as "<source> log: <message>". */
function findLine(pattern: RegExp, facts: Facts): string | undefined {
  let best: { ts: bigint; text: string } | undefined;
  for (const { source, lines } of facts.logs ?? []) {
    for (const line of lines) {
      if (!DECIDING_LEVELS.has(line.level) || !pattern.test(line.message)) continue;
      const ts = BigInt(line.timestamp);
      if (!best || ts > best.ts) best = { ts, text: `${source} log: ${line.message.trim().slice(0, LINE_EVIDENCE_CHARS)}` };
    }
  }
  return best?.text;
}

/** The cause of a failure: the first row of RULES that holds, else `unknown`. */
export function classify(facts: Facts): Cause {
  const err = errorFacts(facts.error);
  for (const rule of RULES) {
    const evidence = matches(rule, facts, err);
    if (evidence !== undefined) return { reason: rule.reason, ...CAUSES[rule.reason], evidence };
  }
  return { reason: 'unknown', ...CAUSES.unknown };
}

/** A row's recognition, in words (for the docs). */
export function describeRule(rule: Rule): string {
  const parts: string[] = [];
  const list = (values: readonly (string | number)[]): string => values.map((v) => `\`${v}\``).join(' or ');
  if (rule.step) parts.push(`the step ends ${list(rule.step)}`);
  if (rule.http) parts.push(`the API answers HTTP ${list(rule.http)}`);
  if (rule.code) parts.push(`the error's \`details.reason\` is ${list(rule.code)}`);
  if (rule.errorName) parts.push(`the error is a ${list(rule.errorName)}`);
  if (rule.error) parts.push(`the error matches \`${rule.error.source}\``);
  if (rule.trainer) parts.push(`the trainer's status is ${list(rule.trainer)}`);
  if (rule.sampler) parts.push(`the sampler's status is ${list(rule.sampler)}`);
  if (rule.log) parts.push(`a log line matches \`${rule.log.source}\``);
  return parts.join(', and ');
}
