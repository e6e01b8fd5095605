/**
 * A real dispute game (docs/protocol.md §5) on the JSON-RPC chain: `getDispute` follows its phase,
 * round, clocks and winner, and `waitForResult` follows the request through the game to the
 * overturned, finalized output; a game both sides find undecidable reads `Undecided` and cancels the request.
 */
import { type Hex, concat, keccak256, parseEther } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTrace, traceProof } from "../../keeper/graph/state.ts";
import { tensorHashOfBytes } from "../../keeper/graph/tensor.ts";
import { fromHex, toHex } from "../../keeper/graph/hash.ts";
import { DisputeGameAbi } from "../src/abis/generated.ts";
import {
  BaseError,
  RequestCancelledError,
  type WaitForResultUpdate,
  getDispute,
  getOperator,
  getRequest,
  oaoActions,
  registerModel,
  requestInference,
  stake,
  waitForResult,
} from "../src/index.ts";
import { AIOracleAbi } from "../src/abis/generated.ts";
import { BOND, CLOCK, type Deployment, MIN_STAKE, WINDOW, challenge, claimTimeout, commit, deploy, finalize, modelParams, passTime } from "./chain.ts";

let d: Deployment;
let modelId: bigint;
const INPUT: Hex = "0x0102030405";

/** The trace `proofFor` (chain.ts) committed to for `output`: node k < n outputs keccak256(salt ‖ k), salt = keccak256(output). */
async function traceOf(requestId: bigint, output: Hex) {
  const header = await d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "getRequestHeader", args: [requestId] });
  const model = await d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "getModelCommitment", args: [header.modelId] });
  const salt = keccak256(output);
  const outs = Array.from({ length: model.nodeCount }, (_, k) =>
    k === model.nodeCount - 1 ? tensorHashOfBytes(fromHex(model.outputHeader), fromHex(output)) : fromHex(keccak256(concat([salt, toHex(new Uint8Array([k + 1])) as Hex]))),
  );
  return buildTrace(fromHex(keccak256(concat([model.inputHeader, header.inputHash]))), fromHex(model.weightsRoot), outs);
}

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (check() ? resolve() : setTimeout(poll, 20));
    poll();
  });
}

beforeAll(async () => {
  d = await deploy({ game: "real" });
  ({ modelId } = await registerModel(d.wallet(d.accounts.owner), { address: d.addresses.oracle, ...modelParams, feeReceiver: d.accounts.owner }));
  for (const who of [d.accounts.alice, d.accounts.bob, d.accounts.carol]) await stake(d.wallet(who), { address: d.addresses.staking, amount: MIN_STAKE + parseEther("50") });
});

afterAll(async () => {
  await d?.close();
});

