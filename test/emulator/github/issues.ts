/** Issue (and pull-request) comments, and who the token is (GraphQL `viewer { login }`). */
import { type Answer, type GithubRoute, type GithubState, invalid, notFound } from './state.js';

/** GitHub refuses a comment body longer than this (422). */
const MAX_BODY = 65_536;

function textOf(body: unknown): string | undefined {
  const text = (body as { body?: unknown } | undefined)?.body;
  return typeof text === 'string' && text.length <= MAX_BODY ? text : undefined;
}

function createComment(state: GithubState, [owner, repo, number]: string[], body: unknown): Answer {
  const key = `${owner}/${repo}#${number}`;
  const text = textOf(body);
  if (text === undefined) return invalid;
  const id = state.nextId++;
  const comment = {
    id,
    body: text,
    html_url: `${state.serverUrl}/${owner}/${repo}/pull/${number}#issuecomment-${id}`,
    user: { login: state.viewer },
  };
  state.comments.set(key, [...(state.comments.get(key) ?? []), comment]);
  return { status: 201, body: comment };
}

function updateComment(state: GithubState, [owner, repo, id]: string[], body: unknown): Answer {
  for (const [key, list] of state.comments) {
    const comment = list.find((c) => c.id === Number(id));
    if (!comment || !key.startsWith(`${owner}/${repo}#`)) continue;
    const text = textOf(body);
    if (text === undefined) return invalid;
    comment.body = text;
    return { status: 200, body: comment };
  }
  return notFound;
}

export const ISSUE_ROUTES: GithubRoute[] = [
  {
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/,
    methods: {
      GET: (state, [owner, repo, number]) => ({ status: 200, body: state.comments.get(`${owner}/${repo}#${number}`) ?? [] }),
      POST: createComment,
    },
  },
  { pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/, methods: { PATCH: updateComment } },
];

/** The only GraphQL query the actions send: who the token is. */
export function viewerQuery(state: GithubState, body: unknown): Answer {
  const query = (body as { query?: unknown } | undefined)?.query;
  if (typeof query === 'string' && /viewer\s*\{\s*login\s*\}/.test(query))
    return { status: 200, body: { data: { viewer: { login: state.viewer } } } };
  return { status: 200, body: { errors: [{ message: 'unsupported query in the fake' }] } };
}
