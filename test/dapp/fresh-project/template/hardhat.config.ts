// A dapp's Hardhat 3 config (docs/dapp-guide.md §0). MockAIOracle is built from @oao/contracts for the tests.
import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
import hardhatViem from "@nomicfoundation/hardhat-viem";

// solc from the npm `solc` package (solcjs), so nothing is downloaded at build time; drop `path` to let Hardhat
// download the native compiler instead.
const require = createRequire(import.meta.url);

export default defineConfig({
  plugins: [hardhatViem],
  networks: {
    // `npx oao devnet` (docs/dapp-guide.md §3); its dev accounts are unlocked.
    devnet: { type: "http", chainType: "l1", url: process.env.OAO_DEVNET_RPC ?? "http://127.0.0.1:8545" },
  },
  solidity: {
    npmFilesToBuild: ["@oao/contracts/src/mocks/MockAIOracle.sol"],
    profiles: {
      default: {
        version: require("solc/package.json").version,
        path: require.resolve("solc/soljson.js"),
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
      },
    },
  },
});
