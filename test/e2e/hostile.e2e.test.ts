// End to end, the windows a hostile tester found where a GPU was lost or state corrupted. Each
// test names the defect it covers; each fails against the bundle these fixes replaced (run
// `LOOPS_ACTION_ROOT=<older checkout> npx vitest run test/e2e/hostile.e2e.test.ts` to see it).

import { describe, expect } from 'vitest';
import type { Emulator, LoopsRun } from '../emulator/server.js';
import { annotations, requestsTo, signalOn, stepTest } from '../support/e2e.js';
import { StepWorkspace, runPostStep } from '../support/runner.js';

const KEY = 'loops-e2e-hostile-key-93e1';
const MODEL = 'Qwen/Qwen3-8B';
const test = stepTest({
  apiKeys: [KEY],
  samplerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'ACTIVE' }],
  trainerTimeline: [{ status: 'DEPLOYING', ms: 60 }, { status: 'RUNNING' }],
});

function inputs(emulator: Emulator, extra: Record<string, string | number | boolean> = {}) {
  return { api_key: KEY, api_base_url: emulator.url, base_model: MODEL, wait_for: 'none', max_retries: 2, poll_interval_seconds: 0.1, ...extra };
}

const live = (emulator: Emulator): LoopsRun[] => emulator.runs().filter((r) => r.status.name === 'ACTIVE');
const deactivations = (emulator: Emulator, runId = '[^/]+'): number =>
  requestsTo(emulator, 'POST', new RegExp(`^/v1/loops/runs/${runId}/deactivate$`)).length;
const runPolls = /^\/v1\/loops\/runs\/[^/]+$/;

/** Deactivates a run behind the action's back, as another job or a person would. */
async function deactivateDirectly(emulator: Emulator, runId: string): Promise<void> {
  const response = await fetch(`${emulator.url}/v1/loops/runs/${runId}/deactivate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}` },
  });
  expect(response.status).toBe(200);
}

describe('1. the post step can never create', () => {
  test.concurrent('with no state at all (main killed before it saved anything) it sends no request', async ({ loops }) => {
    const emulator = await loops();
    const workspace = new StepWorkspace();
    try {
      const post = await runPostStep({ workspace, state: {} }, { inputs: inputs(emulator, { deactivate_at_job_end: true }) });
      expect(post.code, post.stdout).toBe(0);
      expect(emulator.requests).toEqual([]);
      expect(emulator.sessions()).toEqual([]);
    } finally {
      workspace.remove();
    }
  });
});

describe('2. a kill during a slow create', () => {
  test.concurrent(
    'SIGINT then SIGKILL while the create is in flight: the post step finds the run by listing and stops it',
    async ({ loops, step }) => {
      const emulator = await loops();
      // The server acts on the create 2.5 s after it arrives, whatever the client does meanwhile.
      emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'delay', when: 'late', delayMs: 2500 });
      const stepInputs = inputs(emulator, { wait_for: 'sampler', request_timeout_seconds: 3 });
      const main = await step({ inputs: stepInputs, ...signalOn('Created session', 'SIGINT', { after: 800, signal: 'SIGKILL' }) });
      expect(main.signal).toBe('SIGKILL');
      expect(main.state.run_id).toBeUndefined();
      // The post step starts before the server has made the run; it looks again once the request could have landed.
      const post = await runPostStep(main, { inputs: stepInputs });
      expect(post.code, post.stdout).toBe(0);
      expect(emulator.runs()).toHaveLength(1);
      expect(live(emulator)).toEqual([]);
      expect(post.stdout).toMatch(/Deactivated run \w+ because the main step ended before it finished \(deactivate_on_failure\)/);
    },
  );
});

