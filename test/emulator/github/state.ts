/** What the emulator's GitHub side holds, what it recorded, and the shape of its routes. */

export interface FakeComment {
  id: number;
  body: string;
  html_url: string;
  user: { login: string };
}

export interface GithubRequest {
  method: string;
  /** The path inside the API prefix; `(graphql)` for GraphQL; `(outside …) …` for a path outside it. */
  path: string;
  query: Record<string, string>;
  authorization?: string;
  body?: unknown;
}

/** A check run as GitHub keeps it (the fields the actions read and write). */
export interface FakeCheckRun {
  id: number;
  /** owner/repo */
  repository: string;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  external_id: string | null;
  details_url: string | null;
  html_url: string;
  started_at: string;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  app: { id: number; slug: string };
}

export interface GithubState {
  /** Where the REST API lives, as GITHUB_API_URL gives it (with /api/v3 on Enterprise Server). */
  url: string;
  /** Where the web pages live, as GITHUB_SERVER_URL gives it: html_url points there, web.ts serves them. */
  serverUrl: string;
  requests: GithubRequest[];
  /** `owner/repo#N` → the comments on that issue or pull request, oldest first. */
  comments: Map<string, FakeComment[]>;
  /** `owner/repo#N` → the pull request's current head and base commits (see pulls.ts setPull). */
  pulls: Map<string, { head: string; base: string }>;
  /** Check runs of every repository, oldest first. */
  checkRuns: FakeCheckRun[];
  /** When set, every request is answered with this status and a GitHub-style error body. */
  failWith: number | undefined;
  /** GET requests whose path matches are answered with this status and an HTML page (a proxy's error page, say). */
  failReads: { path: RegExp; status: number; html: string } | undefined;
  /** A read-only token (a fork's pull request): every write answers 403, reads work. */
  readOnly: boolean;
  /** The login the token belongs to (GraphQL `viewer`), and the author of what it creates. */
  viewer: string;
  /** The next id handed out (comments, and whatever else a route creates). */
  nextId: number;
  /** `owner/repo/id` of the workflow runs whose page answers (web.ts addWorkflowRun). */
  workflowRuns: Set<string>;
}

/** `url` and `serverUrl` are set once the server listens. */
export function newState(): GithubState {
  return {
    url: '',
    serverUrl: '',
    requests: [],
    comments: new Map(),
    pulls: new Map(),
    checkRuns: [],
    failWith: undefined,
    failReads: undefined,
    readOnly: false,
    viewer: 'github-actions[bot]',
    nextId: 1000,
    workflowRuns: new Set(),
  };
}

export interface Answer {
  status: number;
  body: unknown;
}

/** A route: its pattern's groups are the handler's params; `body` is the parsed JSON body; `query` the URL's parameters. */
export interface GithubRoute {
  pattern: RegExp;
  methods: Record<string, (state: GithubState, params: string[], body: unknown, query: Record<string, string>) => Answer>;
}

export const notFound: Answer = { status: 404, body: { message: 'Not Found' } };
export const invalid: Answer = { status: 422, body: { message: 'Validation Failed' } };
