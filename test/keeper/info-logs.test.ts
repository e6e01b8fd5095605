/**
 * At `info`, a keeper logs what it does on chain (docs/operator-guide.md §3): commits, challenges, the game it
 * opens and every move, the game's end, finalizations and withdrawals (the ~5 s run of a graph:2 fault). A cheater's wrong answer to one MNIST
 * request, challenged and disputed to the end on the in-process chain with the real game.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type Hex } from "viem";
import { encodeTensor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { parseFault } from "../../keeper/game/faults.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { createLogger } from "../../keeper/src/service/logger.ts";
import { createLocalWorld } from "../../keeper/src/demo/world.ts";
import { closeParties, createParties, playUntilFinal } from "../../keeper/src/demo/scenario.ts";

interface Line {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function capture(into: Line[]) {
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const text of String(chunk).split("\n")) if (text.trim()) into.push(JSON.parse(text) as Line);
      done();
    },
  });
  return createLogger({ level: "info", destination });
}

describe("keeper logs at info", () => {
  it("commits, challenges, game moves, the outcome, finalizations and withdrawals", { timeout: 300_000 }, async () => {
    const world = await createLocalWorld();
    const modelFile = resolveModelPath("mnist");
    const model = loadModelFile(modelFile);
    const modelId = await world.registerModel(model);
    const logs = { honest: [] as Line[], cheater: [] as Line[] };
    const parties = await createParties(world, {
      model,
      modelId,
      modelFile,
      fault: parseFault("graph:2"),
      seed: 7,
      logFor: (name) => capture(logs[name]),
      claimEvery: 1,
    });
    try {
      const classifier = await world.conn.viem.deployContract("DigitClassifier", [world.addresses.aiOracle, modelId]);
      const sample = loadMnist().test[0]!;
      const image = toHex(encodeTensor(quantizeInput(model, Array.from(sample.pixels)))) as Hex;
      await world.publicClient.waitForTransactionReceipt({ hash: await classifier.write.classify([image], { value: await classifier.read.fee() }) });
      const result = await playUntilFinal(world, parties, [await world.contracts.aiOracle.read.requestCount()]);
      expect(result.winner).toBe("honest");
      // A few more ticks: the winner withdraws its fee credit.
      for (let i = 0; i < 3; i++) await parties.honest.keeper.tick();

      const messages = (lines: Line[]) => lines.filter((l) => l.level >= 30).map((l) => l.msg);
      const honest = messages(logs.honest);
      const cheater = messages(logs.cheater);
      expect(cheater).toContain("committed a result");
      expect(honest).toContain("challenged a wrong claim");
      expect(honest).toContain("dispute game opened: playing the challenger");
      expect(cheater).toContain("dispute game opened: playing the defender");
      expect(honest.filter((m) => m === "dispute move").length).toBeGreaterThan(2);
      expect(honest).toContain("dispute over");
      // Anyone may finalize; whichever keeper's tick came first after the window did it.
      expect([...honest, ...cheater]).toContain("finalized a claim");
      expect(honest).toContain("withdrew oracle credit (fees, wei)");
      // Slash shares are transferred at once (credited, then `claimed staking rewards`, only if the transfer fails).
      const move = logs.honest.find((l) => l.msg === "dispute move")!;
      expect(move).toMatchObject({ side: "challenger", phase: expect.any(String), game: expect.stringMatching(/^0x/) });
    } finally {
      closeParties(parties);
    }
  });
});
