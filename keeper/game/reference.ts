/**
 * A pure reference model of the dispute game contract (docs/protocol.md §5), used to test the solver
 * and the players without a chain, and to cross-check the Solidity game. One instance is one game
 * between a defender and a challenger. Calls take the caller's side and the block time explicitly;
 * a failing call throws a `GameRevert` named like the contract's custom error, and changes nothing.
 *
 * - Graph phase: range [0, n] over trace leaves; each posted state needs a Merkle proof against the
 *   poster's own traceRoot. Ends at i = hi with State_{i-1} agreed.
 * - Transition: the game binds (modelRoot, i, State_{i-1}, defender's State_i) itself (§5.3).
 * - VmStart: each side posts its final VM state hash (defender VALID, challenger INVALID, or either
 *   UNFINISHED/PANIC: the guest cannot decide the node); two equal hashes end the game undecided.
 * - Vm phase: range [0, T], T = 2^vmTraceDepth, the absolute prestate agreed at 0.
 * - Step: anyone executes the one disputed step; the side whose value at hi it returns is right about
 *   the trace (the defender is taken as wrong if neither's is), and the status of that side's state at T
 *   decides: VALID defender, INVALID challenger, else undecided (§5.4). Local data parts a step reads are
 *   loaded by the game from its bound inputs; keccak parts must have been loaded by someone.
 * - Clocks (§5.5): a side's clock runs while it owes a post; a post after its time ran out reverts;
 *   `claimTimeout` decides for the side still in time (the defender if both ran out), and in the
 *   Step phase by the defender's trace once nobody stepped for `clockDuration`.
 */
import { narrow, roundPoints } from "./bisection.ts";
import { checkGraphProof } from "./trace-provider.ts";
import { clockUsed, GamePhase, GameWinner, type Clock, type GameView, type Hex, otherSide, Side, SIDE_NAMES, type VmInputs, PHASE_NAMES } from "./types.ts";
import { fromHex, toHex, concatBytes } from "../vm/hex.ts";
import { keccakKey, KEY_TYPE_LOCAL, localizeKey, framePreimage, MAX_PREIMAGE_BYTES } from "../vm/preimage.ts";
import { statusOfHash, stateHash, VmStatus } from "../vm/state.ts";
import { verifyStep } from "../vm/step.ts";

/** A revert, named like the contract's custom error, with its arguments. */
export class GameRevert extends Error {
  override name = "GameRevert";
  constructor(
    readonly error: string,
    readonly args: readonly unknown[] = [],
  ) {
    super(`${error}(${args.map(String).join(", ")})`);
  }
}

/** The on-chain PreimageOracle (§4.5), parts stored per (key, offset). */
export class ReferenceOracle {
  private readonly parts = new Map<string, { part: Uint8Array; partLen: number }>();

  private store(key: Uint8Array, partOffset: number, framed: Uint8Array): void {
    if (partOffset > framed.length) throw new GameRevert("PartOffsetOOB", [partOffset, framed.length]);
    const part = new Uint8Array(32);
    const partLen = Math.min(32, framed.length - partOffset);
    part.set(framed.subarray(partOffset, partOffset + partLen));
    this.parts.set(`${toHex(key)}/${partOffset}`, { part, partLen });
  }

  loadKeccak256PreimagePart(partOffset: bigint, preimage: Uint8Array): void {
    if (preimage.length > MAX_PREIMAGE_BYTES) throw new GameRevert("PreimageTooLarge", [preimage.length, MAX_PREIMAGE_BYTES]);
    this.store(keccakKey(preimage), Number(partOffset), framePreimage(preimage));
  }

  /** Local data of `caller` (the game) under `localContext`. */
  loadLocalData(caller: Hex, ident: bigint, localContext: Hex, word: Uint8Array, partOffset: bigint): void {
    if (word.length > 32) throw new GameRevert("LocalDataTooLarge", [word.length]);
    const key = localizeKey(localKeyOf(ident), { caller, localContext });
    this.store(key, Number(partOffset), framePreimage(word));
  }

  has(key: Uint8Array, offset: number): boolean {
    return this.parts.has(`${toHex(key)}/${offset}`);
  }

  readPreimage(key: Uint8Array, offset: number): { part: Uint8Array; partLen: number } {
    const p = this.parts.get(`${toHex(key)}/${offset}`);
    if (p === undefined) throw new GameRevert("PreimageNotLoaded", [toHex(key), offset]);
    return { part: p.part.slice(), partLen: p.partLen };
  }
}

