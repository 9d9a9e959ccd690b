// The Eval section in the pull request's conversation. It goes into the launch's sticky comment of
// the leg whose runs table names run_id (as an appendix, which the launch's later updates keep);
// without one, into the report's own sticky comment, marked by check_name and leg_key. Only
// comments the token's identity wrote are edited. The section's hidden data carries the history.

import type { Log } from '../core/log.js';
import { type CommentContext, MARKER_PREFIX, appendixOf, parseRuns, withAppendix } from '../report/comment.js';
import { GITHUB_TIMEOUT_MS } from '../report/github.js';
import { type Comment, withThread } from '../report/pull-request.js';
import { type Push, parseHistory } from './history.js';

/** GitHub refuses a comment longer than this. */
export const MAX_COMMENT = 65_536;

const ownMarker = (key: string): string => `<!-- baseten-loops-eval ${key} -->`;

/**
 * The launch's comment for the run `runId`: the one whose runs table shows it as "this run"; else
 * the only one that lists it. A run listed by several comments (matrix legs share a slot's table)
 * and current in none cannot be placed: undefined.
 */
export function launchComment(own: Comment[], runId: string): Comment | undefined {
  if (!runId) return undefined;
  const naming = own.flatMap((comment) => {
    const body = comment.body ?? '';
    const row = body.startsWith(MARKER_PREFIX) ? parseRuns(body)?.find((r) => r.id === runId) : undefined;
    return row ? [{ comment, current: row.state === 'this run' }] : [];
  });
  return (naming.find((n) => n.current) ?? (naming.length === 1 ? naming[0] : undefined))?.comment;
}

export interface SectionRequest {
  key: string;
  runId: string;
  /** The section for the history so far, in at most `room` characters; and the history with this push. */
  render(previous: Push[], room: number): { content: string; pushes: Push[] };
}

/** Writes the Eval section; returns the history it wrote, or undefined when no comment was written. */
export async function writeSection(ctx: CommentContext, token: string, log: Log, request: SectionRequest): Promise<Push[] | undefined> {
  let written: Push[] | undefined;
  await withThread(ctx, token, log, GITHUB_TIMEOUT_MS, async (thread) => {
    const { key, runId } = request;
    const target = launchComment(thread.own, runId) ?? thread.own.find((c) => (c.body ?? '').startsWith(ownMarker(key)));
    const body = target?.body ?? `${ownMarker(key)}\n`;
    const previous = appendixOf(body, key);
    // What the rest of the comment leaves, less the markers around the section.
    const room = MAX_COMMENT - (body.length - (previous?.length ?? 0)) - 200;
    const { content, pushes } = request.render(parseHistory(previous), room);
    const next = withAppendix(body, key, content);
    if (target) {
      await thread.update(target.id, next);
      log.info(`Eval section written into the pull request comment ${target.html_url ?? target.id}`);
    } else {
      const created = await thread.create(next);
      log.info(`Eval section posted as a pull request comment ${created.html_url ?? created.id}`);
    }
    written = pushes;
  });
  return written;
}
