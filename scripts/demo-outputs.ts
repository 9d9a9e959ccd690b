// What `npm run demo` shows of a launch step's outputs, in the order a user needs them: first the
// four an eval job uses, each with what it is and what the job does with it; then failure_reason
// with its cause and fix, and mode with its billing, when they say something; then every other
// output the step set, sampler before trainer before bookkeeping, run_json shortened. Pure.

import { CAUSES, FAILURE_REASONS, type FailureReason } from '../src/forensics/causes.js';
import { BILLING, type Mode } from '../src/modes.js';

/** The outputs an eval job uses, and the line that says what each is for. */
export const EVAL_OUTPUTS: ReadonlyArray<readonly [name: string, meaning: string]> = [
  ['openai_base_url', "the sampler's OpenAI-compatible base URL: point OPENAI_BASE_URL (an OpenAI client's base_url) at it"],
  ['sampler_model', "the `model` to send: the base model (a published adapter's id selects the fine-tuned weights)"],
  ['run_id', 'the run: give it to the stop action (run_ids) and to the eval report (run_id)'],
  [
    'status',
    'ready: the sampler answers, evaluate now · launched: created, not waited for · failed, timed_out, cancelled, error: nothing to evaluate (failure_reason says why)',
  ],
];

/** The rest, in reading order: the sampler, the trainer and run, the session, warm starts; run_json last. */
const REST = [
  'sampler_base_url',
  'sampler_status',
  'sampler_id',
  'sampler_model_id',
  'sampler_deployment_id',
  'run_name',
  'run_base_url',
  'trainer_status',
  'deployment_id',
  'base_model',
  'created_at',
  'session_id',
  'session_created',
  'adopted',
  'reused_from_run_id',
  'superseded_run_ids',
];

const isReason = (value: string): value is FailureReason => (FAILURE_REASONS as readonly string[]).includes(value);
const isMode = (value: string): value is Mode => Object.prototype.hasOwnProperty.call(BILLING, value);

/** failure_reason's cause and fix, and mode's billing: the lines that make them worth reading first. */
function meaningOf(name: 'failure_reason' | 'mode', value: string): string | undefined {
  if (name === 'failure_reason') return isReason(value) ? `${CAUSES[value].means} Fix: ${CAUSES[value].fix}` : undefined;
  return isMode(value) ? BILLING[value] : undefined;
}

/** run_json shortened to the run's id and its length: the whole object is in the output. */
function shortRunJson(value: string): string {
  let id: unknown;
  try {
    id = (JSON.parse(value) as { id?: unknown } | null)?.id;
  } catch {
    id = undefined;
  }
  const head = typeof id === 'string' ? `{"id":${JSON.stringify(id)},…} ` : '';
  return `${head}(${value.length} characters: the last run object seen, as JSON)`;
}

const shown = (value: string): string => (value === '' ? '(empty)' : value);

/** The lines the demo prints for these outputs (every one of them, each once). */
export function outputLines(outputs: Readonly<Record<string, string>>): string[] {
  const lines: string[] = [];
  const done = new Set<string>();
  const line = (name: string, meaning?: string): void => {
    const value = outputs[name];
    if (value === undefined || done.has(name)) return;
    done.add(name);
    lines.push(`  ${name} = ${name === 'run_json' ? shortRunJson(value) : shown(value)}`);
    if (meaning) lines.push(`      ${meaning}`);
  };
  lines.push('Outputs ($GITHUB_OUTPUT), first what an eval job uses:');
  for (const [name, meaning] of EVAL_OUTPUTS) line(name, meaning);
  for (const name of ['failure_reason', 'mode'] as const) {
    const value = outputs[name];
    if (value) line(name, meaningOf(name, value));
  }
  lines.push('The other outputs:');
  for (const name of REST) line(name);
  for (const name of Object.keys(outputs)) if (name !== 'run_json') line(name);
  line('run_json');
  return lines;
}
