/**
 * The emulator's state: sessions, runs, Loops deployments (trainer + paired sampler) and their
 * status tracks. Runs point at their deployment; the deployment's sampler is the run's sampler.
 * active_run_id and latest_run_id are derived from the runs, so they cannot drift.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import type { Track } from './timeline.js';

export interface SessionState {
  id: string;
  trainingProjectId: string | null;
  createdAt: number;
}

export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

/** One log line of a trainer or sampler; `ns` is its time in epoch nanoseconds (the API sends it as a string). */
export interface LogEntry {
  ns: bigint;
  message: string;
  level: LogLevel | null;
  replica: string | null;
}

export interface Adapter {
  name: string;
  path: string;
}

export interface SamplerState {
  id: string;
  modelId: string;
  modelDeploymentId: string;
  baseModel: string;
  createdAt: number;
  /** Server-clock ms from which base_url is known. */
  urlAt: number;
  track: Track;
  email: string;
  adapters: Adapter[];
  /** A serverless sampler (no model deployment): whether its answers show a status, and a base URL. */
  serverless?: { status: 'absent' | 'shown' | 'empty'; url: boolean };
  /** What GET /v1/models/{model_id}/deployments/{deployment_id}/logs serves (lines later than now are not served yet). */
  logs: LogEntry[];
}

/**
 * What a run executes on: a Loops deployment (trainer + paired sampler), or — for a serverless
 * run — only its sampler. A serverless holder is never listed as a deployment, has no
 * deployment_id to show, holds no GPUs and does not scale down.
 */
export interface DeploymentState {
  id: string;
  serverless: boolean;
  baseModel: string;
  /** The Baseten model behind the trainer, in its Baseten-style base_url (options.trainerBaseUrl 'baseten'). */
  trainerModelId: string;
  createdAt: number;
  /** Server-clock ms from which reads see it (read-after-write lag of the run that created it). */
  visibleAt: number;
  track: Track;
  availability: 'dedicated' | 'spot';
  nodeCount: number;
  sampler: SamplerState;
  runIds: string[];
  email: string;
  /** Created, woken, reused or its sampler's /v1/models requested. */
  lastUsed: number;
  scaleDownDelaySeconds: number;
  /** The idle deadline already acted on. */
  idleHandled: number | undefined;
  /** What GET /v1/loops/deployments/{id}/logs serves (lines later than now are not served yet). */
  logs: LogEntry[];
}

export interface RunState {
  id: string;
  /** Creation order, to break created_at ties. */
  seq: number;
  sessionId: string;
  name: string;
  baseModel: string;
  createdAt: number;
  visibleAt: number;
  active: boolean;
  deployment: DeploymentState;
  exposeDeploymentId: boolean;
  loraRank: number;
  email: string;
}

/** Everything a route needs: the settings, the state, and the emulator's own URL. */
export interface World {
  config: Config;
  store: Store;
  url: string;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export class Store {
  readonly sessions = new Map<string, SessionState>();
  readonly runs = new Map<string, RunState>();
  readonly deployments = new Map<string, DeploymentState>();
  private readonly usedIds = new Set<string>();
  private seq = 0;

  /** A fresh 7-character lowercase id, like the API's. */
  newId(): string {
    for (;;) {
      let id = '';
      for (const b of randomBytes(7)) id += ID_ALPHABET[b % ID_ALPHABET.length];
      if (!this.usedIds.has(id)) {
        this.usedIds.add(id);
        return id;
      }
    }
  }

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  addSession(trainingProjectId: string | null, at: number): SessionState {
    const s: SessionState = { id: this.newId(), trainingProjectId, createdAt: at };
    this.sessions.set(s.id, s);
    return s;
  }

  /** A run by id, or throws (for the test-facing helpers). */
  mustRun(id: string): RunState {
    const r = this.runs.get(id);
    if (!r) throw new Error(`Unknown run ${id}`);
    return r;
  }

  runsOn(d: DeploymentState): RunState[] {
    return d.runIds.map((id) => this.runs.get(id)).filter((r): r is RunState => r !== undefined);
  }

  /** The Loops deployments (not the serverless holders). */
  dedicated(): DeploymentState[] {
    return [...this.deployments.values()].filter((d) => !d.serverless);
  }

  /** The sampler with this Baseten model id, and its deployment. */
  samplerByModelId(modelId: string): DeploymentState | undefined {
    for (const d of this.deployments.values()) if (d.sampler.modelId === modelId) return d;
    return undefined;
  }

  clear(): void {
    this.sessions.clear();
    this.runs.clear();
    this.deployments.clear();
    this.usedIds.clear();
    this.seq = 0;
  }
}

/** Newest first: created_at, then creation order. */
export function newestFirst(a: RunState, b: RunState): number {
  return b.createdAt - a.createdAt || b.seq - a.seq;
}
