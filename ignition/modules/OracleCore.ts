import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { AccountRuntimeValue } from "@nomicfoundation/ignition-core";

import { PRODUCTION_DEFAULTS, buildOracleCore, governCoreByTimelock } from "./core.ts";
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

const DAY = 86_400n;

/**
 * Default delay of every governance change (docs/protocol.md §1.10): long enough for a staker to let its open
 * claims finish (challenge window, then games of up to 3 clock durations), unstake and withdraw (unbonding
 * period), plus a day of margin, before a scheduled change applies. Raise `timelockMinDelay` with any of these.
 */
export const TIMELOCK_MIN_DELAY =
  PRODUCTION_DEFAULTS.unbondingPeriod + PRODUCTION_DEFAULTS.challengeWindow + 3n * GAME_DEFAULTS.clockDuration + DAY;

/**
 * The production deployment: the whole core wired to an existing stake token and to the real dispute game
 * (DisputeGameFactory over the MIPS verifier, bound to this task manager), then owned by an OpenZeppelin
 * TimelockController (`timelock`): every governance call is proposed by `admin`, waits `timelockMinDelay`, and is
 * executed by `executor`. Parameters (module id `OracleCore`), see ignition/README.md:
 * - `stakeToken` (required): address of the ERC20 operators stake;
 * - `treasury`, `admin`, `executor` (each default account 0), `timelockMinDelay` (default {@link TIMELOCK_MIN_DELAY});
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
  const built = buildOracleCore(m, { stakeToken: m.getParameter<string>("stakeToken"), disputeGameFactory }, PRODUCTION_DEFAULTS);
  // Only this task manager may open games; the factory's deployer binds it once.
  m.call(disputeGameFactory, "bindTaskManager", [built.taskManager], { from: deployer });
  const { timelock } = governCoreByTimelock(m, built, {
    admin: m.getParameter<string | AccountRuntimeValue>("admin", deployer),
    executor: m.getParameter<string | AccountRuntimeValue>("executor", deployer),
    minDelay: m.getParameter("timelockMinDelay", TIMELOCK_MIN_DELAY),
  });
  const { wiring: _, ...core } = built;
  return { ...core, disputeGameFactory, timelock };
});

export default OracleCoreModule;
