// The sampler's side of "ready" (src/sampler.ts): where the key may go, and which /v1/models
// entry is the model to call.

import { describe, expect, it } from 'vitest';
import { ShapeError } from '../src/core/errors.js';
import { baseModelOf, keyMayGo, registrableDomain } from '../src/sampler.js';

describe('registrableDomain', () => {
  it('keeps the last two labels, three under a country code second level, and IPs whole', () => {
    expect(registrableDomain('api.baseten.co')).toBe('baseten.co');
    expect(registrableDomain('model-abc123.api.baseten.co')).toBe('baseten.co');
    expect(registrableDomain('Model-X.API.Baseten.CO.')).toBe('baseten.co');
    expect(registrableDomain('api.example.co.uk')).toBe('example.co.uk');
    expect(registrableDomain('localhost')).toBe('localhost');
    expect(registrableDomain('127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('keyMayGo', () => {
  const api = 'https://api.baseten.co';

  it('allows https on the API’s own registrable domain, and http to loopback', () => {
    for (const url of [
      'https://model-x.api.baseten.co/environments/loops/sync',
      'https://baseten.co/s',
      'http://127.0.0.1:9999/sampler/x',
      'http://localhost/s',
      'http://[::1]:80/s',
    ]) {
      expect(keyMayGo(url, api), url).toEqual({ ok: true });
    }
  });

  it('refuses every other place, saying why', () => {
    const cases: Array<[string, RegExp]> = [
      ['https://model-x.baseten.co.evil.example/s', /not on the API's own domain \(baseten\.co\)/],
      ['https://notbaseten.co/s', /not on the API's own domain/],
      ['http://model-x.api.baseten.co/s', /not served over https/],
      ['https://user:pw@model-x.api.baseten.co/s', /carries credentials/],
      ['', /not a URL/],
      ['model-x.api.baseten.co', /not a URL/],
    ];
    for (const [url, why] of cases) {
      const verdict = keyMayGo(url, api);
      expect(verdict.ok, url).toBe(false);
      if (!verdict.ok) expect(verdict.why).toMatch(why);
    }
  });
});

describe('baseModelOf', () => {
  it('is the entry without a parent, wherever it is in the list', () => {
    const list = {
      object: 'list',
      data: [
        { id: 'step-100', parent: 'Qwen/Qwen3-8B' },
        { id: 'Qwen/Qwen3-8B', parent: null },
      ],
    };
    expect(baseModelOf(list)).toBe('Qwen/Qwen3-8B');
    expect(baseModelOf({ data: [{ id: 'm' }] })).toBe('m');
  });

  it('refuses what is not a models list, or one with no base model', () => {
    for (const body of [{}, { data: [] }, { data: 'x' }, [], null, 'models']) expect(() => baseModelOf(body)).toThrow(ShapeError);
    expect(() => baseModelOf({ data: [{ id: 'a', parent: 'b' }] })).toThrow(/no base model/);
  });
});
