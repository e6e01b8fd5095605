/**
 * Both parties post in the same block (1 s blocks make it the common case): each estimated its post while neither had
 * posted, so the one mined second runs the round's closing path (the narrowing, a new round or the next phase), which
 * costs more than its estimate. On Hardhat's in-process chain with the real game (the dev world, an honest keeper and
 * a `graph:2` cheater through the service): automine is switched off while a round is open and both keepers tick at
 * once; the block holding both posts must have no reverted transaction (a move's gas limit has room for the closing
 * path: `MOVE_GAS_HEADROOM`, keeper/src/dispute/client.ts).
 */
import { describe, expect, it } from "vitest";
import type { Hex } from "viem";
import { parseFault } from "../../keeper/game/faults.ts";
import { encodeTensor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { createLocalWorld } from "../../keeper/src/demo/world.ts";
import { closeParties, createParties } from "../../keeper/src/demo/scenario.ts";
import type { DisputeProgress } from "../../keeper/src/dispute/player.ts";

describe("dispute moves posted in the same block", () => {
  it("the post mined second runs the round's closing path within its gas limit: no move reverts", { timeout: 300_000 }, async () => {
    const world = await createLocalWorld();
    const modelFile = resolveModelPath("mnist");
    const model = loadModelFile(modelFile);
    const modelId = await world.registerModel(model);
    const parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("graph:2"), seed: 7 });
    const provider = world.conn.provider;
    try {
      const { honest, cheater } = parties;
      const image = toHex(encodeTensor(quantizeInput(model, Array.from(loadMnist().test[0]!.pixels)))) as Hex;
      await world.contracts.aiOracle.write.requestCallback([modelId, image, "0x0000000000000000000000000000000000000000", 0n, "0x"], {
        value: await world.contracts.aiOracle.read.estimateFee([modelId, 0n]),
      });
      const gameOf = () => honest.runtime.store.listGames<DisputeProgress>()[0]?.state.address;
      // Until the game is open (the cheater commits, the honest keeper challenges).
      for (let t = 0; t < 20 && gameOf() === undefined; t++) {
        await cheater.keeper.tick().catch(() => {});
        await honest.keeper.tick().catch(() => {});
      }
      const address = gameOf()!;
      expect(address).toBeDefined();
      const game = await world.conn.viem.getContractAt("DisputeGame", address);
      const pending = async () => (await provider.request({ method: "eth_pendingTransactions", params: [] })) as { hash: Hex }[];
      let raced = 0;
      const reverted: string[] = [];
      for (let round = 0; round < 40 && Number(await game.read.phase()) !== 4; round++) {
        const phase = Number(await game.read.phase());
        const bothOwe = phase <= 2 && !(await game.read.hasPosted([0])) && !(await game.read.hasPosted([1]));
        if (!bothOwe) {
          // Not a round both owe (a step, or one side posted): play on as usual.
          const before = await world.publicClient.getBlockNumber();
          await cheater.keeper.tick().catch(() => {});
          await honest.keeper.tick().catch(() => {});
          if ((await world.publicClient.getBlockNumber()) === before) await world.advanceTime(world.game.clockDuration / 4n);
          continue;
        }
        // Both estimate on the same state, both transactions wait in the pool, one block mines them.
        await provider.request({ method: "evm_setAutomine", params: [false] });
        const ticks = Promise.allSettled([cheater.keeper.tick(), honest.keeper.tick()]);
        for (let i = 0; i < 400 && (await pending()).length < 2; i++) await new Promise((r) => setTimeout(r, 25));
        const both = await pending();
        await provider.request({ method: "evm_mine", params: [] });
        await provider.request({ method: "evm_setAutomine", params: [true] });
        await ticks;
        if (both.length < 2) continue;
        raced++;
        for (const tx of both) {
          const receipt = await world.publicClient.getTransactionReceipt({ hash: tx.hash });
          if (receipt.status !== "success") reverted.push(`${tx.hash} (phase ${phase}, gas used ${receipt.gasUsed})`);
        }
      }
      expect(raced).toBeGreaterThan(2);
      expect(reverted).toEqual([]);
      console.log(`move gas race: ${raced} rounds with both posts in one block, none reverted`);
    } finally {
      await provider.request({ method: "evm_setAutomine", params: [true] }).catch(() => {});
      closeParties(parties);
    }
  });
});
