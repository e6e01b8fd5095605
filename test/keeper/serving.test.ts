/**
 * Which models a keeper serves (docs/protocol.md §6.0): only those it could defend in a dispute.
 * On a local world with the real dispute game, a keeper refuses, with a message naming what is wrong,
 * a model whose registered absolute prestate is not its guest program's, a model id the registry does
 * not have, and a model with a node whose guest run does not fit the game's VM trace (MNIST's first
 * Gemm takes 1,218,509 steps: it needs vmTraceDepth 21, so a depth-20 game could not decide it).
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLocalWorld, devKey } from "../../keeper/src/demo/world.ts";
import { parseKeeperConfig } from "../../keeper/src/service/config.ts";
import { createKeeperRuntime, runtimeReadiness } from "../../keeper/src/service/runtime.ts";
import { createLogger } from "../../keeper/src/service/logger.ts";
import { createMetrics } from "../../keeper/src/service/metrics.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { absolutePrestate } from "../../keeper/guest/node/vm.ts";

const model = loadModelFile(resolveModelPath("mnist"));

type Contracts = { aiOracle: `0x${string}`; taskManager: `0x${string}`; staking: `0x${string}` };

async function startKeeper(world: Awaited<ReturnType<typeof createLocalWorld>>, models: Record<string, string>, contracts?: Contracts) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const dataDir = mkdtempSync(join(tmpdir(), "oao-serving-"));
  const config = parseKeeperConfig({
    rpcUrl: "http://127.0.0.1:8545",
    contracts: contracts ?? { aiOracle: world.addresses.aiOracle, taskManager: world.addresses.taskManager, staking: world.addresses.staking },
    dataDir,
    models,
    confirmations: 0,
  });
  const rt = await createKeeperRuntime(config, devKey(1), {
    transport: world.transport,
    log: createLogger({ level: "info", destination }),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  rt.close();
  const problems = lines.filter((l) => l.msg === "model not served").map((l) => String(l.problem));
  return { served: rt.models.ids(), problems, dataDir, rt };
}

describe("the models a keeper serves", () => {
  it("refuses a wrong guest prestate and an unregistered id, serves the right one, and caches the node step counts", async () => {
    const world = await createLocalWorld();
    const good = await world.registerModel(model);
    const otherGuest = await world.registerModel(model, undefined, `0x03${"11".repeat(31)}`);
    const { served, problems, dataDir, rt } = await startKeeper(world, { [String(good)]: "mnist", [String(otherGuest)]: "mnist", "99": "mnist" });
    expect(served).toEqual([good]);
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => p.startsWith(`model ${otherGuest}:`))).toMatch(
      new RegExp(`registers absolutePrestate 0x0311.*guest program .*starts from ${absolutePrestate(rt.elf)}`),
    );
    expect(problems.find((p) => p.startsWith("model 99:"))).toMatch(/registry has no model under this id/);
    // the refusals keep /readyz not ready, naming them
    expect(runtimeReadiness(rt, { ready: true })).toEqual({ ready: false, reason: expect.stringMatching(/^model not served: model \d+: .*; model 99: /) });
    const cache = JSON.parse(readFileSync(join(dataDir, "vm-steps.json"), "utf8")) as Record<string, number[]>;
    expect(Object.values(cache)).toEqual([[1_218_509, 290_718, 281_907]]);
  });

  it("refuses a model with a node longer than the game's VM trace, naming the node, its steps and the depth it needs", async () => {
    const world = await createLocalWorld({ game: { vmTraceDepth: 20 } });
    const id = await world.registerModel(model);
    const { served, problems } = await startKeeper(world, { [String(id)]: "mnist" });
    expect(served).toEqual([]);
    expect(problems).toEqual([
      expect.stringMatching(/^model 1: node 1 \(Gemm\) runs 1218509 VM steps, more than the 1048576 steps \(2\^20\) the game's VM trace covers; it needs vmTraceDepth >= 21/),
    ]);
  });

  it("refuses to start against addresses that are not one deployment", async () => {
    const world = await createLocalWorld();
    const { aiOracle, taskManager, staking, stakeToken } = world.addresses;
    const empty = "0x000000000000000000000000000000000000dEaD";
    await expect(startKeeper(world, {}, { aiOracle, taskManager, staking: empty })).rejects.toThrow(
      new RegExp(`config.contracts.staking = ${empty} has no contract code on chain 31337`),
    );
    await expect(startKeeper(world, {}, { aiOracle, taskManager, staking: stakeToken })).rejects.toThrow(
      new RegExp(`config.contracts.staking = ${stakeToken}, but the task manager at ${taskManager} uses the staking contract ${staking}`),
    );
    await expect(startKeeper(world, {}, { aiOracle: stakeToken, taskManager, staking })).rejects.toThrow(/config.contracts.aiOracle = .* is not this protocol's aiOracle/);
    await expect(startKeeper(world, {}, { aiOracle, taskManager: staking, staking })).rejects.toThrow(/config.contracts.taskManager = .*, but the oracle at .* uses the task manager/);
    const ok = await startKeeper(world, {});
    expect(runtimeReadiness(ok.rt, { ready: true })).toEqual({ ready: true });
  });
});