describe('2b. a re-send, then a cancellation', () => {
  test.concurrent(
    "the abandoned request's run lands after the main step stopped its own: the post step finds and stops it",
    async ({ loops, step }) => {
      const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING' }] });
      // The first create is acted on 4 s after it arrives: one request timeout after the client gave
      // up, once the main step is gone. Its look at the runs (answered empty, as a lagging list
      // would) finds nothing: it re-sends. Then the runner cancels.
      emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'delay', when: 'late', delayMs: 4000 });
      emulator.fault({ method: 'GET', path: '/v1/loops/runs', kind: 'transform', transform: () => ({ runs: [] }) });
      const stepInputs = inputs(emulator, { wait_for: 'sampler', request_timeout_seconds: 2 });
      const main = await step({ inputs: stepInputs, ...signalOn('Created run', 'SIGINT') });
      expect(main.outputs.status).toBe('cancelled');
      expect(main.state.stopped).toBe('true');
      const post = await runPostStep(main, { inputs: stepInputs });
      expect(post.code, post.stdout).toBe(0);
      // The abandoned request's run exists by now (or within a few seconds): none may be left alive.
      for (let i = 0; i < 60 && emulator.runs().length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(emulator.runs()).toHaveLength(2);
      expect(live(emulator)).toEqual([]);
      expect(main.state.resent).toBe('true');
    },
  );
});

describe("3. reconciliation adopts only this step's own run", () => {
  const HOURS = 3 * 3600_000;

  test.concurrent(
    "the server's clock hours behind the runner's: the ambiguous create is found and adopted, not re-sent",
    async ({ loops, step }) => {
      const emulator = await loops({ now: () => Date.now() - HOURS });
      emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 500, when: 'after' });
      const result = await step({ inputs: inputs(emulator, { request_timeout_seconds: 2 }) });
      expect(result.code, result.stdout).toBe(0);
      expect(emulator.runs()).toHaveLength(1);
      expect(result.outputs.run_id).toBe(emulator.runs()[0]?.id);
      expect(requestsTo(emulator, 'POST', '/v1/loops/runs')).toHaveLength(1);
    },
  );

  test.concurrent(
    "the server's clock hours ahead: a re-run never adopts the earlier attempt's live run, nor stops its own",
    async ({ loops, step }) => {
      const emulator = await loops({ now: () => Date.now() + HOURS });
      const fixed = { run_name: 'nightly' };
      const first = await step({ inputs: inputs(emulator, fixed) });
      expect(first.outputs.status).toBe('launched');
      // A re-run comes later than the estimate's error (the Date header's second, and the slack).
      await new Promise((resolve) => setTimeout(resolve, 2500));
      emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 500, when: 'after' });
      const second = await step({ inputs: inputs(emulator, { ...fixed, session_id: first.outputs.session_id ?? '' }) });
      expect(second.code, second.stdout).toBe(0);
      expect(second.outputs.run_id).not.toBe(first.outputs.run_id);
      expect(
        live(emulator)
          .map((r) => r.id)
          .sort(),
      ).toEqual([first.outputs.run_id, second.outputs.run_id].sort());
      expect(deactivations(emulator)).toBe(0);
    },
  );

  test.concurrent('a slow answer before the create (its Date stamped late) does not make this step miss its own run', async ({ loops, step }) => {
    const emulator = await loops();
    const first = await step({ inputs: inputs(emulator) });
    const sessionId = first.outputs.session_id ?? '';
    // The session check answers 6 s late; the create is acted on at once but answered after the timeout.
    emulator.fault({ method: 'GET', path: `/v1/loops/sessions/${sessionId}`, kind: 'delay', when: 'after', delayMs: 6000 });
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'delay', when: 'after', delayMs: 10_000 });
    // adopt_on_rerun off: the first step's live run has this step's name, and this is about the create.
    const result = await step({
      inputs: inputs(emulator, { session_id: sessionId, request_timeout_seconds: 8, adopt_on_rerun: false }),
      timeoutMs: 40_000,
    });
    expect(result.code, result.stdout).toBe(0);
    expect(requestsTo(emulator, 'POST', '/v1/loops/runs')).toHaveLength(2); // the first step's, and this one's once
    expect(emulator.runs().filter((r) => r.session_id === sessionId)).toHaveLength(2);
    expect(result.stdout).toContain('adopting it instead of creating another');
  });

  test.concurrent(
    "a duplicate on the kept run's deployment is never deactivated (that would tear the kept run down)",
    async ({ loops, step }) => {
      const emulator = await loops();
      const earlier = await step({ inputs: inputs(emulator) });
      // With reuse, each create takes over the deployment: the first (acted on, its answer held
      // past the timeout) and then the re-send (the check before it saw no run: a lagging list).
      emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'delay', when: 'after', delayMs: 3000 });
      emulator.fault({ method: 'GET', path: '/v1/loops/runs', kind: 'transform', transform: () => ({ runs: [] }) });
      const result = await step({
        inputs: inputs(emulator, { reuse_from_run_id: earlier.outputs.run_id ?? '', request_timeout_seconds: 1, adopt_on_rerun: false }),
      });
      expect(result.code, result.stdout).toBe(0);
      expect(requestsTo(emulator, 'POST', '/v1/loops/runs')).toHaveLength(3);
      const kept = emulator.runs().find((r) => r.id === result.outputs.run_id);
      const duplicate = emulator.runs().find((r) => r.name === kept?.name && r.id !== kept?.id);
      expect(duplicate?.deployment_id).toBe(kept?.deployment_id);
      expect(duplicate?.status.name).toBe('INACTIVE');
      expect(kept?.status.name).toBe('ACTIVE');
      expect(deactivations(emulator)).toBe(0);
    },
  );

  test.concurrent("a re-run with a fixed run_name in a reused session: never the earlier attempt's dead run", async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'DEPLOY_FAILED' }] });
    const fixed = { run_name: 'nightly', wait_for: 'sampler' };
    const first = await step({ inputs: inputs(emulator, fixed) });
    expect(first.outputs.status).toBe('failed');
    expect(live(emulator)).toEqual([]);
    // Attempt 2, seconds later, in the same session: its create is acted on but the answer is lost.
    emulator.configure({ samplerTimeline: [{ status: 'DEPLOYING', ms: 50 }, { status: 'ACTIVE' }] });
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'status', status: 500, when: 'after' });
    const second = await step({ inputs: inputs(emulator, { ...fixed, session_id: first.outputs.session_id ?? '' }) });
    expect(second.code, second.stdout).toBe(0);
    expect(second.outputs.status).toBe('ready');
    expect(second.outputs.run_id).not.toBe(first.outputs.run_id);
    expect(live(emulator).map((r) => r.id)).toEqual([second.outputs.run_id]);
    expect(requestsTo(emulator, 'POST', '/v1/loops/runs')).toHaveLength(2);
    expect(deactivations(emulator, second.outputs.run_id)).toBe(0);
  });
});

