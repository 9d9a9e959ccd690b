import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Rebuilds dist/ first when it is older than src/ (the end-to-end tests run dist/).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The tests mostly wait on child processes and servers on 127.0.0.1, not the CPU: on a 2-core
    // machine two workers (vitest's default there is one) take the suite from about 6 to 4 minutes.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
