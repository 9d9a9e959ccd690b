import { describe, expect, it } from 'vitest';
import { DEFAULTS, MISSING_KEY_MESSAGE, type Settings, isLoopbackHost, parseInputs } from '../src/inputs.js';

const reader = (values: Record<string, string>) => (name: string) => values[name] ?? '';

function ok(values: Record<string, string>, env: Record<string, string> = {}): Settings {
  const result = parseInputs(reader({ api_key: 'k', base_model: 'Qwen/Qwen3-8B', ...values }), env);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.settings;
}

function errors(values: Record<string, string>, env: Record<string, string> = {}): string[] {
  const result = parseInputs(reader({ api_key: 'k', base_model: 'Qwen/Qwen3-8B', ...values }), env);
  if (result.ok) throw new Error('expected errors');
  return result.errors;
}

describe('parseInputs', () => {
  it('applies the action.yml defaults when inputs are empty', () => {
    const s = ok({});
    expect(s).toMatchObject({
      apiBaseUrl: 'https://api.baseten.co',
      loraRank: 64,
      scaleDownDelaySeconds: 3600,
      availabilityModel: 'dedicated',
      replicas: 1,
      waitFor: 'sampler',
      waitTimeoutSeconds: 1800,
      pollIntervalSeconds: 10,
      preflight: true,
      deactivateOnFailure: true,
      deactivateAtJobEnd: false,
      commentOnPr: false,
      dryRun: false,
      maxRetries: 4,
      requestTimeoutSeconds: 30,
    });
    expect(s.sessionId).toBeUndefined();
    expect(s.maxSeqLen).toBeUndefined();
    expect(s.seed).toBeUndefined();
    expect(s.runName).toBeUndefined();
  });

  it('reads every input into the typed settings', () => {
    const s = ok({
      api_base_url: 'http://127.0.0.1:8080/',
      session_id: 'sess123',
      training_project_id: 'tp1',
      run_name: 'my run',
      lora_rank: '16',
      max_seq_len: '4096',
      seed: '-7',
      scale_down_delay_seconds: '60',
      checkpoint_path: 'bt://loops:k4q95w5/weights/step-100',
      reuse_from_run_id: 'r1',
      reuse_from_session_id: 's0',
      availability_model: 'spot',
      replicas: '2',
      wait_for: 'all',
      wait_timeout_seconds: '60',
      poll_interval_seconds: '0.5',
      preflight: 'false',
      deactivate_on_failure: 'False',
      deactivate_at_job_end: 'TRUE',
      comment_on_pr: 'true',
      github_token: 'ghs_x',
      dry_run: 'false',
      max_retries: '0',
      request_timeout_seconds: '2.5',
    });
    expect(s).toMatchObject({
      apiBaseUrl: 'http://127.0.0.1:8080',
      sessionId: 'sess123',
      trainingProjectId: 'tp1',
      runName: 'my run',
      loraRank: 16,
      maxSeqLen: 4096,
      seed: -7,
      scaleDownDelaySeconds: 60,
      checkpointPath: 'bt://loops:k4q95w5/weights/step-100',
      reuseFromRunId: 'r1',
      reuseFromSessionId: 's0',
      availabilityModel: 'spot',
      replicas: 2,
      waitFor: 'all',
      waitTimeoutSeconds: 60,
      pollIntervalSeconds: 0.5,
      preflight: false,
      deactivateOnFailure: false,
      deactivateAtJobEnd: true,
      commentOnPr: true,
      githubToken: 'ghs_x',
      maxRetries: 0,
      requestTimeoutSeconds: 2.5,
    });
  });

  it('takes the key from BASETEN_API_KEY when api_key is empty, the input winning otherwise', () => {
    const fromEnv = parseInputs(reader({ base_model: 'Qwen/Qwen3-8B' }), { BASETEN_API_KEY: 'env-key' });
    expect(fromEnv.ok && fromEnv.settings.apiKey).toBe('env-key');
    const fromInput = parseInputs(reader({ base_model: 'Qwen/Qwen3-8B', api_key: 'input-key' }), { BASETEN_API_KEY: 'env-key' });
    expect(fromInput.ok && fromInput.settings.apiKey).toBe('input-key');
  });

  it('explains forks and Dependabot when the key is missing', () => {
    const result = parseInputs(reader({ base_model: 'Qwen/Qwen3-8B' }), {});
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([MISSING_KEY_MESSAGE]);
    expect(MISSING_KEY_MESSAGE).toMatch(/forks/);
    expect(MISSING_KEY_MESSAGE).toMatch(/Dependabot/);
  });

  it('needs no key in a dry run', () => {
    const result = parseInputs(reader({ base_model: 'Qwen/Qwen3-8B', dry_run: 'true' }), {});
    expect(result.ok && result.settings.apiKey).toBe('');
  });

  it('reports every problem at once, each naming its input', () => {
    const list = errors({ lora_rank: '0', seed: '1.5', wait_for: 'soon', replicas: 'two', base_model: '' });
    expect(list).toHaveLength(5);
    for (const name of ['lora_rank', 'seed', 'wait_for', 'replicas', 'base_model']) {
      expect(list.some((e) => e.startsWith(`${name}:`))).toBe(true);
    }
  });

  it('never echoes the key in an error', () => {
    expect(errors({ api_key: 'sk-key’' })[0]).toMatch(/^api_key: contains .*non-ASCII/);
    const list = errors({ api_key: 'sk bad\nkey', lora_rank: 'x' });
    expect(list.join('\n')).not.toContain('sk bad');
    expect(list[0]).toMatch(/^api_key:/);
  });

  it('refuses plain http except on loopback hosts', () => {
    expect(errors({ api_base_url: 'http://api.baseten.co' })[0]).toMatch(/^api_base_url: must use https/);
    expect(errors({ api_base_url: 'ftp://127.0.0.1' })[0]).toMatch(/^api_base_url:/);
    expect(errors({ api_base_url: 'not a url' })[0]).toMatch(/^api_base_url: not a valid URL/);
    expect(errors({ api_base_url: 'https://api.baseten.co/?' })[0]).toMatch(/^api_base_url: must not contain a query/);
    expect(errors({ api_base_url: 'https://api.baseten.co#' })[0]).toMatch(/^api_base_url: must not contain a query/);
    expect(errors({ api_base_url: 'http://evil.localhost:8080' })[0]).toMatch(/^api_base_url: must use https/);
    expect(ok({ api_base_url: 'http://localhost:1234' }).apiBaseUrl).toBe('http://localhost:1234');
    expect(ok({ api_base_url: 'http://[::1]:1234' }).apiBaseUrl).toBe('http://[::1]:1234');
    expect(ok({ api_base_url: 'https://proxy.example.com/baseten/' }).apiBaseUrl).toBe('https://proxy.example.com/baseten');
  });

  it('knows the loopback hosts', () => {
    for (const host of ['localhost', '127.0.0.1', '127.5.6.7', '[::1]', '::1']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['10.0.0.1', '127.example.com', 'localhost.example.com', '0.0.0.0', 'evil.localhost'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('hints when a sampler checkpoint is given', () => {
    expect(errors({ checkpoint_path: 'bt://loops:abc/sampler_weights/step-1' })[0]).toMatch(/sampler checkpoint/);
  });

  it('checks the numeric ranges at their edges', () => {
    expect(ok({ scale_down_delay_seconds: '1' }).scaleDownDelaySeconds).toBe(1);
    expect(ok({ scale_down_delay_seconds: '3600' }).scaleDownDelaySeconds).toBe(3600);
    expect(errors({ scale_down_delay_seconds: '3601' })[0]).toMatch(/^scale_down_delay_seconds: .*from 1 to 3600/);
    expect(ok({ wait_timeout_seconds: '21600' }).waitTimeoutSeconds).toBe(21600);
    expect(errors({ wait_timeout_seconds: '21601' })[0]).toMatch(/^wait_timeout_seconds:/);
    expect(ok({ poll_interval_seconds: '0.1' }).pollIntervalSeconds).toBe(0.1);
    expect(errors({ poll_interval_seconds: '0.09' })[0]).toMatch(/^poll_interval_seconds:/);
  });

  it('warns about inputs that will be ignored or are deprecated', () => {
    const result = parseInputs(
      reader({ api_key: 'k', base_model: 'Qwen/Qwen3-8B', session_id: 's', training_project_id: 't', reuse_from_session_id: 'x' }),
      {},
    );
    expect(result.warnings.join('\n')).toMatch(/training_project_id is ignored/);
    expect(result.warnings.join('\n')).toMatch(/reuse_from_session_id is deprecated/);
  });

  it('show_logs: on_failure by default, always or never (any case); anything else names the input', () => {
    expect(ok({}).showLogs).toBe('on_failure');
    expect(ok({ show_logs: 'Always' }).showLogs).toBe('always');
    expect(ok({ show_logs: 'never' }).showLogs).toBe('never');
    expect(errors({ show_logs: 'on-failure' })).toEqual(['show_logs: must be one of on_failure, always, never (got "on-failure")']);
  });

  it('declares the same defaults as action.yml', async () => {
    const { readActionYml } = await import('./support/runner.js');
    const yml = readActionYml();
    for (const [name, value] of Object.entries(DEFAULTS)) expect(yml.inputs[name]?.default, name).toBe(value);
  });
});
