import { defineConfig } from 'vitest/config';

// Four tiers, one project each (README "Run the tests"):
// - unit: pure functions, table-driven; no process, no daemon.
// - conformance: the suite every provider in providers/index.ts passes; its
//   keychain fixture uses a real Secret Service when there is one.
// - cli: the built CLI without a daemon or a docker binary: check, --dry-run,
//   `secrets`, usage errors, and the docker stand-in's argv and files.
// - e2e: the built CLI against a real Docker daemon and a real Secret Service.
//   Without a daemon, outside CI, it prints one line and skips; in CI it fails.
// `npm test` runs all four; e2e starts after the others have finished.
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
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          environment: 'node',
          // The store fixtures run real CLIs (aws: about 1 s per call, Python start-up).
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'cli',
          include: ['test/cli/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          globalSetup: ['test/cli/global-setup.ts'],
          provide: { tier: 'cli' },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One file at a time, after the other tiers: the machine has 2 cores and builds contend.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          globalSetup: ['test/e2e/global-setup.ts'],
          provide: { tier: 'e2e' },
        },
      },
    ],
  },
});
