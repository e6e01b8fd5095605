/**
 * Gas of GraphCommitments' claim check (§3.5) and State_0, through the test harness
 * (`npm run build && tsx scripts/bench-graph-gas.ts`), for docs/benchmarks.md.
 */
import { network } from "hardhat";
import { readFileSync } from "node:fs";
import { toHex } from "../keeper/graph/hash.ts";
import { decodeModelFile } from "../keeper/graph/model.ts";
import { Executor } from "../keeper/graph/executor.ts";
import { claimProof, buildTrace } from "../keeper/graph/state.ts";
import { tensorHash } from "../keeper/graph/tensor.ts";
import { loadMnist } from "../keeper/graph/train/mnist-data.ts";
import { quantizeInput } from "../keeper/graph/quant.ts";
import { keccak } from "../keeper/graph/hash.ts";

const { viem } = await network.create();
const lib = await viem.deployContract("GraphCommitmentsHarness");
const model = decodeModelFile(new Uint8Array(readFileSync(new URL("../keeper/models/mnist/model.oao", import.meta.url))));
const input = quantizeInput(model, Array.from(loadMnist().test[0]!.pixels));
const res = new Executor(model).run(input);
const row = async (label: string, n: number, trace: ReturnType<typeof buildTrace>, inputHash: Uint8Array, outputHash: Uint8Array) => {
  const p = claimProof(trace);
  const proof = { traceRoot: toHex(p.traceRoot), leaf0Proof: p.leaf0Proof.map(toHex), finalNodesRoot: toHex(p.finalNodesRoot), outputProof: p.outputProof.map(toHex), leafNProof: p.leafNProof.map(toHex) };
  const gas = await lib.read.verifyClaimGas([toHex(inputHash), toHex(model.weightsRoot), BigInt(n), toHex(outputHash), proof]);
  console.log(`${label}: verifyClaim ${gas} gas`);
};
await row("MNIST (n = 3)", 3, res.trace, res.inputHash, tensorHash(res.output));
for (const n of [16, 100, 1000]) {
  const outs = Array.from({ length: n }, (_, i) => keccak(new Uint8Array([i & 255, i >> 8])));
  await row(`n = ${n}`, n, buildTrace(res.inputHash, model.weightsRoot, outs), res.inputHash, outs[n - 1]!);
}
