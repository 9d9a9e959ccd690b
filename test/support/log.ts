// A Log for unit tests that want no lines.

import type { Log } from '../../src/core/log.js';

export const silentLog: Log = { info: () => {}, warning: () => {}, error: () => {}, debug: () => {} };
