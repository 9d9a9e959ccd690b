// Step outputs, written as soon as each value is known and again only when it changes.

import type { Run } from '../loops/types.js';

export type Status = 'launched' | 'ready' | 'failed' | 'timed_out' | 'cancelled' | 'dry_run' | 'error';

/** The launch step's outputs. */
export const OUTPUT_NAMES = [
  'run_id',
  'sampler_base_url',
  'session_id',
  'session_created',
  'run_name',
  'run_base_url',
  'sampler_id',
  'sampler_status',
  'trainer_status',
  'deployment_id',
  'base_model',
  'created_at',
  'status',
  'run_json',
  'adopted',
  'reused_from_run_id',
  'superseded_run_ids',
  'sampler_model',
  'openai_base_url',
  'sampler_deployment_id',
  'sampler_model_id',
  'mode',
  'failure_reason',
] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

/** The sampler's OpenAI-compatible base URL: `{sampler_base_url}/v1`, one slash; empty until the sampler URL is known. */
export function openaiBaseUrl(samplerBaseUrl: string | undefined): string {
  return samplerBaseUrl ? `${samplerBaseUrl.replace(/\/+$/, '')}/v1` : '';
}

/** The outputs that describe a run object. */
export function runOutputs(run: Run): Partial<Record<OutputName, string>> {
  return {
    run_id: run.id,
    run_name: run.name,
    run_base_url: run.baseUrl,
    sampler_id: run.sampler?.id ?? '',
    sampler_base_url: run.sampler?.baseUrl ?? '',
    openai_base_url: openaiBaseUrl(run.sampler?.baseUrl),
    sampler_deployment_id: run.sampler?.deploymentId ?? '',
    sampler_model_id: run.sampler?.modelId ?? '',
    sampler_status: run.sampler?.status ?? '',
    deployment_id: run.deploymentId ?? '',
    base_model: run.baseModel,
    created_at: run.createdAt,
    run_json: JSON.stringify(run.raw),
  };
}

/** The stop action's outputs. */
export const STOP_OUTPUT_NAMES = ['selected_run_ids', 'stopped_run_ids', 'already_stopped_run_ids', 'failed_run_ids', 'status'] as const;
export type StopOutputName = (typeof STOP_OUTPUT_NAMES)[number];

/** Writes outputs as soon as each is known, and again only when it changes. */
export class Outputs<Name extends string = OutputName> {
  private readonly written = new Map<Name, string>();

  constructor(
    private readonly names: readonly Name[],
    private readonly setOutput: (name: string, value: string) => void,
  ) {}

  set(values: Partial<Record<Name, string>>): void {
    for (const name of this.names) {
      const value = values[name];
      if (value === undefined || this.written.get(name) === value) continue;
      this.written.set(name, value);
      this.setOutput(name, value);
    }
  }
}