describe('4. deactivation is idempotent: 404, 409 or INACTIVE mean "already stopped"', () => {
  for (const status of [409, 404]) {
    test.concurrent(`the post step at job end, answered ${status}: "already stopped", the job stays green`, async ({ loops, step }) => {
      const emulator = await loops();
      const stepInputs = inputs(emulator, { deactivate_at_job_end: true });
      const main = await step({ inputs: stepInputs });
      expect(main.code).toBe(0);
      emulator.fault({ method: 'POST', path: /\/deactivate$/, kind: 'status', status, body: { detail: 'Run is already inactive' } });
      const post = await runPostStep(main, { inputs: stepInputs });
      expect(post.code, post.stdout).toBe(0);
      expect(annotations(post.stdout)).toBe('');
      expect(post.stdout).toContain(`Run ${main.outputs.run_id} was already stopped`);
    });
  }

  test.concurrent('the post step finds the run already INACTIVE: no deactivate request, "already stopped"', async ({ loops, step }) => {
    const emulator = await loops();
    const stepInputs = inputs(emulator, { deactivate_at_job_end: true });
    const main = await step({ inputs: stepInputs });
    const runId = main.outputs.run_id ?? '';
    await deactivateDirectly(emulator, runId);
    const post = await runPostStep(main, { inputs: stepInputs });
    expect(post.code, post.stdout).toBe(0);
    expect(post.stdout).toContain(`Run ${runId} was already stopped`);
    expect(deactivations(emulator, runId)).toBe(1); // ours, above
  });

  test.concurrent('a wait that ends because the run became INACTIVE does not deactivate it again', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING' }] });
    let runId = '';
    const main = await step({
      inputs: inputs(emulator, { wait_for: 'sampler', wait_timeout_seconds: 20 }),
      onStdout: (text) => {
        const id = /Created run (\w+)/.exec(text)?.[1];
        if (id && !runId) {
          runId = id;
          void deactivateDirectly(emulator, id);
        }
      },
    });
    expect(main.outputs.status).toBe('failed');
    expect(annotations(main.stdout)).toMatch(/became INACTIVE.*The run was already stopped\./);
    expect(deactivations(emulator, runId)).toBe(1);
  });
});

