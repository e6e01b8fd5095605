import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
import hardhatToolboxViem from "@nomicfoundation/hardhat-toolbox-viem";

// solc comes from the npm `solc` package (solcjs): nothing is downloaded at build time.
const require = createRequire(import.meta.url);
const soljson = require.resolve("solc/soljson.js");
const solcVersion: string = require("solc/package.json").version;

const compiler = {
  version: solcVersion,
  path: soljson,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
  },
};

export default defineConfig({
  plugins: [hardhatToolboxViem],
  solidity: {
    // Production governance (ignition/modules/OracleCore.ts) deploys OpenZeppelin's timelock as it is.
    npmFilesToBuild: ["@openzeppelin/contracts/governance/TimelockController.sol"],
    profiles: {
      default: compiler,
      // `hardhat ignition deploy` builds with the production profile. Hardhat's default production profile is
      // `isolated` (one compilation per file), whose build infos for files without contracts (lib/Types.sol,
      // lib/Errors.sol) have no `contracts` field, and the in-process chain of `oao demo`/`oao devnet` then fails
      // with `Failed to parse build info: missing field 'contracts'`. Production compiles like default, so the
      // bytecode deployed is the bytecode tested (test/keeper/artifacts-robust.test.ts).
      production: { ...compiler, isolated: false },
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
