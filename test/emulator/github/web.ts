/**
 * GitHub's web pages behind the links the actions print: a check run's page and a pull request's
 * (a comment's html_url is that page with an anchor), and a workflow run's (the link the launch
 * comment builds from GITHUB_SERVER_URL). GitHub serves them apart from the REST API (github.com
 * vs api.github.com; on Enterprise Server outside /api/v3); here they live on this server's origin,
 * `serverUrl`. A page is a small HTML document naming what it shows; what GitHub does not hold is 404.
 */
import type { GithubState } from './state.js';

export interface Page {
  status: number;
  title: string;
}

/** Tells the fake that a workflow run exists (as the runner's GITHUB_RUN_ID names it), so its page answers. */
export function addWorkflowRun(state: GithubState, repository: string, runId: string): void {
  state.workflowRuns.add(`${repository}/${runId}`);
}

const PAGES: Array<{ pattern: RegExp; page: (state: GithubState, repository: string, id: string) => string | undefined }> = [
  {
    pattern: /^\/([^/]+\/[^/]+)\/runs\/(\d+)$/,
    page: (state, repository, id) => {
      const run = state.checkRuns.find((r) => r.repository === repository && r.id === Number(id));
      return run && `${run.name}: ${run.conclusion ?? run.status}`;
    },
  },
  {
    pattern: /^\/([^/]+\/[^/]+)\/pull\/(\d+)$/,
    page: (state, repository, number) => {
      const key = `${repository}#${number}`;
      return state.pulls.has(key) || state.comments.has(key) ? `Pull request #${number}` : undefined;
    },
  },
  {
    pattern: /^\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)$/,
    page: (state, repository, id) => (state.workflowRuns.has(`${repository}/${id}`) ? `Workflow run ${id}` : undefined),
  },
];

/** The page at this path, or undefined when the path is not a web page's (then it may be the API's). */
export function webPage(state: GithubState, pathname: string): Page | undefined {
  for (const { pattern, page } of PAGES) {
    const m = pattern.exec(pathname);
    if (!m) continue;
    const title = page(state, m[1] ?? '', m[2] ?? '');
    return title === undefined ? { status: 404, title: 'Not Found' } : { status: 200, title: `${title} · ${m[1] ?? ''}` };
  }
  return undefined;
}

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function pageHtml(page: Page): string {
  return `<!DOCTYPE html>\n<html><head><title>${escape(page.title)}</title></head><body><h1>${escape(page.title)}</h1></body></html>\n`;
}
