import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { AccountRuntimeValue } from "@nomicfoundation/ignition-core";

import { type OracleCoreDefaults, buildOracleCore } from "../core.ts";

/** Short durations for tests and local demos (seconds, not days). */
export const DEV_DEFAULTS: OracleCoreDefaults = {
  callbackGasPrice: 1_000_000_000n,
  minCallbackGasPrice: 10_000_000n,
  maxCallbackGasPrice: 1_000_000_000_000n,
  protocolFee: 1_000_000_000_000_000n,
  maxProtocolFee: 10n ** 18n,
  maxCallbackGasLimit: 5_000_000n,
  requestTimeout: 3_600n,
  minStake: 100n * 10n ** 18n,
  unbondingPeriod: 7n * 86_400n,
  jailPeriod: 3n * 86_400n,
  winnerShareBps: 5_000,
  requesterShareBps: 2_000,
  challengeWindow: 3_600n,
  claimBond: 10n * 10n ** 18n,
  maxOutputBytes: 4_096,
};

/**
 * TEST AND DEV ONLY. The production wiring of {@link buildOracleCore} around two mocks: a freshly deployed
 * MockStakeToken (open minting) and the ToyDisputeGameFactory, whose games are decided by `referee`
 * (parameter, default account 0). The deployer (account 0) stays the owner. Parameters under `OracleDev`:
 * `referee`, `treasury` and the numbers of {@link DEV_DEFAULTS}.
 */
export const OracleDevModule = buildModule("OracleDev", (m) => {
  const stakeToken = m.contract("MockStakeToken", [], { from: m.getAccount(0) });
  const referee = m.getParameter<string | AccountRuntimeValue>("referee", m.getAccount(0));
  const disputeGameFactory = m.contract("ToyDisputeGameFactory", [referee], { from: m.getAccount(0) });
  const { wiring: _, ...core } = buildOracleCore(m, { stakeToken, disputeGameFactory }, DEV_DEFAULTS);
  return { ...core, stakeToken, disputeGameFactory };
});

export default OracleDevModule;
