import { defineConfig } from "vitest/config";

// The end-to-end tier: the real Pulumi engine (scripts/engine) on the sample stacks in render
// mode with a file backend, each test file in its own temporary copy of the project.
//   npx vitest run -c vitest.e2e.config.mts
// Without the engine every test fails at once saying how to build it (bash
// scripts/engine/bootstrap.sh); E2E_SKIP_COLD=1 skips the tier instead, loudly.
export default defineConfig({
  test: {
    include: ["tests/e2e/**/*.test.ts"],
    pool: "forks",
    // One file at a time: pulumi, its language host and the provider are CPU heavy (two cores).
    fileParallelism: false,
    maxWorkers: 1,
    // Each test may run several previews (~5-10 s each); every child process has its own
    // timeout below these, so nothing hangs until vitest gives up.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
  },
});
