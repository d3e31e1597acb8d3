import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // The engine and cluster tiers have their own configs (npm run test:e2e, test:cluster).
    exclude: ["tests/e2e/**", "tests/cluster/**", "**/node_modules/**"],
    // Pulumi mocks are process-global: files that register resources run in their own worker
    // (the default "forks" pool isolates each file), so one file's mocks never leak into another.
    pool: "forks",
    testTimeout: 20_000,
  },
});
