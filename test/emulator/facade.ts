/** The handle tests hold: inspect and steer the emulator without going through HTTP. */
import { applyOptions, defaultKey, emailOf } from './config.js';
import { createRunFromBody } from './create-run.js';
import { TERMINAL_TRAINER } from './defaults.js';
import { authenticate } from './gate.js';
import type { HandlerEnv } from './handler.js';
import { scaleDown, settle, trainerStatus, usage } from './lifecycle.js';
import type { AddedLogLine, CreateRunOptions, DeploymentUsage, Emulator, EmulatorOptions, FaultSpec, RecordedRequest } from './options.js';
import { EmulatorRequestError, type Resp } from './responses.js';
import { adapterPath } from './sampler.js';
import type { DeploymentState } from './store.js';
import type { LoopsCheckpoint, LoopsRun } from './types.js';
import { checkpointView, runView } from './views.js';

function toError(resp: Resp): EmulatorRequestError {
  const parsed = JSON.parse(resp.body) as { detail?: unknown };
  return new EmulatorRequestError(resp.status, parsed.detail);
}

/** Methods are arrow properties: they work detached (`const { runs } = emulator`). */
export class EmulatorHandle implements Emulator {
  readonly requests: RecordedRequest[];

  constructor(
    readonly url: string,
    readonly port: number,
    private readonly env: HandlerEnv,
    readonly close: () => Promise<void>,
  ) {
    this.requests = env.requests;
  }

  /** The server clock, with every idle scale-down that fell due applied. */
  private now(): number {
    const now = this.env.world.config.now();
    settle(this.env.world, now);
    return now;
  }

  private deploymentOf(runId: string): { d: DeploymentState; now: number } {
    const now = this.now();
    return { d: this.env.world.store.mustRun(runId).deployment, now };
  }

  runs = (): LoopsRun[] => {
    const now = this.now();
    return [...this.env.world.store.runs.values()].map((r) => runView(this.env.world, r, now));
  };

  sessions = (): string[] => [...this.env.world.store.sessions.keys()];

  fault = (spec: FaultSpec): void => this.env.faults.add(spec);

  clearFaults = (): void => this.env.faults.clear();

  setSamplerStatus = (runId: string, status: string): void => {
    const { d, now } = this.deploymentOf(runId);
    d.sampler.track.set(now, status);
  };

  setTrainerStatus = (runId: string, status: string): void => {
    const { d, now } = this.deploymentOf(runId);
    d.track.set(now, status);
  };

  configure = (opts: Partial<EmulatorOptions>): void => {
    if (applyOptions(this.env.world.config, opts)) this.env.limiter.reset();
    if ('endpointRateLimits' in opts) this.env.endpointLimiter.reset();
  };

  reset = (): void => {
    this.env.world.store.clear();
    this.env.faults.clear();
    this.env.requests.length = 0;
    this.env.limiter.reset();
    this.env.endpointLimiter.reset();
  };

  createRun = (body: Record<string, unknown>, opts: CreateRunOptions = {}): LoopsRun => {
    const { world } = this.env;
    const now = this.now();
    const key = opts.key ?? defaultKey(world.config);
    const authError = key === undefined ? undefined : authenticate(world.config, key);
    if (authError) throw toError(authError);
    const wire = JSON.parse(JSON.stringify(body)) as Record<string, unknown>; // as it would arrive
    const creation = { email: emailOf(world.config, key), at: opts.createdAt ?? now, now };
    const created = createRunFromBody(world, wire, creation);
    if (!created.ok) throw toError(created.resp);
    return runView(world, created.run, now);
  };

  createSession = (): string => this.env.world.store.addSession(null, this.now()).id;

  publishAdapter = (runId: string, name: string): void => {
    const { d } = this.deploymentOf(runId);
    if (!d.sampler.adapters.some((a) => a.name === name)) d.sampler.adapters.push({ name, path: adapterPath(runId, name) });
  };

  scaleToZero = (runId: string): void => {
    const { d, now } = this.deploymentOf(runId);
    if (d.serverless) throw new Error(`Run ${runId} is serverless: it holds no GPUs and does not scale to zero`);
    const status = trainerStatus(d, now);
    if (TERMINAL_TRAINER.has(status)) throw new Error(`Run ${runId}: its deployment is ${status}, it cannot scale to zero`);
    scaleDown(d, now);
  };

  deployments = (): DeploymentUsage[] => usage(this.env.world, this.now());

  checkpoints = (): LoopsCheckpoint[] => this.env.world.config.checkpoints.map((c) => checkpointView(this.env.world, c));
  addLogs = (runId: string, target: 'trainer' | 'sampler', lines: AddedLogLine[]): void => {
    const { d, now } = this.deploymentOf(runId);
    const into = target === 'trainer' ? d.logs : d.sampler.logs;
    for (const line of lines) {
      into.push({
        ns: BigInt(line.atMs ?? now) * 1_000_000n + BigInt(line.ns ?? 0),
        message: line.message,
        level: line.level === undefined ? 'INFO' : line.level,
        replica: line.replica ?? null,
      });
    }
  };
}
