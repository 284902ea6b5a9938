import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Docker-, git- and pre-commit-backed suites start real processes; keep the 2-core machine responsive.
    maxWorkers: 2,
  },
});
