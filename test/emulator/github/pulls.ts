/** Pull requests: GET /repos/{owner}/{repo}/pulls/{n} with the pull request's current head and base. */
import { type GithubRoute, type GithubState, notFound } from './state.js';

/** Sets (or moves) a pull request's head, as a push to its branch does. */
export function setPull(state: GithubState, repository: string, number: number, head: string, base = 'b'.repeat(40)): void {
  state.pulls.set(`${repository}#${number}`, { head, base });
}

export const PULL_ROUTES: GithubRoute[] = [
  {
    pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/,
    methods: {
      GET: (state, [owner, repo, number]) => {
        const pull = state.pulls.get(`${owner}/${repo}#${number}`);
        if (!pull) return notFound;
        return {
          status: 200,
          body: {
            number: Number(number),
            state: 'open',
            head: { sha: pull.head, ref: `feature-${number}`, repo: { full_name: `${owner}/${repo}` } },
            base: { sha: pull.base, ref: 'main', repo: { full_name: `${owner}/${repo}` } },
          },
        };
      },
    },
  },
];
