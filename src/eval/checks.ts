// GitHub's Checks API for the report: the check runs of one report (check_name and leg_key) on a
// commit, and writing this push's check run — an update of the one a re-run finds on the commit,
// else a new one. GitHub caps output.summary and output.text at 65535 characters.

import type { Github } from '../report/github.js';
import { type Block, parseBlock } from './block.js';
import type { Conclusion } from './rules.js';

export const MAX_OUTPUT = 65_535;

export interface FoundCheck {
  id: number;
  url: string;
  block: Block;
  completed: boolean;
}

/**
 * The check runs named `name` on `sha` whose block has `legKey`, newest first. Every run of that
 * name is listed (`filter: all`): with the default `latest`, GitHub would hide all but one run of
 * a name, and with it another leg's report of the same check name.
 */
export async function reportsOn(gh: Github, sha: string, name: string, legKey: string): Promise<FoundCheck[]> {
  const { octokit, owner, repo } = gh;
  const runs = await octokit.paginate(octokit.rest.checks.listForRef, { owner, repo, ref: sha, check_name: name, filter: 'all', per_page: 100 });
  return runs
    .flatMap((run): FoundCheck[] => {
      const block = run.name === name ? parseBlock(run.output?.text) : undefined;
      return block && block.leg_key === legKey ? [{ id: run.id, url: run.html_url ?? '', block, completed: run.status === 'completed' }] : [];
    })
    .sort((a, b) => b.id - a.id);
}

export interface CheckContent {
  name: string;
  headSha: string;
  conclusion: Conclusion;
  title: string;
  summary: string;
  text: string;
  /** The workflow run, for the check's "Details" link. */
  detailsUrl?: string;
  /** check_name and leg_key, hashed (see block.ts). */
  externalId: string;
}

/** Writes the check run (completed, with its conclusion): updates `existing`, else creates one. Returns its page. */
export async function writeCheck(gh: Github, content: CheckContent, existing?: number): Promise<string> {
  const { octokit, owner, repo } = gh;
  const fields = {
    owner,
    repo,
    name: content.name,
    status: 'completed' as const,
    conclusion: content.conclusion,
    completed_at: new Date().toISOString(),
    external_id: content.externalId,
    ...(content.detailsUrl ? { details_url: content.detailsUrl } : {}),
    output: { title: content.title, summary: content.summary, text: content.text },
  };
  const { data } =
    existing === undefined
      ? await octokit.rest.checks.create({ ...fields, head_sha: content.headSha })
      : await octokit.rest.checks.update({ ...fields, check_run_id: existing });
  return data.html_url ?? '';
}
