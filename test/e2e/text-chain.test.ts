/**
 * Text models end to end on Hardhat's chain (docs/protocol.md §1.4, §1.7, §3.3, §3.4): a hand-built text model
 * (keeper/graph/fixtures.ts nextLetterTextSpec, descriptor version 2 with inputMode 1) registered, ORA's Prompt-style
 * consumer (contracts/examples/OAOPromptConsumer.sol) asking with prompts of 1, 5 and C bytes, the keeper service
 * answering with the int8 [L] prompt as its input tensor, the consumer storing the text trimmed at the first 0x00;
 * then a cheater that alters one output byte (fault graph:n) loses the real two-phase game (MIPS step) to the honest
 * keeper, and the consumer ends with the honest text.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEventLogs, type Address } from "viem";
import { buildModel, encodeModelFile, toHex } from "../../keeper/graph/index.ts";
import { nextLetterText, nextLetterTextSpec } from "../../keeper/graph/fixtures.ts";
import { parseFault } from "../../keeper/game/faults.ts";
import { createLocalWorld, type LocalWorld } from "../../keeper/src/demo/world.ts";
import { closeParties, createParties, playUntilFinal } from "../../keeper/src/demo/scenario.ts";

const C = 16;
const T = 6;
const model = buildModel(nextLetterTextSpec(C, T));
const dir = mkdtempSync(join(tmpdir(), "oao-text-model-"));
const modelFile = join(dir, "model.oao");
writeFileSync(modelFile, encodeModelFile(model));
const utf8 = (s: string) => new TextEncoder().encode(s);
/** The text the consumer should store: the model's bytes before the first 0x00. */
const textOf = (prompt: string) => {
  const bytes = nextLetterText(utf8(prompt), C, T);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
};

describe("a text model on chain: prompts of 1..C bytes, the keeper answers, the consumer stores the trimmed text", { timeout: 600_000 }, () => {
  let world: LocalWorld;
  let modelId: bigint;
  let consumer: Address;
  let parties: Awaited<ReturnType<typeof createParties>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let prompt: any;

  beforeAll(async () => {
    world = await createLocalWorld();
    modelId = await world.registerModel(model);
    const c = await world.conn.viem.deployContract("OAOPromptConsumer", [world.addresses.aiOracle]);
    consumer = c.address;
    prompt = c;
    parties = await createParties(world, { model, modelId, modelFile, fault: parseFault(`graph:${model.nodes.length}`), seed: 3 });
  });
  afterAll(() => {
    if (parties) closeParties(parties);
  });

  async function ask(text: string): Promise<bigint> {
    const fee = (await prompt.read.estimateFee([modelId])) as bigint;
    const hash = await prompt.write.calculateAIResult([modelId, text], { value: fee });
    await world.publicClient.waitForTransactionReceipt({ hash });
    return world.contracts.aiOracle.read.requestCount();
  }

  /** The outputs the consumer's PromptsUpdated events carried for a request, in order. */
  async function updates(requestId: bigint): Promise<string[]> {
    const logs = await world.publicClient.getLogs({ address: consumer, fromBlock: 0n });
    return parseEventLogs({ abi: prompt.abi, eventName: "PromptsUpdated", logs })
      .map((l) => l.args as unknown as { requestId: bigint; output: string })
      .filter((a) => a.requestId === requestId)
      .map((a) => a.output);
  }

  it("registers as a version-2 text model whose input header is the maximum, int8 [C]", async () => {
    const m = await world.contracts.aiOracle.read.getModel([modelId]);
    expect(m.inputMode).toBe(1);
    expect(m.inputBytes).toBe(C);
    expect(m.modelRoot).toBe(toHex(model.modelRoot));
  });

  it("prompts of 1, 5 and C bytes: the honest keeper commits on int8 [L], the consumer stores the text up to the first 0x00", async () => {
    const prompts = ["a", "hello", "abcdefghijklmnop"];
    expect(prompts.map((p) => p.length)).toEqual([1, 5, C]);
    expect(prompts.map(textOf)).toEqual(["bcdefg", "pqrstu", ""]); // all T bytes; all T; none (no room after C)
    const ids: bigint[] = [];
    for (const p of prompts) ids.push(await ask(p));
    for (const [i, id] of ids.entries()) {
      const r = await world.contracts.aiOracle.read.getRequest([id]);
      expect(r.inputLength).toBe(prompts[i]!.length);
      expect(r.textModel).toBe(true);
    }
    // only the honest keeper runs: it commits (AtCommit delivers), then finalizes after the window
    for (let tick = 0; tick < 40; tick++) {
      const before = await world.publicClient.getBlockNumber();
      await parties.honest.keeper.tick();
      const final = await Promise.all(ids.map((id) => world.contracts.aiOracle.read.isFinalized([id])));
      if (final.every(Boolean)) break;
      if ((await world.publicClient.getBlockNumber()) === before) await world.advanceTime(world.game.clockDuration + 1n);
    }
    for (const [i, id] of ids.entries()) {
      expect(await world.contracts.aiOracle.read.isFinalized([id]), `request ${id}`).toBe(true);
      const want = textOf(prompts[i]!);
      expect(await prompt.read.getAIResult([modelId, prompts[i]!])).toBe(want);
      expect(await updates(id)).toEqual([want]);
      // the claim keeps all T bytes
      const [output] = await world.contracts.aiOracle.read.getResult([id]);
      expect(output).toBe(toHex(nextLetterText(utf8(prompts[i]!), C, T)));
      expect((await world.contracts.aiOracle.read.getResult([id]))[0].length).toBe(2 + 2 * T);
    }
  });

  it("a cheater that alters one output byte loses the game to the honest keeper; the consumer ends with the honest text", async () => {
    const text = "hello";
    const id = await ask(text);
    const result = await playUntilFinal(world, parties, [id]);
    expect(result.winner).toBe("honest");
    expect(result.cheaterSlashed).toBe(await world.contracts.taskManager.read.claimBond());
    expect(result.vmRounds).toBeGreaterThan(0); // decided by the real MIPS step on node n (Emit)
    const honestClaim = parties.honest.runtime.store.listClaims(id).find((c) => c.ours);
    expect(await world.contracts.aiOracle.read.getOutputHash([id])).toBe(honestClaim?.outputHash);
    expect(await world.contracts.aiOracle.read.isFinalized([id])).toBe(true);
    const [output] = await world.contracts.aiOracle.read.getResult([id]);
    expect(output).toBe(toHex(nextLetterText(utf8(text), C, T)));
    // the cheater's text was delivered at its commit, then the honest one once its claim stood
    const seen = await updates(id);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[0]).not.toBe(textOf(text));
    expect(seen.at(-1)).toBe(textOf(text));
    expect(await prompt.read.getAIResult([modelId, text])).toBe(textOf(text));
  });
});


