import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { AccountRuntimeValue } from "@nomicfoundation/ignition-core";

import { PRODUCTION_DEFAULTS, buildOracleCore, transferCoreOwnership } from "./core.ts";
import { OracleVMModule } from "./OracleVM.ts";

/** Defaults of the dispute game (docs/protocol.md §5): seconds per side, round widths, VM trace depth. */
export const GAME_DEFAULTS = {
  /** Each side's chess clock for a whole game. */
  clockDuration: 3n * 86_400n,
  /** Phase-2 rounds split the range at up to 2^bits - 1 points. */
  graphWidthBits: 2,
  /** Phase-1 rounds split the range at up to 2^bits - 1 points. */
  vmWidthBits: 4,
  /**
   * Phase 1 covers 2^depth guest steps (docs/protocol.md §5.4): 2^32 holds GPT-2 small's largest node (1.62·10^9
   * steps); a node that does not fit ends its game undecided (the request is refunded), and keepers refuse to
   * serve such a model. An honest keeper runs T steps of the VM (about a minute) to know the state at T.
   */
  vmTraceDepth: 32,
} as const;

/**
 * The production deployment: the whole core wired to an existing stake token and to the real dispute game
 * (DisputeGameFactory over the MIPS verifier, bound to this task manager), then handed over to `owner`
 * (two-step: `owner` calls `acceptOwnership()` on AIOracle, Staking and TaskManager). Parameters (module id
 * `OracleCore`), see ignition/README.md:
 * - `stakeToken` (required): address of the ERC20 operators stake;
 * - `treasury` (default account 0), `owner` (default account 0);
 * - the numbers of {@link PRODUCTION_DEFAULTS} and {@link GAME_DEFAULTS}.
 */
export const OracleCoreModule = buildModule("OracleCore", (m) => {
  const deployer = m.getAccount(0);
  const { mips } = m.useModule(OracleVMModule);
  const disputeGameFactory = m.contract(
    "DisputeGameFactory",
    [
      mips,
      m.getParameter("clockDuration", GAME_DEFAULTS.clockDuration),
      m.getParameter("graphWidthBits", GAME_DEFAULTS.graphWidthBits),
      m.getParameter("vmWidthBits", GAME_DEFAULTS.vmWidthBits),
      m.getParameter("vmTraceDepth", GAME_DEFAULTS.vmTraceDepth),
    ],
    { from: deployer },
  );
  const core = buildOracleCore(m, { stakeToken: m.getParameter<string>("stakeToken"), disputeGameFactory }, PRODUCTION_DEFAULTS);
  // Only this task manager may open games; the factory's deployer binds it once.
  m.call(disputeGameFactory, "bindTaskManager", [core.taskManager], { from: deployer });
  transferCoreOwnership(m, core, m.getParameter<string | AccountRuntimeValue>("owner", deployer));
  return { ...core, disputeGameFactory };
});

export default OracleCoreModule;
