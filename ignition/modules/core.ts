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
  CallableContractFuture,
  ContractCallFuture,
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
  /** Seconds between unstake request and withdrawal (part of the governance delay, OracleCore.ts). */
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
  maxCallbackGasLimit: 5_000_000n,
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
 * contracts when this returns: it wires `AIOracle.setTaskManager` and `Staking.setSlasher(taskManager)` (the two
 * calls are `wiring`; a module returns the contracts without it). Hand ownership over with
 * {@link governCoreByTimelock} (production) or {@link transferCoreOwnership}.
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
  const wiring = [
    m.call(aiOracle, "setTaskManager", [taskManager], { from: deployer }),
    m.call(staking, "setSlasher", [taskManager, true], { from: deployer }),
  ];

  return { aiOracle, staking, taskManager, mips, preimageOracle, wiring };
}

/** An address as a module sees it: a parameter, an account, or a deployed contract. */
export type OwnerSource = ModuleParameterRuntimeValue<string | AccountRuntimeValue> | AccountRuntimeValue | ContractFuture<string>;

/**
 * Starts the two-step ownership transfer of the three owned contracts to `owner` (OpenZeppelin Ownable2Step):
 * `owner` becomes `pendingOwner` and takes over by calling `acceptOwnership()` on each. Until then the deployer
 * keeps the governance functions. Runs after the wiring calls.
 */
export function transferCoreOwnership(
  m: IgnitionModuleBuilder,
  core: ReturnType<typeof buildOracleCore>,
  owner: OwnerSource,
): ContractCallFuture<string, string>[] {
  const deployer = m.getAccount(0);
  return [
    m.call(core.aiOracle, "transferOwnership", [owner], { from: deployer, id: "AIOracle_transferOwnership" }),
    m.call(core.staking, "transferOwnership", [owner], { from: deployer, id: "Staking_transferOwnership" }),
    m.call(core.taskManager, "transferOwnership", [owner], { from: deployer, id: "TaskManager_transferOwnership" }),
  ];
}

export interface TimelockRoles {
  /** Proposes and cancels governance operations (a multisig in production). */
  admin: OwnerSource;
  /** Executes them once their delay has passed (the zero address: anyone). */
  executor: OwnerSource;
  /** Seconds between scheduling an operation and the earliest time it can execute. */
  minDelay: ModuleParameterRuntimeValue<bigint> | bigint;
}

const ZERO_BYTES32 = `0x${"0".repeat(64)}`;
const ZERO_ADDRESS = `0x${"0".repeat(40)}`;

/**
 * Puts the whole governance of the core behind an OpenZeppelin `TimelockController` (docs/protocol.md §1.10):
 * the timelock becomes the owner of AIOracle, Staking and TaskManager, `roles.admin` its proposer and canceller,
 * `roles.executor` its executor, `roles.minDelay` its delay, and it administers itself (no admin account).
 *
 * Ownable2Step needs the new owner to call `acceptOwnership()`, and a timelock only calls through its own
 * operations, so the timelock is deployed with delay 0 and the deployer as its only proposer and executor; the
 * deployer schedules and at once executes one batch that accepts the three ownerships, hands the roles from
 * itself to `admin`/`executor` and raises the delay to `minDelay`. The deployer governed everything until then
 * anyway; when the deployment is done nobody can change anything in less than `minDelay`.
 */
export function governCoreByTimelock(
  m: IgnitionModuleBuilder,
  core: ReturnType<typeof buildOracleCore>,
  roles: TimelockRoles,
) {
  const deployer = m.getAccount(0);
  const timelock = m.contract("TimelockController", [0n, [deployer], [deployer], ZERO_ADDRESS], { from: deployer });
  const transfers = transferCoreOwnership(m, core, timelock);

  const role = (name: string) => m.staticCall(timelock, name, [], 0, { id: `TimelockController_${name}` });
  const [proposer, executor, canceller] = ["PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE"].map(role);
  const steps: [CallableContractFuture<string>, string, Parameters<typeof m.encodeFunctionCall>[2]][] = [
    [core.aiOracle, "acceptOwnership", []],
    [core.staking, "acceptOwnership", []],
    [core.taskManager, "acceptOwnership", []],
    // Revoke before granting, so that `admin` or `executor` may be the deployer itself.
    [timelock, "revokeRole", [proposer!, deployer]],
    [timelock, "revokeRole", [canceller!, deployer]],
    [timelock, "revokeRole", [executor!, deployer]],
    [timelock, "grantRole", [proposer!, roles.admin]],
    [timelock, "grantRole", [canceller!, roles.admin]],
    [timelock, "grantRole", [executor!, roles.executor]],
    [timelock, "updateDelay", [roles.minDelay]],
  ];
  const targets = steps.map(([target]) => target);
  const values = steps.map(() => 0n);
  const payloads = steps.map(([target, fn, args], i) =>
    m.encodeFunctionCall(target, fn, args, { id: `TimelockSetup_${i}_${fn}` }),
  );
  const batch = [targets, values, payloads, ZERO_BYTES32, ZERO_BYTES32];
  const scheduled = m.call(timelock, "scheduleBatch", [...batch, 0n], {
    from: deployer,
    id: "TimelockSetup_schedule",
    after: [...transfers, ...core.wiring],
  });
  m.call(timelock, "executeBatch", batch, { from: deployer, id: "TimelockSetup_execute", after: [scheduled] });
  return { timelock };
}
