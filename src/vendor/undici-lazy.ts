// Stands in for the bare `undici` import of @actions/http-client and @actions/github (mapped by
// tsconfig "paths", which ncc applies when bundling). Both use undici only to reach GitHub through
// a proxy when the pull-request comment is posted: http-client builds a ProxyAgent that
// @actions/github hands to fetch. Neither happens on the main path, so undici (~440 kB) is loaded
// on first fetch, from its own chunk, and every launch starts without it.
//
// Guardrails, because the mapping applies to every module in the bundle:
// - only ProxyAgent and fetch are real; every other undici export is a stub (below) that throws
//   an Error naming it as soon as code touches it: that is how a namespace import
//   (`import * as undici`, `require('undici')`) reaching another member fails at run time;
// - `npm run build` refuses a bundle in which any module imports a stub or an unknown name from
//   'undici' (scripts/undici-guard.ts), so a dependency update that starts importing, say, Agent
//   fails the build instead of the action;
// - test/undici-lazy.test.ts checks that the stubs cover every export of the installed undici.

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

/**
 * An export the stand-in does not provide: calling it, constructing it, reading or writing any
 * of its properties (instanceof reads `prototype`) throws an Error that names it. Symbol-keyed
 * reads pass, so that inspecting a namespace that holds a stub does not throw by itself.
 */
function missing<K extends string>(name: K): K extends keyof Undici ? Undici[K] : unknown {
  const fail = (): never => {
    throw new Error(
      `undici.${name} is not provided by the undici stand-in (src/vendor/undici-lazy.ts, mapped by tsconfig.json "paths"), ` +
        `which only provides ProxyAgent and fetch: add ${name} there, loading undici lazily like fetch`,
    );
  };
  const stub = new Proxy(function missingUndiciExport() {}, {
    apply: fail,
    construct: fail,
    get: (target, key): unknown => (typeof key === 'symbol' ? (Reflect.get(target, key) as unknown) : fail()),
    set: fail,
    defineProperty: fail,
    deleteProperty: fail,
    setPrototypeOf: fail,
  });
  return stub as K extends keyof Undici ? Undici[K] : unknown;
}

// Every other export of undici 6, as the stubs above (test/undici-lazy.test.ts keeps the list
// complete). Marked pure so that the minifier drops the ones no bundled module uses.
export const Agent = /*#__PURE__*/ missing('Agent');
export const BalancedPool = /*#__PURE__*/ missing('BalancedPool');
export const Client = /*#__PURE__*/ missing('Client');
export const CloseEvent = /*#__PURE__*/ missing('CloseEvent');
export const DecoratorHandler = /*#__PURE__*/ missing('DecoratorHandler');
export const Dispatcher = /*#__PURE__*/ missing('Dispatcher');
export const EnvHttpProxyAgent = /*#__PURE__*/ missing('EnvHttpProxyAgent');
export const ErrorEvent = /*#__PURE__*/ missing('ErrorEvent');
export const EventSource = /*#__PURE__*/ missing('EventSource');
export const File = /*#__PURE__*/ missing('File');
export const FileReader = /*#__PURE__*/ missing('FileReader');
export const FormData = /*#__PURE__*/ missing('FormData');
export const Headers = /*#__PURE__*/ missing('Headers');
export const MessageEvent = /*#__PURE__*/ missing('MessageEvent');
export const MockAgent = /*#__PURE__*/ missing('MockAgent');
export const MockClient = /*#__PURE__*/ missing('MockClient');
export const MockPool = /*#__PURE__*/ missing('MockPool');
export const Pool = /*#__PURE__*/ missing('Pool');
export const RedirectHandler = /*#__PURE__*/ missing('RedirectHandler');
export const Request = /*#__PURE__*/ missing('Request');
export const Response = /*#__PURE__*/ missing('Response');
export const RetryAgent = /*#__PURE__*/ missing('RetryAgent');
export const RetryHandler = /*#__PURE__*/ missing('RetryHandler');
export const WebSocket = /*#__PURE__*/ missing('WebSocket');
export const buildConnector = /*#__PURE__*/ missing('buildConnector');
export const caches = /*#__PURE__*/ missing('caches');
export const connect = /*#__PURE__*/ missing('connect');
export const createRedirectInterceptor = /*#__PURE__*/ missing('createRedirectInterceptor');
export const deleteCookie = /*#__PURE__*/ missing('deleteCookie');
export const errors = /*#__PURE__*/ missing('errors');
export const getCookies = /*#__PURE__*/ missing('getCookies');
export const getGlobalDispatcher = /*#__PURE__*/ missing('getGlobalDispatcher');
export const getGlobalOrigin = /*#__PURE__*/ missing('getGlobalOrigin');
export const getSetCookies = /*#__PURE__*/ missing('getSetCookies');
export const interceptors = /*#__PURE__*/ missing('interceptors');
export const mockErrors = /*#__PURE__*/ missing('mockErrors');
export const parseMIMEType = /*#__PURE__*/ missing('parseMIMEType');
export const pipeline = /*#__PURE__*/ missing('pipeline');
export const request = /*#__PURE__*/ missing('request');
export const serializeAMimeType = /*#__PURE__*/ missing('serializeAMimeType');
export const setCookie = /*#__PURE__*/ missing('setCookie');
export const setGlobalDispatcher = /*#__PURE__*/ missing('setGlobalDispatcher');
export const setGlobalOrigin = /*#__PURE__*/ missing('setGlobalOrigin');
export const stream = /*#__PURE__*/ missing('stream');
export const upgrade = /*#__PURE__*/ missing('upgrade');
export const util = /*#__PURE__*/ missing('util');
