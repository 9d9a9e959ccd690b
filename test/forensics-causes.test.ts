// The cause table (src/forensics/causes.ts), row by row: every row has an example that it, and
// no row before it, recognises; the near misses it must not take; the order between rows; and
// the texts every cause carries. Errors are the real classes the client throws.

import { describe, expect, it } from 'vitest';
import { ApiError, CancelledError, NetworkError, RetriesExhaustedError, RunFailure, UserError } from '../src/core/errors.js';
import { CAUSES, FAILURE_REASONS, type Facts, type FailureReason, RULES, classify, describeRule } from '../src/forensics/causes.js';
import { checkModel } from '../src/preflight.js';
import type { LogLevel, LogLine } from '../src/loops/logs.js';

let clock = 1_800_000_000_000_000_000n;
function line(message: string, level: LogLevel | undefined = 'ERROR'): LogLine {
  clock += 1_000_000n;
  return { timestamp: clock.toString(), message, level };
}
const trainerLogs = (...lines: LogLine[]): Facts['logs'] => [{ source: 'trainer', lines }];
const samplerLogs = (...lines: LogLine[]): Facts['logs'] => [{ source: 'sampler', lines }];

const api = (status: number, detail = '', code?: string, route = '/v1/loops/runs'): ApiError =>
  new ApiError('POST', route, status, detail, undefined, code);
const exhausted = (error: ApiError): RetriesExhaustedError => new RetriesExhaustedError('create run', 5, error);
const preflightError = (problems: string[]): UserError =>
  new UserError(`Preflight found problems (nothing was created):\n${problems.map((p) => `- ${p}`).join('\n')}`);
const failed = (reason: string): RunFailure => new RunFailure('failed', `Run r1 failed: ${reason}`);

