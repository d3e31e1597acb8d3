import { defineConfig } from "vitest/config";

// Tests against a real control plane (scripts/cluster): npx vitest run -c vitest.cluster.config.mts
// They skip, saying why, until `bash scripts/cluster/build.sh` has built the binaries.
export default defineConfig({
  test: {
    include: ["tests/cluster/**/*.test.ts"],
    pool: "forks",
    // One control plane at a time: each is five processes, and the machine has two cores.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