function localKeyOf(ident: bigint): Uint8Array {
  const key = fromHex(`0x${ident.toString(16).padStart(64, "0")}`);
  key[0] = KEY_TYPE_LOCAL;
  return key;
}

/** What the game needs from a step's execution, so the toy world and the real VM plug in alike. */
export interface StepContext {
  oracle: ReferenceOracle;
  /** The game (the caller of MIPS.step). */
  caller: Hex;
  localContext: Hex;
  /** The bound local data by identifier (§5.3), which the game loads into the oracle on demand. */
  localData: ReadonlyMap<bigint, Uint8Array>;
}

export interface StepVerifier {
  /** The VM state hash of a packed pre-state (reverts on a malformed state). */
  stateHashOf(preState: Hex): Hex;
  /** The post-state hash MIPS.step returns. */
  step(preState: Hex, proof: Hex, ctx: StepContext): Hex;
}

/** The real verifier: keeper/vm's `verifyStep`, reading parts from the reference oracle. */
export const mipsStepVerifier: StepVerifier = {
  stateHashOf(preState) {
    const bytes = fromHex(preState);
    if (bytes.length !== 226) throw new GameRevert("InvalidState", []);
    return stateHash(bytes);
  },
  step(preState, proof, ctx) {
    return verifyStep(fromHex(preState), fromHex(proof), (key, offset) => {
      if (key[0] === KEY_TYPE_LOCAL) {
        const oracleKey = localizeKey(key, { caller: ctx.caller, localContext: ctx.localContext });
        if (!ctx.oracle.has(oracleKey, offset)) {
          const ident = BigInt(toHex(concatBytes(new Uint8Array(1), key.subarray(1))));
          const word = ctx.localData.get(ident);
          if (word === undefined) throw new GameRevert("PreimageNotLoaded", [toHex(oracleKey), offset]);
          ctx.oracle.loadLocalData(ctx.caller, ident, ctx.localContext, word, BigInt(offset));
        }
        return ctx.oracle.readPreimage(oracleKey, offset);
      }
      return ctx.oracle.readPreimage(key, offset);
    });
  },
};

export interface ClaimCommitment {
  traceRoot: Hex;
}

export interface ReferenceGameParams {
  address: Hex;
  /** n: the model's node count. */
  nodeCount: number;
  /** State_0 (leaf 0 of both traceRoots, checked at commit). */
  state0: Hex;
  /** Leaf n of each claim's traceRoot, checked at commit. */
  stateN: readonly [defender: Hex, challenger: Hex];
  traceRoots: readonly [defender: Hex, challenger: Hex];
  modelRoot: Hex;
  absolutePrestate: Hex;
  graphWidthBits: number;
  vmWidthBits: number;
  vmTraceDepth: number;
  clockDuration: bigint;
  startTime: bigint;
  localContext: Hex;
  verifier: StepVerifier;
  oracle?: ReferenceOracle;
}

const eq = (a: Hex, b: Hex) => a.toLowerCase() === b.toLowerCase();

export class ReferenceGame {
  readonly oracle: ReferenceOracle;
  private phase: GamePhase = GamePhase.Graph;
  private lo = 0n;
  private hi: bigint;
  private points: bigint[] = [];
  private values: [Hex[] | undefined, Hex[] | undefined] = [undefined, undefined];
  private agreed: Hex;
  private disputed: [Hex, Hex];
  private clocks: [Clock, Clock];
  private vmInputs: VmInputs | undefined;
  private stepPhaseSince = 0n;
  private winner: GameWinner | undefined;
  /** Each side's VM state hash at T, posted at VmStart. */
  private finals: [Hex | undefined, Hex | undefined] = [undefined, undefined];
  /** Completed rounds per phase (for reports). */
  graphRounds = 0;
  vmRounds = 0;

  constructor(readonly params: ReferenceGameParams) {
    if (params.nodeCount < 1) throw new GameRevert("InvalidNodeCount", [params.nodeCount]);
    if (eq(params.stateN[0], params.stateN[1])) throw new GameRevert("ClaimsAgree", [params.stateN[0]]);
    this.oracle = params.oracle ?? new ReferenceOracle();
    this.hi = BigInt(params.nodeCount);
    this.agreed = params.state0;
    this.disputed = [params.stateN[0], params.stateN[1]];
    this.clocks = [
      { usedSeconds: 0n, runningSince: params.startTime },
      { usedSeconds: 0n, runningSince: params.startTime },
    ];
    this.startRoundOrFinishPhase(params.startTime);
  }

