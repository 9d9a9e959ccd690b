/**
 * What a deployment goes through and what it logs on the way. Without a story it follows the
 * configured timelines and logs a line as each status begins. A failure story (options.story)
 * scripts both, as users meet them: out of GPU memory, a spot preemption, a checkpoint that
 * cannot be loaded, a sampler in a crash loop; `chatty` is a healthy run that logs thousands of
 * lines, some sharing one timestamp. Times are milliseconds after the deployment's creation.
 */
import type { LogEntry, LogLevel } from './store.js';
import type { TimelineStep } from './types.js';

export const STORY_NAMES = ['oom', 'preempted', 'checkpoint', 'sampler_crash', 'chatty'] as const;
export type StoryName = (typeof STORY_NAMES)[number];

export interface ScriptLine {
  /** Milliseconds after the deployment was created. */
  ms: number;
  message: string;
  /** Default INFO; null: a line without a level. */
  level?: LogLevel | null;
  replica?: string | null;
  /** Nanoseconds into that millisecond: lines given the same value share one timestamp. Default: 1000 apart, in order. */
  ns?: number;
}

export interface Story {
  trainer: readonly TimelineStep[];
  sampler: readonly TimelineStep[];
  availability?: 'spot';
  trainerLogs: ScriptLine[];
  samplerLogs: ScriptLine[];
}

/** What a story may mention: the run's model and checkpoint, and the timelines the emulator is configured with. */
export interface StoryContext {
  baseModel: string;
  checkpointPath?: string;
  trainer: readonly TimelineStep[];
  sampler: readonly TimelineStep[];
}

const TRAINER_SAYS: Record<string, string> = {
  CREATED: 'Scheduling the trainer on H100:8x80GB',
  DEPLOYING: 'Pulling the trainer image and loading {model}',
  RUNNING: 'Trainer ready: LoRA training of {model} can start',
};
const SAMPLER_SAYS: Record<string, string> = {
  BUILDING: 'Building the sampler image',
  DEPLOYING: 'Starting vLLM for {model}',
  LOADING_MODEL: 'Loading the weights of {model}',
  ACTIVE: 'Application startup complete; serving {model}',
};

/** A line as each status of a timeline begins (ERROR for a status that is not in `says`). */
function narrate(steps: readonly TimelineStep[], says: Record<string, string>, model: string): ScriptLine[] {
  let at = 0;
  return steps.map((step) => {
    const known = says[step.status];
    const line: ScriptLine = { ms: at, message: (known ?? `Deployment status ${step.status}`).replace('{model}', model) };
    if (!known) line.level = 'ERROR';
    at += step.ms ?? 0;
    return line;
  });
}

function oom(ctx: StoryContext): Partial<Story> {
  return {
    trainer: [{ status: 'CREATED', ms: 40 }, { status: 'DEPLOYING', ms: 200 }, { status: 'FAILED' }],
    trainerLogs: [
      { ms: 0, message: TRAINER_SAYS.CREATED ?? '' },
      { ms: 40, message: `Loading ${ctx.baseModel} onto 8 GPUs` },
      { ms: 120, message: 'Building the training graph' },
      { ms: 235, level: 'ERROR', message: 'Traceback (most recent call last):' },
      { ms: 235, level: 'ERROR', message: '  File "/app/trainer/step.py", line 212, in forward_backward' },
      {
        ms: 236,
        level: 'ERROR',
        message:
          'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has a total capacity of 79.10 GiB of which 1.25 GiB is free.',
      },
      { ms: 239, level: 'ERROR', message: 'Trainer process exited with code 1' },
    ],
  };
}

function preempted(ctx: StoryContext): Partial<Story> {
  return {
    availability: 'spot',
    trainer: [{ status: 'CREATED', ms: 40 }, { status: 'DEPLOYING', ms: 200 }, { status: 'PREEMPTED' }],
    trainerLogs: [
      { ms: 0, message: 'Scheduling the trainer on spot capacity (H100:8x80GB)' },
      { ms: 40, message: `Loading ${ctx.baseModel} onto 8 GPUs` },
      { ms: 230, level: 'WARNING', message: 'Spot capacity reclaimed: node gpu-spot-7 received a preemption notice (terminating in 30s)' },
      { ms: 238, level: 'ERROR', message: 'Trainer pod terminated: its node was preempted' },
    ],
  };
}

