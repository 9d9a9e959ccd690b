// What every entry needs (main, post, stop): the client factory, secret masking and
// redaction, and stopping a run. Entries import this module, never each other.

import * as core from '@actions/core';
import { LoopsClient } from './loops/client.js';
import { DEFAULT_POLICY, type Clock } from './retry.js';
import pkg from '../package.json' with { type: 'json' };

/** The version comes from package.json (the release script bumps it there), never a copy. */
export const USER_AGENT = `baseten-loops-launch/${pkg.version}`;

/** The connection settings every entry reads. */
export interface Connection {
  apiBaseUrl: string;
  apiKey: string;
  maxRetries: number;
  requestTimeoutSeconds: number;
}

export function makeClient(settings: Connection, clock: Clock): LoopsClient {
  return new LoopsClient({
    baseUrl: settings.apiBaseUrl,
    apiKey: settings.apiKey,
    timeoutMs: settings.requestTimeoutSeconds * 1000,
    policy: { ...DEFAULT_POLICY, maxRetries: settings.maxRetries },
    clock,
    log: (line) => core.info(line),
    userAgent: USER_AGENT,
  });
}

/** Masks the secrets before anything else can print them. */
export function maskSecrets(env: Record<string, string | undefined>): string[] {
  const secrets = [core.getInput('api_key'), env.BASETEN_API_KEY ?? '', core.getInput('github_token')]
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const secret of secrets) core.setSecret(secret);
  return secrets;
}

export function redact(text: string, secrets: string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('***'), text);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Exits as soon as the step is done, whatever sockets a timed-out request left open. */
export function runToEnd(task: Promise<void>): void {
  task.then(
    () => process.exit(),
    (error: unknown) => {
      core.setFailed(errorMessage(error));
      process.exit();
    },
  );
}