/** One example per row of RULES, in the table's order: the facts, and what the evidence says. */
const EXAMPLES: Array<[FailureReason, Facts, RegExp]> = [
  ['cancelled', { status: 'cancelled', error: new CancelledError('create run') }, /the step ended cancelled/],
  ['capacity', { status: 'error', error: exhausted(api(429, 'No capacity', 'loops_capacity')) }, /the API's reason loops_capacity/],
  [
    'capacity',
    { status: 'failed', error: Object.assign(new Error('Baseten has no capacity for this run now'), { name: 'CapacityError' }) },
    /a CapacityError/,
  ],
  [
    'model_access',
    { status: 'error', error: api(403, 'Loops is not enabled', 'loops_not_enabled', '/v1/loops/sessions') },
    /reason loops_not_enabled/,
  ],
  [
    'model_access',
    { status: 'error', error: preflightError(checkModel({ baseModel: 'Qwen/Qwen3-8B' }, [{ name: 'Qwen/Qwen3-8B', enabled: false }])) },
    /not enabled for this workspace/,
  ],
  [
    'auth',
    { status: 'error', error: exhausted(api(401, 'Invalid or missing API key', undefined, '/v1/loops/capabilities')) },
    /HTTP 401 from POST/,
  ],
  [
    'auth',
    { status: 'failed', error: failed('the sampler refused the API key (GET /v1/models answered HTTP 403: no). The sampler takes the same key') },
    /refused the API key/,
  ],
  [
    'checkpoint',
    { status: 'error', error: preflightError(['checkpoint_path: no checkpoint found at bt://loops:x/weights/s']) },
    /checkpoint_path:/,
  ],
  ['checkpoint', { status: 'error', error: api(400, 'Checkpoint bt://loops:x/weights/s cannot be loaded') }, /HTTP 400 .*Checkpoint/],
  ['preempted', { status: 'failed', trainerStatus: 'PREEMPTED', error: failed('the trainer is PREEMPTED') }, /trainer status PREEMPTED/],
  [
    'oom',
    {
      status: 'failed',
      trainerStatus: 'FAILED',
      logs: trainerLogs(line('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 GiB')),
    },
    /trainer log: torch.OutOfMemoryError/,
  ],
  [
    'preempted',
    { status: 'failed', logs: trainerLogs(line('Spot capacity reclaimed: node received a preemption notice', 'WARNING')) },
    /preemption notice/,
  ],
  [
    'checkpoint',
    { status: 'failed', logs: trainerLogs(line('Failed to load checkpoint bt://loops:x/weights/s: lora_config is null')) },
    /Failed to load/,
  ],
  [
    'model_access',
    { status: 'failed', logs: samplerLogs(line('401 Client Error: Cannot access gated repo for url https://huggingface.co/x')) },
    /sampler log/,
  ],
  ['sampler_unhealthy', { status: 'timed_out', samplerStatus: 'UNHEALTHY' }, /sampler status UNHEALTHY/],
  [
    'sampler_unhealthy',
    { status: 'failed', logs: samplerLogs(line('Back-off restarting failed container sampler (CrashLoopBackOff)', 'WARNING')) },
    /CrashLoopBackOff/,
  ],
  [
    'sampler_unhealthy',
    { status: 'failed', samplerStatus: 'DEPLOY_FAILED', error: failed('the sampler is DEPLOY_FAILED') },
    /sampler status DEPLOY_FAILED/,
  ],
  [
    'timeout',
    { status: 'timed_out', samplerStatus: 'LOADING_MODEL', error: new RunFailure('timed_out', 'Run r1 timed out') },
    /the step ended timed_out/,
  ],
];

describe('the cause table, row by row', () => {
  it('has an example for every row, in the order of the table', () => {
    expect(EXAMPLES.map(([reason]) => reason)).toEqual(RULES.map((rule) => rule.reason));
  });

  // The evidence names what this row (and no row before it, which would have decided) looks at.
  it.each(EXAMPLES.map(([reason, facts, evidence], i) => [i, reason, facts, evidence] as const))(
    'row %i (%s) recognises its example',
    (_i, reason, facts, evidence) => {
      const cause = classify(facts);
      expect(cause.reason).toBe(reason);
      expect(cause.evidence).toMatch(evidence);
      expect(cause.means).toBe(CAUSES[reason].means);
      expect(cause.fix).toBe(CAUSES[reason].fix);
    },
  );

  // Every alternative of every log row, in the words real trainers and samplers print: a row's
  // example above proves the row; these prove each phrase it claims to know.
  const PHRASES: Array<[FailureReason, string]> = [
    ['oom', 'torch.OutOfMemoryError: Tried to allocate 2.00 GiB'],
    ['oom', 'RuntimeError: CUDA out of memory. Tried to allocate 20.00 GiB'],
    ['oom', 'RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`'],
    ['oom', 'Last State: Terminated, Reason: OOMKilled'],
    ['oom', 'RuntimeError: out of memory'],
    ['preempted', 'Node gpu-7 was preempted'],
    ['preempted', 'spot instance was reclaimed by the provider'],
    ['preempted', 'spot capacity interrupted'],
    ['checkpoint', 'Failed to load checkpoint bt://loops:x/weights/s'],
    ['checkpoint', 'cannot restore the checkpoint: missing adapter_config.json'],
    ['checkpoint', 'unable to read checkpoint shard 3'],
    ['checkpoint', 'checkpoint bt://loops:x/weights/s cannot be loaded'],
    ['model_access', 'Qwen/Qwen3-8B is not enabled for your organization'],
    ['model_access', 'model is not enabled for this workspace'],
    ['model_access', 'Cannot access gated repo for url https://huggingface.co/meta-llama/x'],
    ['model_access', 'access to model meta-llama/x is restricted'],
    ['sampler_unhealthy', 'Warning  BackOff  pod/sampler-0  CrashLoopBackOff'],
    ['sampler_unhealthy', 'Back-off restarting failed container sampler'],
    ['sampler_unhealthy', 'Readiness probe failed: connection refused'],
    ['sampler_unhealthy', 'liveness probe failed'],
    ['sampler_unhealthy', 'health check failed after 30 attempts'],
  ];
  it.each(PHRASES)('a log line says %s: %s', (reason, message) => {
    expect(classify({ status: 'failed', trainerStatus: 'FAILED', logs: trainerLogs(line(message)) }).reason).toBe(reason);
  });

  it('names every class of the specification, each with what it means and its fix, and nothing else', () => {
    expect([...FAILURE_REASONS].sort()).toEqual(
      ['oom', 'preempted', 'capacity', 'checkpoint', 'model_access', 'sampler_unhealthy', 'auth', 'timeout', 'cancelled', 'unknown'].sort(),
    );
    for (const reason of FAILURE_REASONS) {
      expect(CAUSES[reason].means.length, reason).toBeGreaterThan(15);
      expect(CAUSES[reason].fix.length, reason).toBeGreaterThan(15);
      if (reason !== 'unknown') expect(RULES.some((rule) => rule.reason === reason)).toBe(true);
    }
    expect(CAUSES.oom.fix).toMatch(/`max_seq_len`.*`lora_rank`/);
    expect(CAUSES.preempted.fix).toMatch(/`availability_model: dedicated`.*`checkpoint_path`/);
  });

  it('describes every row in words, for the docs', () => {
    for (const rule of RULES) expect(describeRule(rule)).toMatch(/^(the|a) /);
    expect(describeRule({ reason: 'oom', log: /CUDA out of memory/ })).toBe('a log line matches `CUDA out of memory`');
    expect(describeRule({ reason: 'auth', http: [401, 403] })).toBe('the API answers HTTP `401` or `403`');
  });
});

describe('near misses', () => {
  it('INFO and DEBUG lines never decide; WARNING, ERROR and unlevelled lines do', () => {
    const oom = 'warming up; a batch this large may run out of memory';
    expect(classify({ status: 'failed', logs: trainerLogs(line(oom, 'INFO'), line(oom, 'DEBUG')) }).reason).toBe('unknown');
    for (const level of ['WARNING', 'ERROR', undefined] as const) {
      expect(classify({ status: 'failed', logs: trainerLogs(line(oom, level)) }).reason, String(level)).toBe('oom');
    }
  });

  it('a 4xx that does not speak of a checkpoint is not a checkpoint problem; a 5xx never is', () => {
    expect(classify({ status: 'error', error: api(422, 'name: String should have at most 255 characters') }).reason).toBe('unknown');
    expect(classify({ status: 'error', error: api(500, 'checkpoint service down') }).reason).toBe('unknown');
  });

  it('the API 403 hint ("Loops must be enabled") is auth, not model access; a network error is unknown', () => {
    expect(classify({ status: 'error', error: exhausted(api(403, 'Forbidden')) }).reason).toBe('auth');
    expect(
      classify({ status: 'error', error: new NetworkError('GET', '/v1/loops/capabilities', 'timeout after 30s', { ambiguous: true }) }).reason,
    ).toBe('unknown');
  });

  it('a trainer that FAILED, or a sampler BUILD_FAILED, with nothing in the logs, is unknown', () => {
    expect(classify({ status: 'failed', trainerStatus: 'FAILED', logs: trainerLogs(line('Trainer process exited with code 1')) }).reason).toBe(
      'unknown',
    );
    expect(classify({ status: 'failed', samplerStatus: 'BUILD_FAILED' }).reason).toBe('unknown');
  });

  it('invalid inputs are unknown, unless the input is checkpoint_path', () => {
    const invalid = (problem: string): UserError => new UserError(`Invalid inputs; nothing was sent:\n- ${problem}`);
    expect(classify({ status: 'error', error: invalid('lora_rank: must be a whole number ≥ 1 (got "0")') }).reason).toBe('unknown');
    expect(classify({ status: 'error', error: invalid('checkpoint_path: must look like bt://loops:<run_id>/weights/<name>') }).reason).toBe(
      'checkpoint',
    );
  });
});

describe('the order between rows', () => {
  const oomLine = line('CUDA out of memory');
  it('a cancellation wins over everything the logs say', () => {
    expect(classify({ status: 'cancelled', trainerStatus: 'PREEMPTED', logs: trainerLogs(oomLine) }).reason).toBe('cancelled');
  });
  it('a status the API gave (PREEMPTED) wins over a log line', () => {
    expect(classify({ status: 'failed', trainerStatus: 'PREEMPTED', logs: trainerLogs(oomLine) }).reason).toBe('preempted');
  });
  it('an out-of-memory line explains an UNHEALTHY sampler or a timeout better than they do', () => {
    expect(classify({ status: 'timed_out', samplerStatus: 'UNHEALTHY', logs: samplerLogs(oomLine) }).reason).toBe('oom');
  });
  it('an UNHEALTHY sampler explains a timeout', () => {
    expect(classify({ status: 'timed_out', samplerStatus: 'UNHEALTHY' }).reason).toBe('sampler_unhealthy');
  });
  it('a capacity refusal is capacity, not a throttled request (429 without the reason)', () => {
    expect(classify({ status: 'error', error: exhausted(api(429, 'Too many requests')) }).reason).toBe('unknown');
    expect(classify({ status: 'error', error: exhausted(api(429, 'No capacity', 'loops_capacity')) }).reason).toBe('capacity');
  });
  it('the evidence is the newest matching line, whichever source it came from', () => {
    const older = line('CUDA out of memory (first)');
    const newer = line('CUDA out of memory (second)');
    const cause = classify({ status: 'failed', logs: [...(samplerLogs(newer) ?? []), ...(trainerLogs(older) ?? [])] });
    expect(cause.evidence).toBe('sampler log: CUDA out of memory (second)');
  });
  it('nothing known is unknown, with the fix that says where to look', () => {
    const cause = classify({ status: 'failed', error: failed('polling failed: something odd') });
    expect(cause).toEqual({ reason: 'unknown', ...CAUSES.unknown });
  });
});
