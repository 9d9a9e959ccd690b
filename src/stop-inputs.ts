// The stop action's inputs → one validated, typed StopSettings. Pure: no I/O. As for the launch,
// every problem is reported at once, each naming its input, and nothing is sent when one is found.

import { FieldReader, type InputReader, show } from './fields.js';
import { type Connection, DEFAULTS, type ParseResult, readConnection } from './inputs.js';

export interface StopSettings extends Connection {
  runIds: string[];
  pullRequest?: number;
  olderThanMinutes?: number;
  dryRun: boolean;
  commentOnPr: boolean;
  githubToken: string;
}

/** The defaults the stop action's action.yml declares. */
export const STOP_DEFAULTS = {
  api_base_url: DEFAULTS.api_base_url,
  max_retries: DEFAULTS.max_retries,
  request_timeout_seconds: DEFAULTS.request_timeout_seconds,
  comment_on_pr: 'false',
  dry_run: 'false',
} as const satisfies Record<string, string>;

const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function parseStopInputs(read: InputReader, env: Record<string, string | undefined>): ParseResult<StopSettings> {
  const f = new FieldReader(read, STOP_DEFAULTS);
  const runIds = f
    .text('run_ids')
    .split(/[\s,]+/)
    .filter(Boolean);
  const bad = runIds.filter((id) => !RUN_ID.test(id));
  if (bad.length > 0) f.fail(`run_ids: not run IDs (letters, digits, '-' or '_'): ${bad.map(show).join(', ')}`);
  const settings: StopSettings = {
    ...readConnection(f, env, true),
    runIds: [...new Set(runIds)],
    pullRequest: f.optionalInteger('pull_request', { min: 1 }),
    olderThanMinutes: f.optionalInteger('older_than_minutes', { min: 0, max: 525_600 }),
    dryRun: f.bool('dry_run'),
    commentOnPr: f.bool('comment_on_pr'),
    githubToken: f.text('github_token') || (env.GITHUB_TOKEN ?? '').trim(),
  };
  if (f.errors.length > 0) return { ok: false, errors: f.errors, warnings: f.warnings };
  return { ok: true, settings, warnings: f.warnings };
}
