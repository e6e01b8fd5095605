import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // TypeScript tests only: Hardhat's Solidity tests live in test/solidity.
    include: ["test/**/*.test.ts", "keeper/**/*.test.ts", "sdk/**/*.test.ts", "subgraph/tests/runner/**/*.test.ts", "subgraph/tools/**/*.test.ts", "subgraph/indexer/**/*.test.ts"],
    // A fresh dapp project's own test (node --test), run by test/dapp/fresh-project.test.ts in a temporary directory.
    exclude: [...configDefaults.exclude, "test/dapp/fresh-project/template/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    passWithNoTests: true,
  },
});
