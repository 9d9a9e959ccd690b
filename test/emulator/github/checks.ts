/**
 * Check runs (the Checks API): create, update, get, and list for a commit with GitHub's
 * `check_name` and `filter` parameters. Validation follows GitHub's: a name and a 40-hex head
 * commit, a conclusion once completed, output with a title and a summary, and output.summary and
 * output.text at most 65535 characters (422 otherwise).
 */
import { type Answer, type FakeCheckRun, type GithubRoute, type GithubState, notFound } from './state.js';

const STATUSES = ['queued', 'in_progress', 'completed'];
const CONCLUSIONS = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out'];
const MAX_OUTPUT = 65_535;

type Fields = Record<string, unknown>;

const fail = (message: string): Answer => ({ status: 422, body: { message: 'Validation Failed', errors: [message] } });
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** What is wrong with the fields a create or update sends, if anything. */
function problem(fields: Fields, creating: boolean): string | undefined {
  if (creating && (typeof fields.name !== 'string' || !fields.name)) return 'name is required';
  if (creating && (typeof fields.head_sha !== 'string' || !/^[0-9a-f]{40}$/.test(fields.head_sha))) return 'head_sha must be a commit';
  if (fields.status !== undefined && !STATUSES.includes(text(fields.status) ?? '')) return `status ${JSON.stringify(fields.status)} is not valid`;
  if (fields.conclusion !== undefined && !CONCLUSIONS.includes(text(fields.conclusion) ?? '')) {
    return `conclusion ${JSON.stringify(fields.conclusion)} is not valid`;
  }
  if (fields.status === 'completed' && fields.conclusion === undefined) return 'conclusion is required when status is completed';
  const output = fields.output as Fields | undefined;
  if (output !== undefined) {
    if (typeof output.title !== 'string' || typeof output.summary !== 'string') return 'output needs a title and a summary';
    for (const key of ['summary', 'text']) {
      const value = output[key];
      if (typeof value === 'string' && value.length > MAX_OUTPUT) return `output.${key} is longer than ${MAX_OUTPUT} characters`;
    }
  }
  return undefined;
}

function apply(run: FakeCheckRun, fields: Fields): void {
  if (typeof fields.name === 'string') run.name = fields.name;
  if (typeof fields.status === 'string') run.status = fields.status;
  if (typeof fields.conclusion === 'string') {
    run.conclusion = fields.conclusion;
    run.status = 'completed';
  }
  if (run.status === 'completed') run.completed_at = text(fields.completed_at) ?? run.completed_at ?? new Date().toISOString();
  if (fields.external_id !== undefined) run.external_id = text(fields.external_id);
  if (fields.details_url !== undefined) run.details_url = text(fields.details_url);
  const output = fields.output as Fields | undefined;
  if (output) run.output = { title: text(output.title), summary: text(output.summary), text: text(output.text) };
}

function createRun(state: GithubState, [owner, repo]: string[], body: unknown): Answer {
  const fields = (body ?? {}) as Fields;
  const why = problem(fields, true);
  if (why) return fail(why);
  const id = state.nextId++;
  const run: FakeCheckRun = {
    id,
    repository: `${owner}/${repo}`,
    name: String(fields.name),
    head_sha: String(fields.head_sha),
    status: 'queued',
    conclusion: null,
    external_id: null,
    details_url: null,
    html_url: `${state.serverUrl}/${owner}/${repo}/runs/${id}`,
    started_at: new Date().toISOString(),
    completed_at: null,
    output: { title: null, summary: null, text: null },
    app: { id: 15368, slug: 'github-actions' },
  };
  apply(run, fields);
  state.checkRuns.push(run);
  return { status: 201, body: run };
}

function find(state: GithubState, owner = '', repo = '', id = ''): FakeCheckRun | undefined {
  return state.checkRuns.find((r) => r.id === Number(id) && r.repository === `${owner}/${repo}`);
}

function updateRun(state: GithubState, [owner, repo, id]: string[], body: unknown): Answer {
  const run = find(state, owner, repo, id);
  if (!run) return notFound;
  const fields = (body ?? {}) as Fields;
  const why = problem(fields, false);
  if (why) return fail(why);
  apply(run, fields);
  return { status: 200, body: run };
}

/** `filter=latest` (GitHub's default) keeps only the newest run of each name; `all` keeps every run. */
function listForRef(state: GithubState, [owner, repo, ref]: string[], _body: unknown, query: Record<string, string>): Answer {
  let runs = state.checkRuns.filter((r) => r.repository === `${owner}/${repo}` && r.head_sha === ref);
  if (query.check_name !== undefined) runs = runs.filter((r) => r.name === query.check_name);
  if (query.status !== undefined) runs = runs.filter((r) => r.status === query.status);
  if ((query.filter ?? 'latest') === 'latest') runs = runs.filter((r) => !runs.some((o) => o.name === r.name && o.id > r.id));
  const newestFirst = [...runs].sort((a, b) => b.id - a.id);
  return { status: 200, body: { total_count: newestFirst.length, check_runs: newestFirst } };
}

export const CHECK_ROUTES: GithubRoute[] = [
  { pattern: /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/, methods: { POST: createRun } },
  {
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/,
    methods: {
      GET: (state, [owner, repo, id]) => ((run) => (run ? { status: 200, body: run } : notFound))(find(state, owner, repo, id)),
      PATCH: updateRun,
    },
  },
  { pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/check-runs$/, methods: { GET: listForRef } },
];
