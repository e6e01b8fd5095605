/**
 * The chain adapter of one dispute game: reads a `GameView` pinned to one block (every read at the
 * same block number, so the view is never torn between two states of the game), and turns solver
 * actions into transactions sent through the responder (the only wallet holder). Preimage parts go to
 * the game's preimage oracle; everything else to the game.
 *
 * `GameClient` is the seam the player works against; `referenceGameClient` backs it with the pure
 * reference model so the player, scheduler and store logic are tested without a chain.
 */
import { encodeFunctionData, type Address, type Hex, type PublicClient } from "viem";
import type { Responder } from "../chain/responder.ts";
import { withRetry } from "../chain/retry.ts";
import { applyAction } from "../../game/playout.ts";
import type { ReferenceGame } from "../../game/reference.ts";
import { type Action, GamePhase, type GameView, type GameWinner, type Side } from "../../game/types.ts";
import { fromHex, keccakKey, toHex } from "../../vm/index.ts";
import { disputeGameAbi, preimageOracleAbi } from "./abi.ts";

/**
 * Room over a round post's estimate (+20%) for the round's closing path: both parties usually post in the same block,
 * each estimated while the other had not posted, and the one mined second closes the round (the narrowing, the next
 * round or phase: the VM inputs' binding at the end of phase 2, the step phase at the end of phase 1), which costs more
 * than the estimate's 20% allow (moveVm posts ran out at limits of 165–202k gas in test/keeper/move-gas-race.test.ts,
 * before this); a limit is not a cost (only the gas used is paid).
 */
export const MOVE_GAS_HEADROOM = 300_000n;

export interface SentAction {
  hash: Hex | undefined;
  gasUsed: bigint;
}

export interface GameClient {
  readonly address: Hex;
  /** The game at the latest block, every field read at that block. */
  readView(): Promise<GameView>;
  /** Whether the oracle already holds this keccak part (so a restarted keeper does not load it twice). */
  hasPreimagePart(key: Hex, offset: bigint): Promise<boolean>;
  /** Sends one action and resolves with its successful receipt's figures. */
  send(action: Action): Promise<SentAction>;
}

interface GameConfig {
  clockDuration: bigint;
  vmFinalPosition: bigint;
  oracle: Address;
}

