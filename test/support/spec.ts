// The inputs and outputs of ../shared/SPEC.md (the product contract), with their defaults,
// kept here so that the tests also run where shared/ is not beside the repository (GitHub CI).
// test/action.test.ts checks this copy against SPEC.md whenever SPEC.md is there.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './runner.js';

/** Input name → default as action.yml declares it ('' for none). */
export const SPEC_INPUTS: Record<string, string> = {
  api_key: '',
  api_base_url: 'https://api.baseten.co',
  base_model: '',
  session_id: '',
  training_project_id: '',
  run_name: '',
  lora_rank: '64',
  max_seq_len: '',
  seed: '',
  scale_down_delay_seconds: '3600',
  checkpoint_path: '',
  reuse_from_run_id: '',
  reuse_from_session_id: '',
  availability_model: 'dedicated',
  replicas: '1',
  wait_for: 'sampler',
  wait_timeout_seconds: '1800',
  poll_interval_seconds: '10',
  preflight: 'true',
  deactivate_on_failure: 'true',
  deactivate_at_job_end: 'false',
  comment_on_pr: 'false',
  github_token: '${{ github.token }}',
  dry_run: 'false',
  max_retries: '4',
  request_timeout_seconds: '30',
  // The run's life in a pull request.
  supersede: 'auto',
  warm_start: 'auto',
  adopt_on_rerun: 'true',
  leg_key: '',
  // Eval handoff.
  verify_sampler: 'true',
  // Availability modes.
  scope: 'auto',
  // Failure forensics.
  show_logs: 'on_failure',
};

export const SPEC_OUTPUTS = [
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
  // The run's life in a pull request.
  'adopted',
  'reused_from_run_id',
  'superseded_run_ids',
  // Eval handoff.
  'sampler_model',
  'openai_base_url',
  'sampler_deployment_id',
  'sampler_model_id',
  // Availability modes.
  'mode',
  // Failure forensics.
  'failure_reason',
];

/** The stop action (stop/action.yml): input name → default as its action.yml declares it. */
export const SPEC_STOP_INPUTS: Record<string, string> = {
  api_key: '',
  api_base_url: 'https://api.baseten.co',
  max_retries: '4',
  request_timeout_seconds: '30',
  github_token: '${{ github.token }}',
  comment_on_pr: 'false',
  run_ids: '',
  pull_request: '',
  older_than_minutes: '',
  dry_run: 'false',
};

export const SPEC_STOP_OUTPUTS = ['selected_run_ids', 'stopped_run_ids', 'already_stopped_run_ids', 'failed_run_ids', 'status'];

/** The eval report action (report/action.yml): input name → default as its action.yml declares it. */
export const SPEC_REPORT_INPUTS: Record<string, string> = {
  metrics: '',
  run_id: '',
  baseline: 'base',
  thresholds: '',
  thresholds_need_baseline: 'false',
  check_name: 'Loops eval',
  comment_on_pr: 'true',
  github_token: '${{ github.token }}',
  leg_key: '',
};

export const SPEC_REPORT_OUTPUTS = ['passed', 'failed_rules', 'baseline_sha', 'check_run_url'];

export const SHARED_SPEC = join(ROOT, '..', 'shared', 'SPEC.md');
export const SHARED_OPENAPI = join(ROOT, '..', 'shared', 'loops-api', 'openapi.yaml');
/** The API description the contract tests use: a copy of shared/loops-api/openapi.yaml. */
export const OPENAPI = join(ROOT, 'test', 'fixtures', 'loops-openapi.yaml');
export const haveShared = existsSync(SHARED_SPEC);
