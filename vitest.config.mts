import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Pulumi mocks are process-global: files that register resources run in their own worker
    // (the default "forks" pool isolates each file), so one file's mocks never leak into another.
    pool: "forks",
    testTimeout: 20_000,
  },
});
