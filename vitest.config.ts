import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // TypeScript tests only: Hardhat's Solidity tests live in test/solidity.
    include: ["test/**/*.test.ts", "keeper/**/*.test.ts", "sdk/**/*.test.ts", "subgraph/tests/runner/**/*.test.ts", "subgraph/tools/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    passWithNoTests: true,
  },
});
