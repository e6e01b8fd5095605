import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
import hardhatToolboxViem from "@nomicfoundation/hardhat-toolbox-viem";

// solc comes from the npm `solc` package (solcjs): nothing is downloaded at build time.
const require = createRequire(import.meta.url);
const soljson = require.resolve("solc/soljson.js");
const solcVersion: string = require("solc/package.json").version;

export default defineConfig({
  plugins: [hardhatToolboxViem],
  solidity: {
    // Production governance (ignition/modules/OracleCore.ts) deploys OpenZeppelin's timelock as it is.
    npmFilesToBuild: ["@openzeppelin/contracts/governance/TimelockController.sol"],
    profiles: {
      default: {
        version: solcVersion,
        path: soljson,
        settings: {
          optimizer: { enabled: true, runs: 200 },
          evmVersion: "cancun",
        },
      },
    },
  },
  paths: {
    sources: "./contracts",
    tests: {
      solidity: "./test/solidity",
      nodejs: "./test/node",
    },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    // Any JSON-RPC node (`oao demo --rpc URL`, `oao devnet`): the URL comes from OAO_RPC_URL.
    external: { type: "http", chainType: "l1", url: process.env.OAO_RPC_URL ?? "http://127.0.0.1:8545" },
  },
});