  get vmFinalPosition(): bigint {
    return 1n << BigInt(this.params.vmTraceDepth);
  }

  get resolved(): GameWinner | undefined {
    return this.winner;
  }

  get boundInputs(): VmInputs | undefined {
    return this.vmInputs;
  }

  view(now: bigint): GameView {
    return {
      address: this.params.address,
      phase: this.phase,
      lo: this.lo,
      hi: this.hi,
      roundPoints: [...this.points],
      posted: [this.values[0] !== undefined, this.values[1] !== undefined],
      roundValues: [[...(this.values[0] ?? [])], [...(this.values[1] ?? [])]],
      agreedValue: this.agreed,
      disputedValues: [this.disputed[0], this.disputed[1]],
      vmInputs: this.vmInputs && { ...this.vmInputs },
      clocks: [{ ...this.clocks[0] }, { ...this.clocks[1] }],
      clockDuration: this.params.clockDuration,
      vmFinalPosition: this.vmFinalPosition,
      now,
      stepPhaseSince: this.stepPhaseSince,
      winner: this.winner,
    };
  }

  moveGraph(side: Side, states: readonly Hex[], proofs: readonly (readonly Hex[])[], now: bigint): void {
    this.requirePosting(side, GamePhase.Graph, now);
    if (states.length !== this.points.length || proofs.length !== this.points.length) {
      throw new GameRevert("WrongValueCount", [this.points.length, states.length, proofs.length]);
    }
    const root = this.params.traceRoots[side];
    this.points.forEach((p, j) => {
      if (!checkGraphProof(root, p, states[j]!, proofs[j]!)) throw new GameRevert("InvalidTraceProof", [p, states[j]]);
    });
    this.post(side, [...states], now);
  }

  postFinalVmState(side: Side, vmStateHash: Hex, now: bigint): void {
    this.requirePosting(side, GamePhase.VmStart, now);
    const want = side === Side.Defender ? VmStatus.VALID : VmStatus.INVALID;
    let status: number;
    try {
      status = statusOfHash(vmStateHash);
    } catch {
      status = Number.parseInt(vmStateHash.slice(2, 4), 16);
    }
    // §5.4: a side's verdict, or "the guest cannot decide" (UNFINISHED at T, PANIC), never the other side's verdict.
    if (status !== want && status !== VmStatus.UNFINISHED && status !== VmStatus.PANIC) {
      throw new GameRevert("WrongFinalStatus", [SIDE_NAMES[side], status]);
    }
    this.finals[side] = vmStateHash;
    this.post(side, [vmStateHash], now);
  }

  moveVm(side: Side, vmStateHashes: readonly Hex[], now: bigint): void {
    this.requirePosting(side, GamePhase.Vm, now);
    if (vmStateHashes.length !== this.points.length) throw new GameRevert("WrongValueCount", [this.points.length, vmStateHashes.length]);
    this.post(side, [...vmStateHashes], now);
  }

  /** Anyone. */
  step(preState: Hex, proof: Hex, _now: bigint): GameWinner {
    if (this.phase === GamePhase.Resolved) throw new GameRevert("GameNotInProgress", []);
    if (this.phase !== GamePhase.Step) throw new GameRevert("WrongPhase", [PHASE_NAMES[this.phase]]);
    const preHash = this.params.verifier.stateHashOf(preState);
    if (!eq(preHash, this.agreed)) throw new GameRevert("WrongPreState", [this.agreed, preHash]);
    const inputs = this.vmInputs!;
    const word = (v: bigint | Hex) => fromHex(typeof v === "bigint" ? `0x${v.toString(16).padStart(64, "0")}` : v);
    const post = this.params.verifier.step(preState, proof, {
      oracle: this.oracle,
      caller: this.params.address,
      localContext: inputs.localContext,
      localData: new Map([
        [1n, word(this.params.modelRoot)],
        [2n, word(inputs.nodeIndex)],
        [3n, word(inputs.preState)],
        [4n, word(inputs.postState)],
      ]),
    });
    return this.resolveByTrace(eq(post, this.disputed[Side.Defender]) ? Side.Defender : Side.Challenger);
  }

  /** §5.4: `side`'s VM trace was shown right; the status of its state at T decides. */
  private resolveByTrace(side: Side): GameWinner {
    const status = statusOfHash(this.finals[side]!);
    const winner = status === VmStatus.VALID ? GameWinner.Defender : status === VmStatus.INVALID ? GameWinner.Challenger : GameWinner.Undecided;
    this.resolve(winner);
    return winner;
  }

