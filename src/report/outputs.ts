// Step outputs, written as soon as each value is known and again only when it changes.

import type { Run } from '../loops/types.js';

export type Status = 'launched' | 'ready' | 'failed' | 'timed_out' | 'cancelled' | 'dry_run' | 'error';

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
] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

/** The outputs that describe a run object. */
export function runOutputs(run: Run): Partial<Record<OutputName, string>> {
  return {
    run_id: run.id,
    run_name: run.name,
    run_base_url: run.baseUrl,
    sampler_id: run.sampler?.id ?? '',
    sampler_base_url: run.sampler?.baseUrl ?? '',
    sampler_status: run.sampler?.status ?? '',
    deployment_id: run.deploymentId ?? '',
    base_model: run.baseModel,
    created_at: run.createdAt,
    run_json: JSON.stringify(run.raw),
  };
}

export class Outputs {
  private readonly written = new Map<OutputName, string>();

  constructor(private readonly setOutput: (name: string, value: string) => void) {}

  set(values: Partial<Record<OutputName, string>>): void {
    for (const name of OUTPUT_NAMES) {
      const value = values[name];
      if (value === undefined || this.written.get(name) === value) continue;
      this.written.set(name, value);
      this.setOutput(name, value);
    }
  }

  get(name: OutputName): string | undefined {
    return this.written.get(name);
  }
}
