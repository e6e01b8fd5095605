/**
 * Multi-chunk request inputs (docs/protocol.md §1.3, §3.2, §3.4), the chain against keeper/graph: for input lengths
 * 1..MAX_INPUT_BYTES (each chunk boundary and seeded random ones), the deployed oracle stores the input's chunk root
 * as keeper/graph computes it, and the task manager accepts a claim whose State_0 is built from keeper/graph's
 * tensorHash of the input — so the on-chain inputHash (header ‖ chunkRoot) equals the keeper's, byte for byte.
 * Also measures a request's gas at 1, 2 and 8 chunks (docs/benchmarks.md "Oracle: request gas by input size").
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type Hex, zeroAddress } from "viem";

import { CHUNK_BYTES, DType, MAX_INPUT_BYTES, chunkRoot, encodeHeader, fromHex, keccak, tensorHashOfBytes, toHex } from "../../keeper/graph/index.ts";
import { buildTrace, claimProof } from "../../keeper/graph/state.ts";
import { seededRandom } from "../../keeper/graph/fixtures.ts";
import { claimProofArg } from "../../keeper/src/service/claims.ts";
import { OUTPUT_A, createOracleWorld } from "./fixture.ts";

const w = await createOracleWorld();
const { alice, user } = w.wallets;
const rand = seededRandom(14);

/** Input bytes with no zero byte (the costlier calldata), seeded. */
function inputOf(len: number): Uint8Array {
  return Uint8Array.from({ length: len }, () => 1 + Math.floor(rand() * 255));
}

/** Registers a 6-node model of input int8 [len], requests it with `input`; returns the request id and its gas. */
async function requestOf(input: Uint8Array) {
  const modelId = await w.registerModelWithOutput(1, input.length);
  const fee = await w.aiOracle.read.estimateFee([modelId, 0n]);
  const receipt = await w.send(w.aiOracle.write.requestCallback([modelId, toHex(input) as Hex, zeroAddress, 0n, "0x"], { account: user.account, value: fee }));
  return { modelId, id: await w.aiOracle.read.requestCount(), gas: receipt.gasUsed };
}

describe("multi-chunk request inputs: the chain's input hash is keeper/graph's", () => {
  beforeAll(() => w.reset());

  it("the limit is one number on both sides: 8 chunks", () => {
    expect(MAX_INPUT_BYTES).toBe(8 * CHUNK_BYTES);
  });

  it("for lengths 1..MAX_INPUT_BYTES the stored chunk root and the claim's State_0 match keeper/graph", async () => {
    const lengths = [1, 2, 4095, 4096, 4097, 6912, 8191, 8192, 8193, 12289, 16385, 32767, MAX_INPUT_BYTES];
    for (let i = 0; i < 6; i++) lengths.push(1 + Math.floor(rand() * MAX_INPUT_BYTES));
    for (const len of lengths) {
      await w.reset(); // each commit locks a bond: start from the fixture's stakes
      const input = inputOf(len);
      const { modelId, id } = await requestOf(input);
      const header = await w.aiOracle.read.getRequestHeader([id]);
      expect(header.inputHash, `length ${len}`).toBe(toHex(chunkRoot(input)));
      if (len <= CHUNK_BYTES) expect(header.inputHash).toBe(toHex(keccak(input))); // one chunk: as before

      // A claim built by keeper/graph alone: State_0 = keccak(tensorHash(int8 [len], input) ‖ weightsRoot ‖ zero).
      const m = await w.aiOracle.read.getModelCommitment([modelId]);
      const inputHash = tensorHashOfBytes(encodeHeader(DType.int8, [len]), input);
      const outs = Array.from({ length: m.nodeCount }, (_, k) => keccak(new Uint8Array([k, len & 0xff, len >> 8])));
      outs[m.nodeCount - 1] = tensorHashOfBytes(fromHex(m.outputHeader), fromHex(OUTPUT_A));
      const proof = claimProofArg(claimProof(buildTrace(inputHash, fromHex(m.weightsRoot), outs)));
      const receipt = await w.send(w.taskManager.write.commit([id, OUTPUT_A, proof], { account: alice.account, gas: 6_500_000n }));
      expect(w.eventsNamed(receipt, "ClaimCommitted"), `length ${len}`).toHaveLength(1);
    }
  });

  it("a model input above MAX_INPUT_BYTES is refused with both values", async () => {
    await w.expectRevert(w.registerModelWithOutput(1, MAX_INPUT_BYTES + 1), "ModelInputTooLarge", [BigInt(MAX_INPUT_BYTES + 1), BigInt(MAX_INPUT_BYTES)]);
  });

  it("measures requestCallback's gas at 1, 2 and 8 chunks", async () => {
    const rows: string[] = [];
    let previous = 0n;
    for (const chunks of [1, 2, 8]) {
      const len = chunks * CHUNK_BYTES;
      const input = inputOf(len);
      const modelId = await w.registerModelWithOutput(1, len);
      const fee = await w.aiOracle.read.estimateFee([modelId, 0n]);
      const hash = await w.aiOracle.write.requestCallback([modelId, toHex(input) as Hex, zeroAddress, 0n, "0x"], { account: user.account, value: fee });
      const receipt = await w.send(Promise.resolve(hash));
      expect(receipt.gasUsed).toBeGreaterThan(previous);
      previous = receipt.gasUsed;
      // The transaction's calldata: its standard cost (EIP-2028: 4 gas per zero byte, 16 per other) and the
      // EIP-7623 floor (21000 + 10 per token, a zero byte 1 token, another 4), which a data-heavy transaction pays.
      const data = fromHex((await w.publicClient.getTransaction({ hash })).input);
      const zeros = BigInt(data.filter((b) => b === 0).length);
      const others = BigInt(data.length) - zeros;
      const floor = 21_000n + 10n * (zeros + 4n * others);
      expect(receipt.gasUsed).toBeGreaterThanOrEqual(floor);
      rows.push(`| ${chunks} | ${len} | ${receipt.gasUsed} | ${4n * zeros + 16n * others} | ${floor} |`);
    }
    console.log(["| chunks | input bytes | requestCallback gas | calldata, standard cost | calldata floor (EIP-7623) |", "|---:|---:|---:|---:|---:|", ...rows].join("\n"));
  });
});