export function createChainGameClient(params: { publicClient: PublicClient; responder: Responder; address: Address }): GameClient {
  const { publicClient, responder, address } = params;
  let config: GameConfig | undefined;

  async function gameConfig(): Promise<GameConfig> {
    if (config === undefined) {
      const read = <T>(functionName: "clockDuration" | "vmTraceDepth" | "preimageOracle") =>
        withRetry(() => publicClient.readContract({ address, abi: disputeGameAbi, functionName }) as Promise<T>);
      const [clockDuration, depth, oracle] = await Promise.all([read<bigint>("clockDuration"), read<number>("vmTraceDepth"), read<Address>("preimageOracle")]);
      config = { clockDuration, vmFinalPosition: 1n << BigInt(depth), oracle };
    }
    return config;
  }

  async function readView(): Promise<GameView> {
    const cfg = await gameConfig();
    const block = await withRetry(() => publicClient.getBlock({ blockTag: "latest" }));
    const blockNumber = block.number;
    const read = (functionName: string, args: readonly unknown[] = []) =>
      withRetry(() => publicClient.readContract({ address, abi: disputeGameAbi, functionName, args, blockNumber } as never) as Promise<unknown>);
    const [phase, range, points, postedD, postedC, valuesD, valuesC, agreed, disputed, vmInputs, localContext, clockD, clockC, stepDeadline, winner] =
      await Promise.all([
        read("phase"),
        read("range"),
        read("roundPoints"),
        read("hasPosted", [0]),
        read("hasPosted", [1]),
        read("roundValues", [0]),
        read("roundValues", [1]),
        read("agreedValue"),
        read("disputedValues"),
        read("vmInputs"),
        read("localContext"),
        read("clock", [0]),
        read("clock", [1]),
        read("stepDeadline"),
        read("winner"),
      ]);
    const [lo, hi] = range as [bigint, bigint];
    const [, nodeIndex, preState, postState] = vmInputs as [Hex, bigint, Hex, Hex];
    const clock = (c: unknown) => {
      const [usedSeconds, runningSince] = c as [bigint, bigint];
      return { usedSeconds, runningSince };
    };
    const p = Number(phase) as GamePhase;
    return {
      address,
      phase: p,
      lo,
      hi,
      roundPoints: points as bigint[],
      posted: [postedD as boolean, postedC as boolean],
      roundValues: [valuesD as Hex[], valuesC as Hex[]],
      agreedValue: agreed as Hex,
      disputedValues: disputed as [Hex, Hex],
      vmInputs: nodeIndex === 0n ? undefined : { nodeIndex, preState, postState, localContext: localContext as Hex },
      clocks: [clock(clockD), clock(clockC)],
      clockDuration: cfg.clockDuration,
      vmFinalPosition: cfg.vmFinalPosition,
      now: block.timestamp,
      stepPhaseSince: p === GamePhase.Step ? (stepDeadline as bigint) - cfg.clockDuration : 0n,
      winner: p === GamePhase.Resolved ? (Number(winner) as GameWinner) : undefined,
    };
  }

  function encode(action: Action): { to: Address; data: Hex } | Promise<{ to: Address; data: Hex }> {
    switch (action.kind) {
      case "moveGraph":
        return { to: address, data: encodeFunctionData({ abi: disputeGameAbi, functionName: "moveGraph", args: [action.states, action.proofs] }) };
      case "postFinalVmState":
        return { to: address, data: encodeFunctionData({ abi: disputeGameAbi, functionName: "postFinalVmState", args: [action.vmStateHash] }) };
      case "moveVm":
        return { to: address, data: encodeFunctionData({ abi: disputeGameAbi, functionName: "moveVm", args: [action.vmStateHashes] }) };
      case "step":
        return { to: address, data: encodeFunctionData({ abi: disputeGameAbi, functionName: "step", args: [action.preState, action.proof] }) };
      case "claimTimeout":
        return { to: address, data: encodeFunctionData({ abi: disputeGameAbi, functionName: "claimTimeout" }) };
      case "loadPreimage":
        return gameConfig().then((cfg) => ({
          to: cfg.oracle,
          data: encodeFunctionData({ abi: preimageOracleAbi, functionName: "loadKeccak256PreimagePart", args: [action.partOffset, action.preimage] }),
        }));
    }
  }

  return {
    address,
    readView,
    async hasPreimagePart(key, offset) {
      const cfg = await gameConfig();
      try {
        await publicClient.readContract({ address: cfg.oracle, abi: preimageOracleAbi, functionName: "readPreimage", args: [key, offset] });
        return true;
      } catch {
        return false;
      }
    },
    async send(action) {
      const { to, data } = await encode(action);
      const posts = action.kind === "moveGraph" || action.kind === "postFinalVmState" || action.kind === "moveVm";
      const receipt = await responder.submit({ kind: `dispute.${action.kind}`, to, data, ...(posts ? { gasHeadroom: MOVE_GAS_HEADROOM } : {}) });
      return { hash: receipt.transactionHash, gasUsed: receipt.gasUsed };
    },
  };
}

/**
 * A `GameClient` over the reference model, for one side, with a simulated block clock shared by
 * both sides' clients (`clock.now`, advanced `secondsPerTx` per transaction).
 */
export function referenceGameClient(game: ReferenceGame, side: Side, clock: { now: bigint }, secondsPerTx = 12n): GameClient {
  return {
    address: game.params.address,
    readView: async () => game.view(clock.now),
    async hasPreimagePart(key, offset) {
      return game.oracle.has(fromHex(key), Number(offset));
    },
    async send(action) {
      clock.now += secondsPerTx;
      if (action.kind === "loadPreimage" && toHex(keccakKey(fromHex(action.preimage))) !== action.key.toLowerCase()) {
        throw new Error(`preimage does not hash to ${action.key}`);
      }
      applyAction(game, side, action, clock.now);
      return { hash: undefined, gasUsed: 0n };
    },
  };
}