  /** Anyone. */
  claimTimeout(now: bigint): GameWinner {
    if (this.phase === GamePhase.Resolved) throw new GameRevert("GameNotInProgress", []);
    const limit = this.params.clockDuration;
    if (this.phase === GamePhase.Step) {
      if (now <= this.stepPhaseSince + limit) throw new GameRevert("NotTimedOut", [this.stepPhaseSince + limit, now]);
      // Nobody proved the defender's value at hi wrong in time: its trace is taken as the true one.
      return this.resolveByTrace(Side.Defender);
    }
    const out = [clockUsed(this.clocks[0], now) > limit, clockUsed(this.clocks[1], now) > limit];
    if (!out[0] && !out[1]) throw new GameRevert("NotTimedOut", [limit, clockUsed(this.clocks[0], now), clockUsed(this.clocks[1], now)]);
    // Both out of time: the challenger loses, the claim it attacked stands.
    const winner = out[1] ? Side.Defender : Side.Challenger;
    this.resolve(winner);
    return winner;
  }

  private requirePosting(side: Side, phase: GamePhase, now: bigint): void {
    if (this.phase === GamePhase.Resolved) throw new GameRevert("GameNotInProgress", []);
    if (this.phase !== phase) throw new GameRevert("WrongPhase", [PHASE_NAMES[this.phase]]);
    if (this.values[side] !== undefined) throw new GameRevert("AlreadyPosted", [SIDE_NAMES[side]]);
    const used = clockUsed(this.clocks[side], now);
    if (used > this.params.clockDuration) throw new GameRevert("ClockExpired", [SIDE_NAMES[side], used]);
  }

  private post(side: Side, values: Hex[], now: bigint): void {
    this.values[side] = values;
    const c = this.clocks[side];
    this.clocks[side] = { usedSeconds: clockUsed(c, now), runningSince: 0n };
    if (this.values[otherSide(side)] === undefined) return;
    const [d, ch] = [this.values[0]!, this.values[1]!];
    this.values = [undefined, undefined];
    if (this.phase === GamePhase.VmStart) {
      // Both say the same state at T: by the status rule it is undecidable, and there is nothing to bisect.
      if (eq(d[0]!, ch[0]!)) {
        this.resolve(GameWinner.Undecided);
        return;
      }
      this.phase = GamePhase.Vm;
      this.lo = 0n;
      this.hi = this.vmFinalPosition;
      this.agreed = this.params.absolutePrestate;
      this.disputed = [d[0]!, ch[0]!];
    } else {
      const next = narrow(this.lo, this.hi, this.points, d, ch);
      const at = (vals: Hex[], p: bigint) => vals[this.points.indexOf(p)]!;
      // Values at the new bounds: a round point's posted value, or the old bound's value.
      this.agreed = next.lo === this.lo ? this.agreed : at(d, next.lo);
      this.disputed = next.hi === this.hi ? this.disputed : [at(d, next.hi), at(ch, next.hi)];
      this.lo = next.lo;
      this.hi = next.hi;
      if (this.phase === GamePhase.Graph) this.graphRounds++;
      else this.vmRounds++;
    }
    this.clocks = [
      { ...this.clocks[0], runningSince: now },
      { ...this.clocks[1], runningSince: now },
    ];
    this.startRoundOrFinishPhase(now);
  }

  /** After the range changed: a new round, or the end of the phase. */
  private startRoundOrFinishPhase(now: bigint): void {
    if (this.hi > this.lo + 1n) {
      this.points = roundPoints(this.lo, this.hi, this.phase === GamePhase.Graph ? this.params.graphWidthBits : this.params.vmWidthBits);
      return;
    }
    this.points = [];
    if (this.phase === GamePhase.Graph) {
      // §5.3: the game binds the phase-1 inputs itself from what was proven.
      this.vmInputs = {
        nodeIndex: this.hi,
        preState: this.agreed,
        postState: this.disputed[Side.Defender],
        localContext: this.params.localContext,
      };
      this.phase = GamePhase.VmStart;
      this.lo = 0n;
      this.hi = this.vmFinalPosition;
    } else {
      this.phase = GamePhase.Step;
      this.stepPhaseSince = now;
      this.clocks = [
        { usedSeconds: clockUsed(this.clocks[0], now), runningSince: 0n },
        { usedSeconds: clockUsed(this.clocks[1], now), runningSince: 0n },
      ];
    }
  }

  private resolve(winner: GameWinner): void {
    this.winner = winner;
    this.phase = GamePhase.Resolved;
    this.points = [];
    this.values = [undefined, undefined];
  }
}
