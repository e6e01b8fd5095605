/**
 * The one MIPS step that decides a game reads the second chunk of a request input (docs/protocol.md §3.4, §4.5):
 * on Hardhat's chain with the real game, MIPS and preimage oracle, an image model taking int8 [1, 3, 48, 48]
 * (6912 bytes, two chunks; keeper/graph/fixtures.ts multiChunkImageSpec) is registered beside MNIST, a cheating
 * defender lies about node 1 (the Conv2D that reads the input), phase 2 ends at node 1, and the cheater follows the
 * honest VM trace until the guest's first read of the input's second chunk. That step runs on chain against the
 * 2816-byte chunk loaded into the preimage oracle under its keccak key, and the honest challenger wins.
 */
import { describe, expect, it } from "vitest";
import { parseEther, parseEventLogs, zeroAddress } from "viem";
import { buildModel, CHUNK_BYTES, encodeTensor, Executor, int8Tensor, tensorHash, toHex } from "../../keeper/graph/index.ts";
import { buildTrace } from "../../keeper/graph/state.ts";
import { keccakKey } from "../../keeper/graph/preimages.ts";
import { multiChunkImageSpec, seededRandom } from "../../keeper/graph/fixtures.ts";
import { traceWitnesses, type StepWitness } from "../../keeper/vm/index.ts";
import { deployProtocol, GUEST_ELF, hx, Phase, Side, BOND, STAKE, VM_TRACE_DEPTH } from "./chain.ts";
import { gameAt, playGraph, playVm, postClaim, stepGame, vmTraceFor, type Claimant, type Gas } from "./play.ts";

const model = buildModel(multiChunkImageSpec());

describe("a game decided by a step reading a request input's second chunk", () => {
  it("cheating defender on node 1 of a 6912-byte input: the step reads chunk 2 from the preimage oracle, the honest challenger wins", async () => {
    const p = await deployProtocol();
    const { alice, bob, dave } = p.wallets;
    const gas: Gas = {};
    await p.wait(
      await p.oracle.write.registerModel([
        { descriptor: hx(model.descriptor), absolutePrestate: p.absolutePrestate, fee: parseEther("0.01"), feeReceiver: zeroAddress, feeShareBps: 0, metadataURI: "image" },
      ]),
    );
    const modelId = await p.oracle.read.modelCount();
    expect((await p.oracle.read.getModel([modelId])).inputBytes).toBe(6912);

    const rand = seededRandom(21);
    const input = int8Tensor([1, 3, 48, 48], Array.from({ length: 6912 }, () => Math.floor(rand() * 256) - 128));
    const inputBytes = encodeTensor(input);
    const run = new Executor(model).run(input);
    const tampered = run.nodeOutputs.map((t) => {
      const data = t.data.slice() as typeof t.data;
      data[0] = data[0] === 5 ? 6 : 5; // every node from node 1 on is wrong
      return { ...t, data } as typeof t;
    });
    const cheatTrace = buildTrace(run.inputHash, model.weightsRoot, tampered.map(tensorHash));
    const honest: Claimant = { wallet: alice, output: encodeTensor(run.output), trace: run.trace, honest: true };
    const cheater: Claimant = { wallet: bob, output: encodeTensor(tampered[tampered.length - 1]!), trace: cheatTrace, honest: false };

    const fee = await p.oracle.read.estimateFee([modelId, 0n]);
    await p.wait(await p.oracle.write.requestCallback([modelId, hx(inputBytes), zeroAddress, 0n, "0x"], { account: p.wallets.user.account, value: fee }));
    const requestId = await p.oracle.read.requestCount();
    await postClaim(p, "commit", requestId, cheater, gas);
    const receipt = await postClaim(p, "challenge", requestId, honest, gas);
    const [created] = parseEventLogs({ abi: p.tm.abi, logs: receipt.logs, eventName: "ClaimChallenged" });
    const gameAddress = created!.args.game;
    const game = await gameAt(p, gameAddress);
    // State_0 is the chain's own, from header ‖ chunkRoot: the keeper's equals it
    expect(await game.read.agreedValue()).toBe(hx(run.trace.states[0]!));

    await playGraph(p, game, [cheater, honest], gas);
    expect(await game.read.phase()).toBe(Phase.VmStart);
    expect(Number(await game.read.nodeIndex())).toBe(1);

    const localContext = await game.read.localContext();
    const vm = vmTraceFor({ ...p, model }, gameAddress, { input, run }, 1, cheater.trace.states[1]!, localContext);
    const final = vm.trace.run(1 << VM_TRACE_DEPTH);
    expect(final.exited).toBe(true);
    expect(final.exitCode).toBe(1); // the defender's State_1 is wrong

    // The guest's first read of a part of the input's second chunk (bytes 4096..6911).
    const secondChunk = inputBytes.subarray(CHUNK_BYTES);
    expect(secondChunk.length).toBe(2816);
    const key = toHex(keccakKey(secondChunk));
    let read: StepWitness | undefined;
    for (const w of traceWitnesses(GUEST_ELF, vm.source, { to: 1 << VM_TRACE_DEPTH })) {
      if (w.preimage !== undefined && toHex(w.preimage.key) === key) {
        read = w;
        break;
      }
    }
    if (read === undefined) throw new Error("the guest never read the input's second chunk");
    expect(toHex(read.preimage!.data)).toBe(toHex(secondChunk));

    await playVm(p, game, [cheater, honest], vm.trace, read.step + 1, gas);
    expect(await game.read.phase()).toBe(Phase.Step);
    expect(await game.read.range()).toEqual([BigInt(read.step), BigInt(read.step + 1)]);

    // The step, by a third party: the chunk is loaded into the preimage oracle first (anyone may), then read on chain.
    const w = vm.trace.witness(read.step);
    expect(w.preStateHash).toBe(await game.read.agreedValue());
    expect(toHex(w.preimage!.key)).toBe(key);
    const stepReceipt = await stepGame(p, game, w, dave, gas);
    const [stepped] = parseEventLogs({ abi: game.abi, logs: stepReceipt.logs, eventName: "GameStepped" });
    expect(stepped!.args.postState).toBe(w.postStateHash);
    const [part] = await p.preimageOracle.read.readPreimage([hx(w.preimage!.oracleKey), BigInt(w.preimage!.offset)]);
    expect(part).toBe(hx(w.preimage!.part));

    expect(await game.read.phase()).toBe(Phase.Resolved);
    expect(await game.read.winner()).toBe(Side.Challenger);
    const slashed = await p.staking.read.getAccount([bob.account.address]);
    expect(slashed.active).toBe(STAKE - BOND);
    const task = await p.tm.read.getTask([requestId]);
    expect((await p.tm.read.getClaim([task.standingClaimId])).operator.toLowerCase()).toBe(alice.account.address.toLowerCase());
  });
});