describe("a real dispute game", () => {
  it("getDispute follows the game from its first round to the challenger's win on time", async () => {
    const { requestId } = await requestInference(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId, input: INPUT });
    const updates: WaitForResultUpdate[] = [];
    const waiting = waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, pollingInterval: 20, onUpdate: (u) => updates.push(u) });
    await commit(d, d.accounts.alice, requestId, "0x07"); // wrong, say
    await until(() => updates.some((u) => u.status === "Committed"));
    const game = await challenge(d, d.accounts.bob, requestId, "0x03");
    await until(() => updates.some((u) => u.status === "Challenged"));

    const opened = await getDispute(d.publicClient, { address: game });
    expect(opened).toMatchObject({ requestId, defenderClaimId: 1n, challengerClaimId: 2n, phase: "Graph", lo: 0n, hi: 6n, roundPoints: [3n] });
    expect(opened.nodeIndex).toBeUndefined();
    expect(opened.winner).toBeUndefined();
    expect(opened.nodeCount).toBe(6n);
    expect(opened.clockDuration).toBe(CLOCK);
    expect(opened.clocks.defender).toMatchObject({ running: true, posted: false, player: d.accounts.alice, used: 0n, remaining: CLOCK });
    expect(opened.clocks.challenger).toMatchObject({ running: true, posted: false, player: d.accounts.bob });

    // The challenger posts its state at leaf 3 with its proof; its clock stops, the defender's keeps running.
    const trace = await traceOf(requestId, "0x03");
    const hash = await d.wallet(d.accounts.bob).writeContract({
      address: game,
      abi: DisputeGameAbi,
      functionName: "moveGraph",
      args: [[toHex(trace.states[3]!) as Hex], [traceProof(trace, 3).map((p) => toHex(p) as Hex)]],
      account: d.accounts.bob,
      chain: d.publicClient.chain,
    });
    await d.publicClient.waitForTransactionReceipt({ hash });
    await passTime(d, 100n);
    const moved = await getDispute(d.publicClient, { address: game });
    expect(moved.clocks.challenger).toMatchObject({ running: false, posted: true });
    expect(moved.clocks.defender.running).toBe(true);
    expect(moved.clocks.defender.used).toBeGreaterThan(moved.clocks.challenger.used);
    expect(moved.clocks.defender.remaining).toBe(CLOCK - moved.clocks.defender.used);

    // The defender never answers: once its clock runs out, anyone claims the timeout for the challenger.
    await passTime(d, CLOCK);
    const late = await getDispute(d.publicClient, { address: game });
    expect(late.clocks.defender.remaining).toBe(0n);
    await claimTimeout(d, game);
    await until(() => updates.some((u) => u.output === "0x03"));
    const over = await d.publicClient.extend(oaoActions({ addresses: { oracle: d.addresses.oracle } })).getDispute({ address: game });
    expect(over.phase).toBe("Resolved");
    expect(over.winner).toBe("Challenger");
    expect(over.clocks.defender.running).toBe(false);

    await passTime(d, WINDOW + 1n);
    await finalize(d, requestId);
    const result = await waiting;
    expect(result.output).toBe("0x03");
    expect(updates.map((u) => `${u.status}:${u.output}`)).toEqual(["Requested:0x", "Committed:0x07", "Challenged:0x07", "Committed:0x03", "Delivered:0x03"]);
    const loser = await getOperator(d.publicClient, { address: d.addresses.staking, operator: d.accounts.alice });
    expect(loser.active).toBe(MIN_STAKE + parseEther("50") - BOND);
  });

  it("getDispute reads Undecided when both sides post the same unfinished final VM state, and the request is cancelled", async () => {
    const { requestId } = await requestInference(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId, input: INPUT });
    const waiting = waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, pollingInterval: 20 }).catch((e: unknown) => e);
    await commit(d, d.accounts.bob, requestId, "0x07");
    const game = await challenge(d, d.accounts.carol, requestId, "0x03");
    const traces = { [d.accounts.bob]: await traceOf(requestId, "0x07"), [d.accounts.carol]: await traceOf(requestId, "0x03") };
    const play = async (from: typeof d.accounts.bob, functionName: "moveGraph" | "postFinalVmState", args: readonly unknown[]) => {
      const hash = await d.wallet(from).writeContract({ address: game, abi: DisputeGameAbi, functionName, args: args as never, account: from, chain: d.publicClient.chain });
      await d.publicClient.waitForTransactionReceipt({ hash });
    };
    // Phase 2: both reveal their committed states at each round's points until one node is left.
    for (let round = 0; (await getDispute(d.publicClient, { address: game })).phase === "Graph"; round++) {
      expect(round).toBeLessThan(6);
      const { roundPoints } = await getDispute(d.publicClient, { address: game });
      for (const who of [d.accounts.bob, d.accounts.carol]) {
        const trace = traces[who]!;
        await play(who, "moveGraph", [
          roundPoints.map((p) => toHex(trace.states[Number(p)]!) as Hex),
          roundPoints.map((p) => traceProof(trace, Number(p)).map((x) => toHex(x) as Hex)),
        ]);
      }
    }
    expect((await getDispute(d.publicClient, { address: game })).phase).toBe("VmStart");
    // Status byte 3 (UNFINISHED): neither side's guest decided the node by step T.
    const unfinished = `0x03${"5a".repeat(31)}` as Hex;
    await play(d.accounts.bob, "postFinalVmState", [unfinished]);
    await play(d.accounts.carol, "postFinalVmState", [unfinished]);

    const over = await getDispute(d.publicClient, { address: game });
    expect(over.phase).toBe("Resolved");
    expect(over.winner).toBe("Undecided");
    expect((await getRequest(d.publicClient, { address: d.addresses.oracle, requestId })).status).toBe("Cancelled");
    expect(await waiting).toBeInstanceOf(RequestCancelledError);
    // Nobody was slashed: both bonds are free again.
    for (const who of [d.accounts.bob, d.accounts.carol]) {
      const op = await getOperator(d.publicClient, { address: d.addresses.staking, operator: who });
      expect(op.locked, who).toBe(0n);
    }
  });

  it("getDispute decodes a read of something that is not a game into an SDK error", async () => {
    const err = await getDispute(d.publicClient, { address: d.addresses.oracle }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaseError);
    expect((err as BaseError).shortMessage).toContain("getDispute");
  });
});
