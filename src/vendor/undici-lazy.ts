// Stands in for the bare `undici` import of @actions/http-client and @actions/github (mapped by
// tsconfig "paths", which ncc applies when bundling). Both use undici only to reach GitHub through
// a proxy when the pull-request comment is posted: http-client builds a ProxyAgent that
// @actions/github hands to fetch. Neither happens on the main path, so undici (~440 kB) is loaded
// on first fetch, from its own chunk, and every launch starts without it.

const importUndici = () => import('undici/index.js');
type Undici = Awaited<ReturnType<typeof importUndici>>;
type ProxyOptions = ConstructorParameters<Undici['ProxyAgent']>[0];

let loading: Promise<Undici> | undefined;
const load = (): Promise<Undici> => (loading ??= importUndici());

const agents = new WeakMap<ProxyAgent, InstanceType<Undici['ProxyAgent']>>();

/** Keeps its options until fetch below first uses it, then becomes undici's ProxyAgent. */
export class ProxyAgent {
  constructor(readonly options: ProxyOptions) {}
}

export async function fetch(...[input, init]: Parameters<Undici['fetch']>): ReturnType<Undici['fetch']> {
  const undici = await load();
  const dispatcher: unknown = init?.dispatcher;
  if (dispatcher instanceof ProxyAgent) {
    let agent = agents.get(dispatcher);
    if (!agent) agents.set(dispatcher, (agent = new undici.ProxyAgent(dispatcher.options)));
    return undici.fetch(input, { ...init, dispatcher: agent });
  }
  return undici.fetch(input, init);
}