describe('5. read-after-write lag', () => {
  test.concurrent(
    '404s on the first polls of the run the create just returned: waited out; the run is not deactivated',
    async ({ loops, step }) => {
      const emulator = await loops();
      emulator.fault({ method: 'GET', path: runPolls, kind: 'status', status: 404, body: { detail: 'Run not found' }, times: 3 });
      const result = await step({ inputs: inputs(emulator, { wait_for: 'sampler' }) });
      expect(result.code, result.stdout).toBe(0);
      expect(result.outputs.status).toBe('ready');
      expect(deactivations(emulator)).toBe(0);
      expect(result.stdout).toMatch(/is not visible yet .*answered 404.*waiting up to 30s after the create/);
    },
  );
});

describe('6. a sampler without a base URL yet', () => {
  const blank = (body: unknown): unknown => {
    const run = (body as { run: { sampler: { base_url: string } } }).run;
    run.sampler.base_url = '';
    return body;
  };

  test.concurrent('wait_for sampler: launched, then ready only once a poll brings the URL, which fills the output', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'ACTIVE' }] });
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'transform', transform: blank });
    emulator.fault({ method: 'GET', path: runPolls, kind: 'transform', transform: blank, times: 4 });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'sampler' }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.status).toBe('ready');
    expect(result.outputs.sampler_base_url).toBe(emulator.runs()[0]?.sampler?.base_url);
    expect(result.outputs.sampler_base_url).not.toBe('');
    expect(requestsTo(emulator, 'GET', runPolls).length).toBeGreaterThanOrEqual(5);
    expect(result.stdout).toContain('the API has not given its base URL yet');
  });

  test.concurrent('wait_for none: launched, with an empty sampler_base_url, not a failure', async ({ loops, step }) => {
    const emulator = await loops();
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'transform', transform: blank });
    const result = await step({ inputs: inputs(emulator) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'launched', sampler_base_url: '' });
    expect(live(emulator)).toHaveLength(1);
  });
});

describe('7. text from the server is never executed as a workflow command', () => {
  test.concurrent('a status and a run name carrying "::warning::" and "##[error]" print as text', async ({ loops, step }) => {
    const emulator = await loops({ samplerTimeline: [{ status: 'DEPLOYING', ms: 400 }, { status: 'ACTIVE' }] });
    const hostile = (body: unknown): unknown => {
      const run = (body as { run: { name: string; sampler: { status: { name: string } } } }).run;
      run.sampler.status.name = 'DEPLOYING\n::warning::injected by the server\n  ::error::again';
      run.name = 'legit ##[error]legacy injection';
      return body;
    };
    emulator.fault({ method: 'GET', path: runPolls, kind: 'transform', transform: hostile, times: 2 });
    emulator.fault({ method: 'POST', path: '/v1/loops/runs', kind: 'transform', transform: hostile });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'sampler' }) });
    expect(result.code, result.stdout).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.filter((l) => /^\s*::(warning|error)::/.test(l) && /injected|again/.test(l))).toEqual([]);
    expect(lines.filter((l) => l.includes('##[error]'))).toEqual([]);
    expect(result.stdout).toContain('injected by the server');
    expect(result.stdout).toContain('legacy injection');
  });
});

