/** Default timelines, models and instance types, and the status sets the emulator's rules use. */
import type { LoopsInstanceType, SupportedModel, TimelineStep } from './types.js';

export const DEFAULT_SAMPLER_TIMELINE: readonly TimelineStep[] = [
  { status: 'DEPLOYING', ms: 300 },
  { status: 'LOADING_MODEL', ms: 300 },
  { status: 'ACTIVE' },
];

export const DEFAULT_TRAINER_TIMELINE: readonly TimelineStep[] = [
  { status: 'CREATED', ms: 100 },
  { status: 'DEPLOYING', ms: 300 },
  { status: 'RUNNING' },
];

/**
 * The docs' supported models. Which of them Baseten runs serverless, and up to which LoRA rank
 * and sequence length, is not published: here the smaller Qwen models are serverless-capable
 * up to rank 64 (the default rank) and 32768 tokens, the largest models are not.
 */
const SERVERLESS = { serverless: true, serverless_max_lora_rank: 64, serverless_max_seq_len: 32768 } as const;
export const DEFAULT_MODELS: readonly SupportedModel[] = [
  { model_name: 'Qwen/Qwen3-0.6B', max_context_length: 8192, supports_vision_language: false, ...SERVERLESS },
  { model_name: 'Qwen/Qwen3-8B', max_context_length: 131072, supports_vision_language: false, ...SERVERLESS },
  { model_name: 'Qwen/Qwen3-4B-Instruct-2507', max_context_length: 40960, supports_vision_language: false, ...SERVERLESS },
  { model_name: 'Qwen/Qwen3-30B-A3B-Instruct-2507', max_context_length: 131072, supports_vision_language: false, ...SERVERLESS },
  { model_name: 'moonshotai/Kimi-K2.6', max_context_length: 131072, supports_vision_language: false, serverless: false },
  { model_name: 'zai-org/GLM-5.2-FP8', max_context_length: 65536, supports_vision_language: false, serverless: false },
];

export const DEFAULT_USER_EMAIL = 'ci@example.com';
export const DEFAULT_API_KEY = 'test-key';
export const DEFAULT_WAKE_MS = 300;
/** Baseten's management-API rate limits (per key and per endpoint). */
export const DEFAULT_ENDPOINT_RATE_LIMITS = { perSecond: 100, deploymentActionsPerMinute: 20 } as const;
/** max_model_len a sampler reports for a base model missing from the models table. */
export const DEFAULT_MAX_MODEL_LEN = 131072;

export const TRAINER_INSTANCE: LoopsInstanceType = {
  id: 'H100x8',
  name: 'H100:8x80GB',
  memory_limit_mib: 1_843_200,
  millicpu_limit: 184_000,
  gpu_count: 8,
  gpu_type: 'H100',
  gpu_memory_limit_mib: 81_920,
};

export const SAMPLER_INSTANCE: LoopsInstanceType = {
  id: 'H100x1',
  name: 'H100:1x80GB',
  memory_limit_mib: 230_400,
  millicpu_limit: 23_000,
  gpu_count: 1,
  gpu_type: 'H100',
  gpu_memory_limit_mib: 81_920,
};

/** Trainer statuses that hold GPUs (the CLI's "live" set). */
export const GPU_TRAINER = new Set(['CREATED', 'DEPLOYING', 'RUNNING']);
export const TERMINAL_TRAINER = new Set(['FAILED', 'STOPPED', 'PREEMPTED']);
/** Sampler statuses that end reuse (the deployment is replaced) and answer 404 on /v1/models... */
export const DEAD_SAMPLER = new Set(['DEPLOY_FAILED', 'BUILD_FAILED', 'BUILD_STOPPED', 'FAILED', 'INACTIVE', 'DEACTIVATING', 'UNHEALTHY']);
/** ...except these, which answer 503 there: the sampler may still come up. */
export const NOT_READY_SAMPLER = new Set(['BUILDING', 'DEPLOYING', 'LOADING_MODEL', 'WAKING_UP', 'UPDATING', 'UNHEALTHY']);
