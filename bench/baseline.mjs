// The floor for "time to outputs": a minimal raw node:http client that does what the action
// does on the happy path with wait_for none and preflight on — GET capabilities, GET the runs (a
// live run of this leg and commit would be adopted), POST a session, POST a run with the same body
// fields, GET the runs again (a concurrent twin) — and writes the same outputs to $GITHUB_OUTPUT in the
// runner's name<<delimiter format. No dependencies, no retries, no job summary, no checks
// beyond "the model is listed". Run it exactly like the bundle: `node bench/baseline.mjs`
// with the runner's INPUT_* / GITHUB_* environment.

// Built-ins are loaded with require, as the ncc bundle does: on Node 22+ an ESM `import` of
// node:http reads its lazy WebSocket getter, which loads Node's internal undici (+~80 ms and
// +~14 MiB RSS on Node 24), and the floor would not be a floor.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { appendFileSync } = require('node:fs');
const { randomUUID } = require('node:crypto');
const { EOL } = require('node:os');
const process = require('node:process');
const { URL } = require('node:url');
const http = require('node:http');

const env = process.env;
const input = (name, fallback = '') => (env[`INPUT_${name.toUpperCase()}`] ?? '').trim() || fallback;
const optionalInt = (name) => (input(name) ? Number(input(name)) : undefined);

const apiKey = input('api_key', (env.BASETEN_API_KEY ?? '').trim());
const baseUrl = input('api_base_url', 'https://api.baseten.co').replace(/\/+$/, '');
const baseModel = input('base_model');
const preflight = input('preflight', 'true').toLowerCase() === 'true';
if (apiKey) process.stdout.write(`::add-mask::${apiKey}${EOL}`);

function setOutputs(values) {
  let text = '';
  for (const [name, value] of Object.entries(values)) {
    const delimiter = `ghadelimiter_${randomUUID()}`;
    text += `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`;
  }
  appendFileSync(env.GITHUB_OUTPUT, text);
}

// node:https is loaded only for an https API root (the emulator is http).
const lib = new URL(baseUrl).protocol === 'https:' ? require('node:https') : http;
const agent = new lib.Agent({ keepAlive: true });

function request(method, path, body) {
  const url = new URL(baseUrl + path);
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers = { accept: 'application/json', authorization: `Bearer ${apiKey}` };
  if (data !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        if (res.statusCode < 200 || res.statusCode >= 300) reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text}`));
        else resolve(JSON.parse(text));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

function defaultRunName() {
  const repo = (env.GITHUB_REPOSITORY ?? '').split('/').pop() || 'run';
  const ref = (env.GITHUB_REF ?? '').replace(/^refs\/(heads|tags)\//, '').replace(/[^A-Za-z0-9._-]+/g, '-');
  const sha = (env.GITHUB_SHA ?? '').slice(0, 7);
  const suffix = Math.random().toString(36).slice(2, 7).padEnd(5, '0');
  return [repo, ref, sha, suffix].filter(Boolean).join('-');
}

let status = 'error';
const runName = input('run_name') || defaultRunName();
setOutputs({ run_name: runName, base_model: baseModel, adopted: 'false', reused_from_run_id: '', superseded_run_ids: '', sampler_model: '' });
try {
  if (preflight) {
    const { supported_models: models } = await request('GET', '/v1/loops/capabilities');
    if (!models.some((m) => m.model_name === baseModel)) throw new Error(`base_model ${baseModel} is not supported`);
  }
  // One run per leg and commit: the look before the create (nothing to adopt on this path).
  await request('GET', '/v1/loops/runs');
  const sessionBody = input('training_project_id') ? { training_project_id: input('training_project_id') } : {};
  const { session } = await request('POST', '/v1/loops/sessions', sessionBody);
  setOutputs({ session_id: session.id, session_created: 'true' });

  // As the action: fields equal to the API's own defaults are left out.
  const unlessDefault = (value, fallback) => (value === fallback ? undefined : value);
  const body = {
    session_id: session.id,
    base_model: baseModel,
    name: runName,
    lora_rank: unlessDefault(Number(input('lora_rank', '64')), 64),
    scale_down_delay_seconds: unlessDefault(Number(input('scale_down_delay_seconds', '3600')), 3600),
    availability_model: unlessDefault(input('availability_model', 'dedicated'), 'dedicated'),
    replicas: unlessDefault(Number(input('replicas', '1')), 1),
    max_seq_len: optionalInt('max_seq_len'),
    seed: optionalInt('seed'),
    path: input('checkpoint_path') || undefined,
    reuse_from_run_id: input('reuse_from_run_id') || undefined,
    reuse_from_session_id: input('reuse_from_session_id') || undefined,
  };
  const { run } = await request('POST', '/v1/loops/runs', body);
  // And the look after it, for a run of this leg and commit another workflow run made meanwhile.
  await request('GET', '/v1/loops/runs');
  status = 'launched';
  setOutputs({
    run_id: run.id,
    run_base_url: run.base_url,
    sampler_id: run.sampler?.id ?? '',
    sampler_base_url: run.sampler?.base_url ?? '',
    openai_base_url: run.sampler?.base_url ? `${run.sampler.base_url.replace(/\/+$/, '')}/v1` : '',
    sampler_deployment_id: run.sampler?.deployment_id ?? '',
    sampler_model_id: run.sampler?.model_id ?? '',
    sampler_status: run.sampler?.status?.name ?? '',
    trainer_status: '',
    deployment_id: run.deployment_id ?? '',
    created_at: run.created_at,
    run_json: JSON.stringify(run),
    // The mode the answer shows, as the action reads it (src/modes.ts detectMode).
    mode: run.deployment_id || run.sampler?.model_id || run.sampler?.deployment_id ? 'dedicated' : run.sampler ? 'serverless' : 'unknown',
  });
  process.stdout.write(`Created run ${run.id} (${run.name}); sampler ${run.sampler?.base_url ?? '(none yet)'}${EOL}`);
} catch (error) {
  process.stdout.write(`::error::${error.message}${EOL}`);
  process.exitCode = 1;
} finally {
  setOutputs({ status, failure_reason: status === 'launched' ? '' : 'unknown' });
  agent.destroy();
}
