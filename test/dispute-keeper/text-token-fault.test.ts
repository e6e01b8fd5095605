/**
 * The `token:K` fault on a text-generation model (keeper/game/faults.ts): the cheater changes one
 * generated token to the model's runner-up and computes the rest of the generation honestly from it,
 * so its text is a plausible other continuation, not noise. The dispute must still narrow to exactly
 * that token's ArgMax node and the honest side must win there, for a token at the start, in the
 * middle and at the end of the generation.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseFault, resolveScenario, runnerUpToken, tokenNode } from "../../keeper/game/faults.ts";
import { simulateOffline } from "../../keeper/game/simulate.ts";
import { generationSpec, greedyByFullPasses } from "../../keeper/graph/onnx/generate.ts";
import { importOnnx } from "../../keeper/graph/onnx/import.ts";
import { loadLmFixture } from "../../keeper/graph/onnx/pytorch-fixtures.ts";
import { buildModel } from "../../keeper/graph/model.ts";
import { Executor } from "../../keeper/graph/executor.ts";
import { Op } from "../../keeper/graph/ops.ts";
import { int8Tensor } from "../../keeper/graph/tensor.ts";

const ELF = new Uint8Array(readFileSync(fileURLToPath(new URL("../../keeper/guest/build/oao_node.elf", import.meta.url))));
const T = 8;

function fixture() {
  const fx = loadLmFixture("char_gpt");
  const full = buildModel(importOnnx(new Uint8Array(readFileSync(fx.files.get(17)!)), fx.calibration, { name: "char_gpt", report: false }).spec);
  const model = buildModel(generationSpec(full, T).spec);
  const prompt = Int8Array.from(fx.heldout[0]!.slice(0, 24));
  return { full, model, input: int8Tensor([prompt.length], prompt) };
}

describe("token:K — one altered token, the rest of the text computed from it", () => {
  const { full, model, input } = fixture();
  const exec = new Executor(model);
  const honest = exec.run(input);
  const bytes = (t: { data: ArrayLike<number> }) => Array.from(t.data, (v) => v & 0xff);

  it("finds each token's ArgMax node and refuses what is not a generated token", () => {
    for (let k = 0; k < T; k++) expect(model.nodes[tokenNode(model, k) - 1]!.op).toBe(Op.ArgMax);
    expect(() => tokenNode(model, T)).toThrow(/generates tokens 0\.\.7/);
    expect(() => parseFault("token")).toThrow(/needs a position/);
  });

  it("the cheater's text equals the honest one before K, has the runner-up at K, and is the model's own continuation after it", () => {
    const K = 3;
    const node = tokenNode(model, K);
    const lie = exec.run(input, runnerUpToken(model, node, (k) => honest.nodeOutputs[k - 1]));
    const h = bytes(honest.output), c = bytes(lie.output);
    expect(c.slice(0, K)).toEqual(h.slice(0, K));
    expect(c[K]).not.toBe(h[K]);
    // every node before the token's is the honest one: the claim is wrong from that node on, not earlier
    for (let k = 1; k < node; k++) expect(bytes(lie.nodeOutputs[k - 1]!), `node ${k}`).toEqual(bytes(honest.nodeOutputs[k - 1]!));
    // the runner-up is the largest other logit of the row the ArgMax reads
    const row = lie.nodeOutputs[node - 2]!;
    const r = Array.from(row.data);
    const best = h[K]!;
    const alt = c[K]!;
    expect(r.every((v, j) => j === best || v <= r[alt]!)).toBe(true);
    // after K the text is what the model itself generates (full forward passes) from the prompt and the altered prefix
    const prefix = Uint8Array.from([...Array.from(input.data, (v) => v & 0xff), ...c.slice(0, K + 1)]);
    expect(Array.from(greedyByFullPasses(new Executor(full), prefix, T - K - 1))).toEqual(c.slice(K + 1));
  });

  for (const K of [0, 4, T - 1]) {
    it(`token:${K}: the dispute narrows to that token's ArgMax node and the honest challenger wins`, () => {
      const r = simulateOffline({ model, input, elf: ELF, fault: parseFault(`token:${K}`), seed: 1, executor: exec });
      expect(r.winner).toBe("honest");
      expect(r.honestSide).toBe("challenger");
      expect(r.nodeIndex).toBe(BigInt(tokenNode(model, K)));
      expect(resolveScenario(parseFault(`token:${K}`), model.nodes.length, 1, 1n << 32n, model).graphLieFrom).toBe(tokenNode(model, K));
    });
  }
});
