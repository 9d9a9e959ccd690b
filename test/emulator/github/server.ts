/**
 * The emulator's GitHub side: the parts of GitHub's REST and GraphQL APIs the actions call, on
 * 127.0.0.1, answered from state a test can read and steer. Layout: server.ts (HTTP, the
 * prefix of Enterprise Server, recording, failures, a read-only token) · state.ts (what GitHub
 * holds) · one module of routes per concern (issues.ts: comments and the token's identity;
 * pulls.ts: a pull request's head; checks.ts: check runs) · web.ts (the web pages the links point
 * at, on the same origin). Real Octokit talks to it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CHECK_ROUTES } from './checks.js';
import { ISSUE_ROUTES, viewerQuery } from './issues.js';
import { PULL_ROUTES } from './pulls.js';
import { type GithubRoute, type GithubState, type Answer, newState } from './state.js';
import { pageHtml, webPage } from './web.js';

export type { FakeCheckRun, FakeComment, GithubRequest, GithubState } from './state.js';
export { setPull } from './pulls.js';
export { addWorkflowRun } from './web.js';

export interface FakeGithub extends GithubState {
  close(): Promise<void>;
}

/** GitHub's root endpoint (GET / of the REST API): where to go from here. */
const ROOT_ROUTE: GithubRoute = {
  pattern: /^\/$/,
  methods: { GET: (state) => ({ status: 200, body: { repository_url: `${state.url}/repos/{owner}/{repo}` } }) },
};

/** Every route table; a concern adds its own module and lists it here. */
const ROUTES: GithubRoute[] = [ROOT_ROUTE, ...ISSUE_ROUTES, ...PULL_ROUTES, ...CHECK_ROUTES];

function send(res: http.ServerResponse, { status, body }: Answer): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function sendPage(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(html)) });
  res.end(html);
}

function parseBody(raw: string): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

const refused = (status: number): Answer => ({
  status,
  body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: String(status) },
});

/** The answer to one request: GraphQL, a route, a forced failure, a read-only token's refusal, or 404. */
function answer(state: GithubState, method: string, path: string, body: unknown, graphql: boolean, query: Record<string, string>): Answer {
  if (state.failWith !== undefined) return refused(state.failWith);
  // GraphQL's `viewer` query is a read, sent as a POST.
  if (state.readOnly && method !== 'GET' && !graphql) return refused(403);
  if (graphql) return viewerQuery(state, body);
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    const handler = m ? route.methods[method] : undefined;
    if (m && handler) return handler(state, m.slice(1), body, query);
  }
  return { status: 404, body: { message: 'Not Found' } };
}

/**
 * `prefix` is where the REST API lives: '' on github.com (api.github.com), '/api/v3' on
 * GitHub Enterprise Server. `url` includes it, as GITHUB_API_URL does; requests outside it get 404,
 * except GraphQL: `/graphql` on github.com, `/api/graphql` on Enterprise Server (recorded as
 * `POST (graphql)`).
 */
export async function startFakeGithub(prefix = ''): Promise<FakeGithub> {
  const state = newState();
  const graphqlPath = prefix === '/api/v3' ? '/api/graphql' : `${prefix}/graphql`;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://github.local');
      const method = req.method ?? 'GET';
      const page = method === 'GET' ? webPage(state, url.pathname) : undefined;
      const inside = url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
      const graphql = method === 'POST' && url.pathname === graphqlPath;
      const path = inside ? url.pathname.slice(prefix.length) || '/' : url.pathname;
      const body = parseBody(Buffer.concat(chunks).toString('utf8'));
      const where = page ? `(web) ${url.pathname}` : graphql ? '(graphql)' : inside ? path : `(outside ${prefix}) ${path}`;
      const query = Object.fromEntries(url.searchParams);
      state.requests.push({ method, path: where, query, authorization: req.headers.authorization, body });
      if (page) return sendPage(res, page.status, pageHtml(page));
      const failed = state.failReads;
      if (failed && method === 'GET' && inside && failed.path.test(path)) return sendPage(res, failed.status, failed.html);
      send(res, !inside && !graphql ? { status: 404, body: { message: 'Not Found' } } : answer(state, method, path, body, graphql, query));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const fake = state as FakeGithub;
  fake.serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.url = `${fake.serverUrl}${prefix}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return fake;
}
