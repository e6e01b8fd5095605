import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * The fraud-proof VM: the preimage oracle and the MIPS one-step verifier reading it (docs/protocol.md §4).
 * Both are stateless production contracts with no owner; the dispute game calls `MIPS.step`.
 */
export const OracleVMModule = buildModule("OracleVM", (m) => {
  const preimageOracle = m.contract("PreimageOracle", [], { from: m.getAccount(0) });
  const mips = m.contract("MIPS", [preimageOracle], { from: m.getAccount(0) });
  return { preimageOracle, mips };
});

export default OracleVMModule;
