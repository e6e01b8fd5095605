import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { AccountRuntimeValue } from "@nomicfoundation/ignition-core";

import { PRODUCTION_DEFAULTS, buildOracleCore, transferCoreOwnership } from "./core.ts";

/**
 * The production deployment: the whole core wired to an existing stake token and an existing dispute game
 * factory, then handed over to `owner` (two-step: `owner` calls `acceptOwnership()` on AIOracle, Staking and
 * TaskManager). Parameters (module id `OracleCore`), see ignition/README.md:
 * - `stakeToken` (required): address of the ERC20 operators stake;
 * - `disputeGameFactory` (required): address of an IDisputeGameFactory;
 * - `treasury` (default account 0), `owner` (default account 0);
 * - the numbers of {@link PRODUCTION_DEFAULTS}.
 */
export const OracleCoreModule = buildModule("OracleCore", (m) => {
  const core = buildOracleCore(
    m,
    { stakeToken: m.getParameter<string>("stakeToken"), disputeGameFactory: m.getParameter<string>("disputeGameFactory") },
    PRODUCTION_DEFAULTS,
  );
  transferCoreOwnership(m, core, m.getParameter<string | AccountRuntimeValue>("owner", m.getAccount(0)));
  return core;
});

export default OracleCoreModule;
