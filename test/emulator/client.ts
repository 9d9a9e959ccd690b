/**
 * A small HTTP client for tests that talk to the emulator over 127.0.0.1 the way the action
 * would: one method per route, answers parsed as JSON.
 */
import type { Emulator } from './options.js';
import type { LoopsDeployment, LoopsRun, LoopsSampler, VllmModelList } from './types.js';

export interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

async function parse<T>(res: Response): Promise<Answer<T>> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: body as T };
}

export function emulatorClient(emu: () => Pick<Emulator, 'url'>, key = 'test-key', scheme = 'Bearer') {
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(path.startsWith('http') ? path : `${emu().url}${path}`, {
      method,
      headers: {
        Authorization: `${scheme} ${key}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      redirect: 'manual',
    });
  const get = async <T>(path: string): Promise<Answer<T>> => parse<T>(await call('GET', path));
  const post = async <T>(path: string, body?: unknown): Promise<Answer<T>> => parse<T>(await call('POST', path, body));
  return {
    call,
    get,
    post,
    async session(): Promise<string> {
      const res = await post<{ session: { id: string } }>('/v1/loops/sessions', {});
      if (res.status !== 200) throw new Error(`create session: ${res.status}`);
      return res.body.session.id;
    },
    /** A run in a new session (or `extra.session_id`); throws unless 200. */
    async run(extra: Record<string, unknown> = {}): Promise<LoopsRun> {
      const sessionId = typeof extra['session_id'] === 'string' ? extra['session_id'] : await this.session();
      const res = await post<{ run: LoopsRun }>('/v1/loops/runs', { session_id: sessionId, base_model: 'Qwen/Qwen3-8B', ...extra });
      if (res.status !== 200) throw new Error(`create run: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.run;
    },
    getRun: (id: string) => get<{ run: LoopsRun }>(`/v1/loops/runs/${id}`),
    getDeployment: (id: string) => get<{ deployment: LoopsDeployment }>(`/v1/loops/deployments/${id}`),
    deactivate: (id: string) => post<unknown>(`/v1/loops/runs/${id}/deactivate`),
    async listRuns(query = ''): Promise<string[]> {
      const res = await get<{ runs: LoopsRun[] }>(`/v1/loops/runs${query}`);
      if (res.status !== 200) throw new Error(`list runs: ${res.status}`);
      return res.body.runs.map((r) => r.id);
    },
    /** GET {sampler base_url}/v1/models. */
    models: (sampler: Pick<LoopsSampler, 'base_url'> | null | undefined) =>
      get<VllmModelList | { detail: string }>(`${sampler?.base_url ?? ''}/v1/models`),
  };
}

export type EmulatorClient = ReturnType<typeof emulatorClient>;

/** A server clock the test moves by hand, three hours behind the real one. */
export function fakeClock(start = Date.now() - 3 * 3600_000): { now: () => number; advance(ms: number): number; t: number } {
  const clock = {
    t: start,
    now: () => clock.t,
    advance(ms: number): number {
      clock.t += ms;
      return clock.t;
    },
  };
  return clock;
}