describe('7. a UTF-8 byte order mark before a JSON body is tolerated', () => {
  test.concurrent('every answer starts with a BOM: the step runs to ready', async ({ loops, step }) => {
    const emulator = await loops({ bom: true });
    const result = await step({ inputs: inputs(emulator, { wait_for: 'all' }) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.status).toBe('ready');
    expect(result.outputs.run_id).toBe(emulator.runs()[0]?.id);
  });
});

describe("11. optional fields equal to the API's defaults are left out of the create body", () => {
  const OLDER = ['session_id', 'base_model', 'name', 'lora_rank', 'max_seq_len', 'seed', 'scale_down_delay_seconds', 'path'];

  test.concurrent('an older server that rejects fields it does not know: the defaults work', async ({ loops, step }) => {
    const emulator = await loops({ createRunFields: OLDER });
    const result = await step({ inputs: inputs(emulator, { lora_rank: 16 }) });
    expect(result.code, result.stdout).toBe(0);
    expect(requestsTo(emulator, 'POST', '/v1/loops/runs')[0]?.body).toEqual({
      session_id: result.outputs.session_id,
      base_model: MODEL,
      name: result.outputs.run_name,
      lora_rank: 16,
    });
  });

  test.concurrent('a value the older server cannot take (spot) is sent, and its refusal names the field', async ({ loops, step }) => {
    const emulator = await loops({ createRunFields: OLDER });
    const result = await step({ inputs: inputs(emulator, { availability_model: 'spot' }) });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout)).toContain('availability_model: Extra inputs are not permitted');
    expect(emulator.runs()).toEqual([]);
  });
});

describe('9. the job summary shows every problem', () => {
  test.concurrent('preflight: each finding, with its did-you-mean', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({
      inputs: inputs(emulator, { base_model: 'Qwen/Qwen-3-8B', checkpoint_path: 'bt://loops:gone1/weights/step-1' }),
    });
    expect(result.code).toBe(1);
    expect(result.summary).toMatch(/<li>base_model: [^<]*Did you mean [^<]*Qwen\/Qwen3-8B[^<]*<\/li>/);
    expect(result.summary).toMatch(/<li>checkpoint_path: no checkpoint found at bt:\/\/loops:gone1\/weights\/step-1<\/li>/);
    expect(emulator.sessions()).toEqual([]);
  });

  test.concurrent('invalid inputs: each one, by name', async ({ loops, step }) => {
    const emulator = await loops();
    const result = await step({ inputs: inputs(emulator, { lora_rank: '0', wait_for: 'soon', seed: 'x' }) });
    expect(result.code).toBe(1);
    for (const name of ['lora_rank', 'wait_for', 'seed']) expect(result.summary).toMatch(new RegExp(`<li>${name}: `));
    expect(emulator.requests).toEqual([]);
  });
});

describe('10. run_name length is counted in characters, as the API counts it', () => {
  test.concurrent('200 rockets (400 UTF-16 units) are a valid name; 256 are not, and nothing is sent', async ({ loops, step }) => {
    const emulator = await loops();
    const ok = await step({ inputs: inputs(emulator, { run_name: '🚀'.repeat(200) }) });
    expect(ok.code, ok.stdout).toBe(0);
    expect(emulator.runs()[0]?.name).toBe('🚀'.repeat(200));
    const before = emulator.requests.length;
    const tooLong = await step({ inputs: inputs(emulator, { run_name: '🚀'.repeat(256) }) });
    expect(tooLong.code).toBe(1);
    expect(annotations(tooLong.stdout)).toContain('run_name: must be 1 to 255 printable characters (got 256 characters)');
    expect(emulator.requests.length).toBe(before);
  });
});
