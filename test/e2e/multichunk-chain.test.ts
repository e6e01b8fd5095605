/**
 * A request input of two chunks end to end on Hardhat's chain (docs/protocol.md §1.3, §3.2, §3.4): an image model
 * taking int8 [1, 3, 48, 48] (6912 bytes; keeper/graph/fixtures.ts multiChunkImageSpec) registered, a request with
 * a 6912-byte input answered by the keeper service (the chain stores the input's chunk root, State_0 is built from
 * header ‖ chunkRoot), then a cheater lying about node 1 — the Conv2D that reads the input — loses the real
 * two-phase game down to one MIPS step of the guest's check of that node, fed both chunks by the preimage oracle.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEventLogs, zeroAddress, type Hex } from "viem";
import { buildModel, CHUNK_BYTES, chunkRoot, encodeModelFile, encodeTensor, Executor, int8Tensor, keccak, tensorHash, toHex } from "../../keeper/graph/index.ts";
import { multiChunkImageSpec, seededRandom } from "../../keeper/graph/fixtures.ts";
import { parseFault } from "../../keeper/game/faults.ts";
import { createLocalWorld, type LocalWorld } from "../../keeper/src/demo/world.ts";
import { closeParties, createParties, playUntilFinal } from "../../keeper/src/demo/scenario.ts";

const model = buildModel(multiChunkImageSpec());
const dir = mkdtempSync(join(tmpdir(), "oao-multichunk-model-"));
const modelFile = join(dir, "model.oao");
writeFileSync(modelFile, encodeModelFile(model));

function image(seed: number) {
  const rand = seededRandom(seed);
  const t = int8Tensor([1, 3, 48, 48], Array.from({ length: 6912 }, () => Math.floor(rand() * 256) - 128));
  return { tensor: t, bytes: encodeTensor(t), output: toHex(encodeTensor(new Executor(model).run(t).output)) as Hex };
}

describe("a two-chunk request input on chain: registered, answered, disputed down to the MIPS step", { timeout: 900_000 }, () => {
  let world: LocalWorld;
  let modelId: bigint;
  let parties: Awaited<ReturnType<typeof createParties>>;

  beforeAll(async () => {
    world = await createLocalWorld();
    modelId = await world.registerModel(model);
    parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("graph:1"), seed: 4 });
  });
  afterAll(() => {
    if (parties) closeParties(parties);
  });

  async function request(bytes: Uint8Array): Promise<bigint> {
    const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
    const hash = await world.contracts.aiOracle.write.requestCallback([modelId, toHex(bytes) as Hex, zeroAddress, 0n, "0x"], { value: fee });
    await world.publicClient.waitForTransactionReceipt({ hash });
    return world.contracts.aiOracle.read.requestCount();
  }

  it("registers with inputBytes 6912 (two chunks, above the one-chunk limit of before)", async () => {
    const m = await world.contracts.aiOracle.read.getModel([modelId]);
    expect(m.inputBytes).toBe(6912);
    expect(m.inputBytes).toBeGreaterThan(CHUNK_BYTES);
    expect(m.modelRoot).toBe(toHex(model.modelRoot));
  });

  it("a 6912-byte request: the chain stores its chunk root and the honest keeper's claim on it finalizes", async () => {
    const x = image(11);
    const id = await request(x.bytes);
    const header = await world.contracts.aiOracle.read.getRequestHeader([id]);
    expect(header.inputLength).toBe(6912);
    expect(header.inputHash).toBe(toHex(chunkRoot(x.bytes)));
    expect(header.inputHash).not.toBe(toHex(keccak(x.bytes)));
    // only the honest keeper runs: it commits, then finalizes after the window
    for (let tick = 0; tick < 40 && !(await world.contracts.aiOracle.read.isFinalized([id])); tick++) {
      const before = await world.publicClient.getBlockNumber();
      await parties.honest.keeper.tick();
      if ((await world.publicClient.getBlockNumber()) === before) await world.advanceTime(world.game.clockDuration + 1n);
    }
    expect(await world.contracts.aiOracle.read.isFinalized([id])).toBe(true);
    const [output] = await world.contracts.aiOracle.read.getResult([id]);
    expect(output).toBe(x.output);
    // the claim's State_0 (leaf 0 of its traceRoot, checked at commit) is of tensorHash(input) = header ‖ chunkRoot
    const run = new Executor(model).run(x.tensor);
    expect(run.inputHash).toEqual(tensorHash(x.tensor));
    const ours = parties.honest.runtime.store.listClaims(id).find((c) => c.ours);
    expect(ours?.traceRoot).toBe(toHex(run.trace.traceRoot));
  });

  it("a cheater lying about node 1 (the Conv2D reading both chunks) loses the game to the honest keeper at one MIPS step", async () => {
    const x = image(12);
    const id = await request(x.bytes);
    const result = await playUntilFinal(world, parties, [id]);
    expect(result.winner).toBe("honest");
    expect(result.cheaterSlashed).toBe(await world.contracts.taskManager.read.claimBond());
    expect(result.graphRounds).toBeGreaterThan(0);
    expect(result.vmRounds).toBeGreaterThan(0); // decided by the real MIPS step in node 1's check
    expect(result.games).toHaveLength(1);
    const g = await world.conn.viem.getContractAt("DisputeGame", result.games[0]!);
    expect(await g.read.nodeIndex()).toBe(1n); // phase 2 ended at the node that reads the input
    const stepped = parseEventLogs({ abi: g.abi, eventName: "GameStepped", logs: await world.publicClient.getLogs({ address: g.address, fromBlock: 0n }) });
    expect(stepped).toHaveLength(1); // one MIPS instruction executed on chain decided it
    expect(await world.contracts.aiOracle.read.isFinalized([id])).toBe(true);
    const [output] = await world.contracts.aiOracle.read.getResult([id]);
    expect(output).toBe(x.output);
  });
});
