import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { buildOracleCore } from "../core.ts";
import { OracleVMModule } from "../OracleVM.ts";
import { GAME_DEFAULTS } from "../OracleCore.ts";
import { DEV_DEFAULTS } from "./OracleDev.ts";

/**
 * LOCAL CHAINS ONLY (`oao demo`, `oao devnet`, `oao dispute simulate`): the production wiring with the
 * REAL dispute game (DisputeGameFactory over the MIPS verifier), around a freshly deployed MockStakeToken
 * (open minting) so local operators can stake. Short durations (DEV_DEFAULTS); the game parameters are
 * those of production unless overridden (`clockDuration`, `graphWidthBits`, `vmWidthBits`, `vmTraceDepth`
 * under `OracleLocal`). The deployer (account 0) stays the owner.
 */
export const OracleLocalModule = buildModule("OracleLocal", (m) => {
  const deployer = m.getAccount(0);
  const { mips } = m.useModule(OracleVMModule);
  const stakeToken = m.contract("MockStakeToken", [], { from: deployer });
  const disputeGameFactory = m.contract(
    "DisputeGameFactory",
    [
      mips,
      m.getParameter("clockDuration", 3_600n),
      m.getParameter("graphWidthBits", GAME_DEFAULTS.graphWidthBits),
      m.getParameter("vmWidthBits", GAME_DEFAULTS.vmWidthBits),
      m.getParameter("vmTraceDepth", 21),
    ],
    { from: deployer },
  );
  const { wiring: _, ...core } = buildOracleCore(m, { stakeToken, disputeGameFactory }, DEV_DEFAULTS);
  m.call(disputeGameFactory, "bindTaskManager", [core.taskManager], { from: deployer });
  return { ...core, stakeToken, disputeGameFactory };
});

export default OracleLocalModule;