function checkpoint(ctx: StoryContext): Partial<Story> {
  const path = ctx.checkpointPath ?? 'bt://loops:oldrun1/weights/step-9';
  return {
    trainer: [{ status: 'CREATED', ms: 40 }, { status: 'DEPLOYING', ms: 160 }, { status: 'FAILED' }],
    trainerLogs: [
      { ms: 0, message: TRAINER_SAYS.CREATED ?? '' },
      { ms: 40, message: `Restoring the trainer state from ${path}` },
      { ms: 150, level: 'ERROR', message: `Failed to load checkpoint ${path}: lora_config is null (the checkpoint is unsupported)` },
      { ms: 158, level: 'ERROR', message: 'Trainer process exited with code 1' },
    ],
  };
}

function samplerCrash(ctx: StoryContext): Partial<Story> {
  const crashes = Array.from({ length: 20 }, (_, k): ScriptLine[] => [
    { ms: 160 + 100 * k, level: 'ERROR', message: 'RuntimeError: Engine core initialization failed. See root cause above.' },
    { ms: 161 + 100 * k, level: 'WARNING', message: `Back-off restarting failed container sampler in pod sampler-${k} (CrashLoopBackOff)` },
  ]).flat();
  return {
    sampler: [{ status: 'DEPLOYING', ms: 60 }, { status: 'LOADING_MODEL', ms: 100 }, { status: 'UNHEALTHY' }],
    samplerLogs: [
      { ms: 0, message: (SAMPLER_SAYS.DEPLOYING ?? '').replace('{model}', ctx.baseModel) },
      { ms: 60, message: (SAMPLER_SAYS.LOADING_MODEL ?? '').replace('{model}', ctx.baseModel) },
      ...crashes,
    ],
  };
}

/** 2500 trainer lines in the first 100 ms: 25 a millisecond, in threes that share one timestamp; some WARNING, some without a level. */
function chatty(): Partial<Story> {
  const lines = Array.from({ length: 2500 }, (_, i): ScriptLine => {
    const level: LogLevel | null = i % 100 === 99 ? 'WARNING' : i % 7 === 3 ? null : 'INFO';
    return { ms: Math.floor(i / 25), ns: Math.floor((i % 25) / 3) * 1000, level, message: `step ${i}: loss ${(2 - i / 2500).toFixed(4)}` };
  });
  return { trainerLogs: lines };
}

const STORIES: Record<StoryName, (ctx: StoryContext) => Partial<Story>> = {
  oom,
  preempted,
  checkpoint,
  sampler_crash: samplerCrash,
  chatty,
};

/** The story of a new deployment: the named one, or the configured timelines narrated. */
export function storyFor(name: StoryName | undefined, ctx: StoryContext): Story {
  const told = name ? STORIES[name](ctx) : {};
  const trainer = told.trainer ?? ctx.trainer;
  const sampler = told.sampler ?? ctx.sampler;
  return {
    trainer,
    sampler,
    availability: told.availability,
    trainerLogs: told.trainerLogs ?? narrate(trainer, TRAINER_SAYS, ctx.baseModel),
    samplerLogs: told.samplerLogs ?? narrate(sampler, SAMPLER_SAYS, ctx.baseModel),
  };
}

/** Script lines as log entries of a deployment created at `createdAt` (server-clock ms). */
export function logEntries(createdAt: number, lines: readonly ScriptLine[], replica: string): LogEntry[] {
  const next = new Map<number, number>();
  return lines.map((line) => {
    const ms = createdAt + line.ms;
    const auto = next.get(ms) ?? 0;
    next.set(ms, auto + 1000);
    return {
      ns: BigInt(ms) * 1_000_000n + BigInt(line.ns ?? auto),
      message: line.message,
      level: line.level === undefined ? 'INFO' : line.level,
      replica: line.replica === undefined ? replica : line.replica,
    };
  });
}
