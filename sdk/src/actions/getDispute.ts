import type { Address, BlockNumber, BlockTag, Chain, Client, Hex, Transport } from "viem";
import { getBlock, readContract } from "viem/actions";
import { type GamePhase, type GameWinner, disputeGameAbi, gamePhases, gameWinners, oaoErrorsAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import { toOaoError } from "../errors/contract.ts";

export interface GetDisputeParameters {
  /** The dispute game (the `game` of TaskManager's ClaimChallenged event, or `Dispute.id` in the subgraph). */
  address: Address;
  /** Read at this block (default: latest). */
  blockNumber?: BlockNumber;
  blockTag?: BlockTag;
}

/** One side's chess clock (docs/protocol.md §5.5). */
export interface DisputeClock {
  /** Seconds used by the block read (stopped time plus the running stretch). */
  used: bigint;
  /** Seconds left of `clockDuration` (0 once out of time). */
  remaining: bigint;
  /** True while the side owes a move and its clock runs. */
  running: boolean;
  /** Whether the side posted in the current round (or its final VM hash, in VmStart). */
  posted: boolean;
  /** The operator that moves for the side. */
  player: Address;
}

export interface GetDisputeReturnType {
  game: Address;
  requestId: bigint;
  defenderClaimId: bigint;
  challengerClaimId: bigint;
  /** Graph (bisecting graph states), VmStart, Vm (bisecting VM steps), Step, Resolved. */
  phase: GamePhase;
  /** The current phase's range: trace leaves in Graph, VM steps afterwards. */
  lo: bigint;
  hi: bigint;
  /** The points both sides post values at this round (empty outside Graph and Vm). */
  roundPoints: readonly bigint[];
  /** The node phase 2 ended at (undefined while in Graph). */
  nodeIndex: bigint | undefined;
  nodeCount: bigint;
  clocks: { defender: DisputeClock; challenger: DisputeClock };
  clockDuration: bigint;
  /** End of the step window (unix seconds) in phase Step, else undefined. */
  stepDeadline: bigint | undefined;
  /** The outcome once Resolved (Defender, Challenger, or Undecided: the guest could not decide the node), else undefined. */
  winner: GameWinner | undefined;
  /** The value both sides agree on at `lo`, and each side's value at `hi` (zero until known). */
  agreedValue: Hex;
  disputedValues: { defender: Hex; challenger: Hex };
  /** The block the game was read at, and its time. */
  blockNumber: bigint;
  timestamp: bigint;
}

export type GetDisputeErrorType = BaseErrorType;

/**
 * A dispute game's state (docs/protocol.md §5), every field read at one block: phase, range,
 * round, clocks, the bound node index and the winner. For a game's history use the subgraph's
 * `Dispute` and its move events.
 */
export async function getDispute(
  client: Client<Transport, Chain | undefined>,
  { address, blockNumber, blockTag }: GetDisputeParameters,
): Promise<GetDisputeReturnType> {
  const abi = [...disputeGameAbi, ...oaoErrorsAbi];
  try {
    const block = await getBlock(client, blockNumber !== undefined ? { blockNumber } : { blockTag: blockTag ?? "latest" });
    const at = { blockNumber: block.number! };
    const read = <const F extends string>(functionName: F, args: readonly unknown[] = []) =>
      readContract(client, { address, abi, functionName, args, ...at } as never) as Promise<unknown>;
    const side = async (s: 0 | 1): Promise<[readonly [bigint, bigint], bigint, boolean, Address]> =>
      Promise.all([
        read("clock", [s]) as Promise<readonly [bigint, bigint]>,
        read("timeUsed", [s]) as Promise<bigint>,
        read("hasPosted", [s]) as Promise<boolean>,
        read("player", [s]) as Promise<Address>,
      ]);
    const [phaseIndex, range, points, nodeIndex, nodeCount, clockDuration, stepDeadline, winner, agreed, disputed, ids, d, c] =
      await Promise.all([
        read("phase") as Promise<number>,
        read("range") as Promise<readonly [bigint, bigint]>,
        read("roundPoints") as Promise<readonly bigint[]>,
        read("nodeIndex") as Promise<bigint>,
        read("nodeCount") as Promise<bigint>,
        read("clockDuration") as Promise<bigint>,
        read("stepDeadline") as Promise<bigint>,
        read("winner") as Promise<number>,
        read("agreedValue") as Promise<Hex>,
        read("disputedValues") as Promise<readonly [Hex, Hex]>,
        Promise.all([read("requestId"), read("defenderClaimId"), read("challengerClaimId")]) as Promise<[bigint, bigint, bigint]>,
        side(0),
        side(1),
      ]);
    const phase = gamePhases[phaseIndex]!;
    const clock = ([, runningSince]: readonly [bigint, bigint], used: bigint, posted: boolean, player: Address): DisputeClock => ({
      used,
      remaining: used >= clockDuration ? 0n : clockDuration - used,
      running: runningSince !== 0n,
      posted,
      player,
    });
    return {
      game: address,
      requestId: ids[0],
      defenderClaimId: ids[1],
      challengerClaimId: ids[2],
      phase,
      lo: range[0],
      hi: range[1],
      roundPoints: points,
      nodeIndex: nodeIndex === 0n ? undefined : nodeIndex,
      nodeCount,
      clocks: { defender: clock(...d), challenger: clock(...c) },
      clockDuration,
      stepDeadline: stepDeadline === 0n ? undefined : stepDeadline,
      winner: phase === "Resolved" ? gameWinners[winner] : undefined,
      agreedValue: agreed,
      disputedValues: { defender: disputed[0], challenger: disputed[1] },
      blockNumber: block.number!,
      timestamp: block.timestamp,
    };
  } catch (err) {
    throw toOaoError(err, "getDispute");
  }
}
