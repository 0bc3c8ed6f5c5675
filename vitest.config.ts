import { defineConfig } from 'vitest/config';

// Three tiers: unit (pure functions, table-driven), conformance (every provider
// passes the same suite; lives with the unit tier), e2e (the built CLI against a
// real Docker daemon and a real Secret Service). `npm test` runs all of them;
// without a daemon, outside CI, the e2e tier prints one line and skips.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One file at a time: the machine has 2 cores and builds contend.
          fileParallelism: false,
          globalSetup: ['test/e2e/global-setup.ts'],
        },
      },
    ],
  },
});
