/**
 * The one place the core is deployed and wired: AIOracle, Staking and TaskManager (plus the VM through
 * {@link OracleVMModule}). Production ({@link OracleCoreModule}) and dev/test (`dev/OracleDev.ts`) modules call
 * {@link buildOracleCore} with their own stake token and dispute game factory, so a test that deploys the dev
 * module runs exactly the production wiring.
 *
 * Nothing here may name a contract from `contracts/mocks/` (test/oracle/ignition.test.ts checks every future).
 */
import type {
  AccountRuntimeValue,
  ContractFuture,
  IgnitionModuleBuilder,
  ModuleParameterRuntimeValue,
} from "@nomicfoundation/ignition-core";

import { OracleVMModule } from "./OracleVM.ts";

/** An address known when the module is defined (a parameter) or when it executes (a deployed contract). */
export type AddressSource = ModuleParameterRuntimeValue<string> | ContractFuture<string>;

/**
 * Defaults of every numeric parameter; each can be overridden under the module's id in the parameters file.
 * Wei amounts and token amounts are bigints, durations are seconds.
 */
export interface OracleCoreDefaults {
  /** Governance price per callback gas unit (quotes use max(this, block.basefee)). */
  callbackGasPrice: bigint;
  /** Immutable bounds on `callbackGasPrice`. */
  minCallbackGasPrice: bigint;
  maxCallbackGasPrice: bigint;
  /** Flat protocol fee per request (wei), and its immutable ceiling. */
  protocolFee: bigint;
  maxProtocolFee: bigint;
  /** Largest callback gas limit a request may ask for. */
  maxCallbackGasLimit: bigint;
  /** Seconds an OAO request waits for a claim before it can be refunded. */
  requestTimeout: bigint;
  /** Stake (token units) an operator needs to commit or challenge. */
  minStake: bigint;
  /** Seconds between unstake request and withdrawal; must outlast a dispute. */
  unbondingPeriod: bigint;
  /** Seconds a slashed operator may not lock new bonds. */
  jailPeriod: bigint;
  /** Slash split in basis points: winner and requester; the rest goes to the treasury. */
  winnerShareBps: number;
  requesterShareBps: number;
  /** Seconds a standing claim can be challenged. */
  challengeWindow: bigint;
  /** Stake locked by every claim, slashed if it loses a game. */
  claimBond: bigint;
  /** Largest output a claim may carry (bytes). */
  maxOutputBytes: number;
}

const DAY = 86_400n;
const GWEI = 1_000_000_000n;
const ETHER = 10n ** 18n;

/** Production defaults: hours and days, as docs/protocol.md §1-§2 assume for a live network. */
export const PRODUCTION_DEFAULTS: OracleCoreDefaults = {
  callbackGasPrice: 1n * GWEI,
  minCallbackGasPrice: GWEI / 100n,
  maxCallbackGasPrice: 1_000n * GWEI,
  protocolFee: 0n,
  maxProtocolFee: 1n * ETHER,
  maxCallbackGasLimit: 2_000_000n,
  requestTimeout: 3_600n,
  minStake: 100n * ETHER,
  unbondingPeriod: 14n * DAY,
  jailPeriod: 7n * DAY,
  winnerShareBps: 5_000,
  requesterShareBps: 2_000,
  challengeWindow: 1n * DAY,
  claimBond: 10n * ETHER,
  maxOutputBytes: 4_096,
};

export interface OracleCoreSources {
  /** The ERC20 operators stake (an existing token in production). */
  stakeToken: AddressSource;
  /** The IDisputeGameFactory the task manager opens games with. */
  disputeGameFactory: AddressSource;
}

/**
 * Deploys and wires the core inside module `m`: every numeric setting is read with `m.getParameter(name,
 * defaults[name])`, `treasury` is a parameter (default: account 0). The deployer (account 0) owns the three
 * contracts when this returns: it wires `AIOracle.setTaskManager` and `Staking.setSlasher(taskManager)`.
 * Hand ownership over with {@link transferCoreOwnership}.
 */
export function buildOracleCore(m: IgnitionModuleBuilder, sources: OracleCoreSources, defaults: OracleCoreDefaults) {
  const deployer = m.getAccount(0);
  const p = <K extends keyof OracleCoreDefaults>(name: K) => m.getParameter(name, defaults[name]);
  const treasury = m.getParameter<string | AccountRuntimeValue>("treasury", deployer);

  const { preimageOracle, mips } = m.useModule(OracleVMModule);

  const aiOracle = m.contract(
    "AIOracle",
    [
      {
        owner: deployer,
        treasury,
        callbackGasPrice: p("callbackGasPrice"),
        minCallbackGasPrice: p("minCallbackGasPrice"),
        maxCallbackGasPrice: p("maxCallbackGasPrice"),
        protocolFee: p("protocolFee"),
        maxProtocolFee: p("maxProtocolFee"),
        maxCallbackGasLimit: p("maxCallbackGasLimit"),
        requestTimeout: p("requestTimeout"),
      },
    ],
    { from: deployer },
  );
  const staking = m.contract(
    "Staking",
    [
      sources.stakeToken,
      deployer,
      treasury,
      p("minStake"),
      p("unbondingPeriod"),
      p("jailPeriod"),
      p("winnerShareBps"),
      p("requesterShareBps"),
    ],
    { from: deployer },
  );
  const taskManager = m.contract(
    "TaskManager",
    [
      aiOracle,
      staking,
      sources.disputeGameFactory,
      deployer,
      p("challengeWindow"),
      p("claimBond"),
      p("maxOutputBytes"),
    ],
    { from: deployer },
  );

  // Wiring: the oracle takes results only from this task manager (once, irrevocably), and only the task
  // manager may lock, unlock and slash stake.
  m.call(aiOracle, "setTaskManager", [taskManager], { from: deployer });
  m.call(staking, "setSlasher", [taskManager, true], { from: deployer });

  return { aiOracle, staking, taskManager, mips, preimageOracle };
}

/**
 * Starts the two-step ownership transfer of the three owned contracts to `owner` (OpenZeppelin Ownable2Step):
 * `owner` becomes `pendingOwner` and takes over by calling `acceptOwnership()` on each. Until then the deployer
 * keeps the governance functions. Runs after the wiring calls.
 */
export function transferCoreOwnership(
  m: IgnitionModuleBuilder,
  core: ReturnType<typeof buildOracleCore>,
  owner: ModuleParameterRuntimeValue<string | AccountRuntimeValue>,
) {
  const deployer = m.getAccount(0);
  m.call(core.aiOracle, "transferOwnership", [owner], { from: deployer, id: "AIOracle_transferOwnership" });
  m.call(core.staking, "transferOwnership", [owner], { from: deployer, id: "Staking_transferOwnership" });
  m.call(core.taskManager, "transferOwnership", [owner], { from: deployer, id: "TaskManager_transferOwnership" });
}
