/**
 * The records the emulator answers with: the shapes of the API description (test/fixtures/loops-openapi.yaml)
 * (spec 2026-08-22), plus the vLLM models list its samplers serve.
 */

export interface TimelineStep {
  status: string;
  /** How long this status lasts. The last step has no ms and stays forever. */
  ms?: number;
}

/**
 * A model of the emulated workspace, as its options give it. The serverless fields are the
 * emulator's model of what Baseten has not published: whether Baseten can run the model
 * serverless at all (the workspace also needs access: options.serverlessAccess), and the
 * largest LoRA rank and sequence length it runs serverless. The capabilities answer shows
 * `serverless` (capable and accessible) for every model, and the limits beside it.
 */
export interface SupportedModel {
  model_name: string;
  max_context_length: number;
  supports_vision_language: boolean;
  max_seq_len?: number;
  enabled?: boolean;
  serverless?: boolean;
  serverless_max_lora_rank?: number;
  serverless_max_seq_len?: number;
}

/** A planted checkpoint (options.checkpoints). */
export interface CheckpointSpec {
  /** bt://loops:<run_id>/(weights|sampler_weights)/<name> */
  path: string;
  /** Default: the run's base model (null when the run is unknown). */
  base_model?: string | null;
  /** Default `{"r": <the run's rank>}` (left out for a run the emulator never saw); null = "cannot be loaded"; 'absent' leaves it out. */
  lora_config?: Record<string, unknown> | null | 'absent';
  /** Server-clock ms, or null (the default: no expiry). */
  expires_at?: number | null;
}

export interface LoopsUser {
  email: string | null;
}

export interface LoopsInstanceType {
  id: string;
  name: string;
  memory_limit_mib: number;
  millicpu_limit: number;
  gpu_count: number;
  gpu_type: string | null;
  gpu_memory_limit_mib: number | null;
}

export interface LoopsSession {
  id: string;
}

export interface LoopsSampler {
  id: string;
  /** "" while the URL is not known yet (samplerUrlDelayMs). */
  base_url: string;
  base_model: string;
  created_at: string;
  /** Absent for a serverless sampler (no model deployment behind it). */
  model_id?: string;
  deployment_id?: string;
  /** May be absent for a serverless sampler (options.serverlessSampler). */
  status?: { name: string };
  user: LoopsUser;
  instance_type: LoopsInstanceType | null;
  node_count: number;
}

export interface LoopsRun {
  id: string;
  session_id: string;
  deployment_id: string | null;
  name: string;
  base_model: string;
  base_url: string;
  created_at: string;
  status: { name: 'ACTIVE' | 'INACTIVE' };
  user: LoopsUser;
  sampler: LoopsSampler | null;
}

export interface LoopsDeployment {
  id: string;
  active_run_id: string | null;
  latest_run_id: string | null;
  base_model: string;
  base_url: string;
  status: { name: string };
  user: LoopsUser;
  created_at: string;
  availability_model: 'dedicated' | 'spot';
  instance_type: LoopsInstanceType;
  node_count: number;
  sampler: LoopsSampler | null;
}

export interface LoopsCheckpoint {
  checkpoint_id: string;
  id: string;
  run_id: string;
  target: 'sampler' | 'trainer';
  checkpoint_type: string;
  base_model: string | null;
  lora_adapter_config: Record<string, unknown> | null;
  size_bytes: number;
  sync_status: string | null;
  created_at: string;
  /** Newer than the 2026-08-22 description: null means the checkpoint cannot be loaded. */
  lora_config?: Record<string, unknown> | null;
  expires_at?: string | null;
}

export interface DeactivatedResource {
  id: string;
  base_model: string;
  user: LoopsUser;
}

export interface ValidationErrorItem {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

/** One entry of vLLM's GET /v1/models (OpenAI-compatible, with vLLM's extra fields). */
export interface VllmModel {
  id: string;
  object: 'model';
  /** Epoch seconds. */
  created: number;
  owned_by: 'vllm';
  /** The base model's name, or a LoRA adapter's path. */
  root: string;
  /** null for the base model; the base model for a LoRA adapter. */
  parent: string | null;
  max_model_len: number;
  permission: unknown[];
}

export interface VllmModelList {
  object: 'list';
  data: VllmModel[];
}
