/**
 * The ABIs the SDK talks to, generated from the contracts' artifacts (sdk/src/abis/generated.ts,
 * written by `npm run build`), and the union of their custom errors used to decode reverts that
 * bubble up from nested calls (a TaskManager call failing inside Staking, for instance).
 */
import {
  AIOracleAbi,
  DisputeGameAbi,
  IAIOracleCallbackReceiverAbi,
  MockStakeTokenAbi,
  StakingAbi,
  TaskManagerAbi,
} from "./abis/generated.ts";

export const aiOracleAbi = AIOracleAbi;
export const stakingAbi = StakingAbi;
export const taskManagerAbi = TaskManagerAbi;
export const callbackReceiverAbi = IAIOracleCallbackReceiverAbi;
export const disputeGameAbi = DisputeGameAbi;

type ErrorItem<T extends readonly unknown[]> = Extract<T[number], { type: "error" }>;
export type OaoErrorAbiItem =
  | ErrorItem<typeof AIOracleAbi>
  | ErrorItem<typeof StakingAbi>
  | ErrorItem<typeof TaskManagerAbi>
  | ErrorItem<typeof DisputeGameAbi>
  | ErrorItem<typeof MockStakeTokenAbi>;

function errorsOf<T extends readonly { type: string }[]>(abi: T): ErrorItem<T>[] {
  return abi.filter((item): item is ErrorItem<T> => item.type === "error");
}

const seen = new Set<string>();
/** Every custom error of the oracle, staking, task manager and dispute game (and the stake token's ERC-20 errors), once each. */
export const oaoErrorsAbi: readonly OaoErrorAbiItem[] = [
  ...errorsOf(AIOracleAbi),
  ...errorsOf(StakingAbi),
  ...errorsOf(TaskManagerAbi),
  ...errorsOf(DisputeGameAbi),
  ...errorsOf(MockStakeTokenAbi),
].filter((e) => {
  const key = `${e.name}(${e.inputs.map((i) => i.type).join(",")})`;
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
});

/** Minimal ERC-20 surface used to approve the stake token. */
export const erc20Abi = [
  {
    type: "function",
    name: "approve",
    stateMutability: "nonpayable",
    inputs: [
      { name: "spender", type: "address" },
      { name: "amount", type: "uint256" },
    ],
    outputs: [{ name: "", type: "bool" }],
  },
  {
    type: "function",
    name: "allowance",
    stateMutability: "view",
    inputs: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
    ],
    outputs: [{ name: "", type: "uint256" }],
  },
] as const;

/**
 * RequestStatus of docs/protocol.md §1, in the contracts' enum order. `Challenged`: a game is open or
 * challenges are queued against the standing claim. `Cancelled`: a game found the disputed node undecidable
 * (§5.4); no result will come, and `expire` refunds the request at once.
 */
export const requestStatuses = [
  "None",
  "Requested",
  "Committed",
  "Challenged",
  "Finalized",
  "Delivered",
  "Expired",
  "Refunded",
  "Cancelled",
] as const;
export type RequestStatus = (typeof requestStatuses)[number];

export const deliveryModes = ["AtCommit", "AtFinality"] as const;
export type DeliveryMode = (typeof deliveryModes)[number];

/** GamePhase of docs/protocol.md §5, in the contract's enum order (contracts/dispute/lib/DisputeTypes.sol). */
export const gamePhases = ["Graph", "VmStart", "Vm", "Step", "Resolved"] as const;
export type GamePhase = (typeof gamePhases)[number];

/**
 * ClaimStatus in the contracts' enum order (TaskManager.getClaim). `Queued`: a challenge waiting for its game
 * (one game at a time per standing claim, §1.6); `Released`: bond unlocked unslashed (a queued challenge whose
 * target stopped standing, or either claim of an undecided game).
 */
export const claimStatuses = ["None", "Standing", "Challenging", "Defeated", "Released", "Accepted", "Queued"] as const;
export type ClaimStatus = (typeof claimStatuses)[number];

/** Side (a game's two parties) in the contracts' enum order. */
export const gameSides = ["Defender", "Challenger"] as const;
export type GameSide = (typeof gameSides)[number];

/**
 * GameWinner (a game's outcome, DisputeGame.winner) in the contracts' enum order: a side, or `Undecided` when the
 * guest could not decide the disputed node (unfinished at the last VM step, or it panicked; §5.4).
 */
export const gameWinners = ["Defender", "Challenger", "Undecided"] as const;
export type GameWinner = (typeof gameWinners)[number];
