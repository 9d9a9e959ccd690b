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

export interface GithubState {
  requests: GithubRequest[];
  /** `owner/repo#N` → the comments on that issue or pull request, oldest first. */
  comments: Map<string, FakeComment[]>;
  /** `owner/repo#N` → the pull request's current head and base commits (see pulls.ts setPull). */
  pulls: Map<string, { head: string; base: string }>;
  /** When set, every request is answered with this status and a GitHub-style error body. */
  failWith: number | undefined;
  /** The login the token belongs to (GraphQL `viewer`), and the author of what it creates. */
  viewer: string;
  /** The next id handed out (comments, and whatever else a route creates). */
  nextId: number;
}

export function newState(): GithubState {
  return { requests: [], comments: new Map(), pulls: new Map(), failWith: undefined, viewer: 'github-actions[bot]', nextId: 1000 };
}

export interface Answer {
  status: number;
  body: unknown;
}

/** A route: its pattern's groups are the handler's params; `body` is the parsed JSON body. */
export interface GithubRoute {
  pattern: RegExp;
  methods: Record<string, (state: GithubState, params: string[], body: unknown) => Answer>;
}

export const notFound: Answer = { status: 404, body: { message: 'Not Found' } };
export const invalid: Answer = { status: 422, body: { message: 'Validation Failed' } };
