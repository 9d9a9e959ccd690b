// Text for people (src/core/text.ts): long durations, as the stop action's summary shows them.

import { describe, expect, it } from 'vitest';
import { formatDuration } from '../src/core/text.js';

describe('formatDuration', () => {
  it.each([
    [-5_000, '0s'],
    [999, '0s'],
    [45_000, '45s'],
    [60_000, '1m 00s'],
    [12 * 60_000 + 3_000, '12m 03s'],
    [3_600_000 + 5 * 60_000 + 59_999, '1h 05m'],
    [23 * 3_600_000 + 59 * 60_000, '23h 59m'],
    [2 * 86_400_000 + 3 * 3_600_000, '2d 03h'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
