/**
 * Issue 13 "never blind" on an in-process chain: `/readyz` says why the keeper cannot do its job, and the metrics
 * say so too.
 *
 * - backlog: a request of a served model close to its deadline and not committed (its commits keep failing);
 * - tx_path: the node refusing the keeper's transactions 3 times in a row, cleared by the next send that succeeds;
 * - stake: free stake below one claim bond (no wrong claim could be challenged);
 * - a real dispute game (the dev world's real game, a cheater's wrong answer wrong from node 2): the honest keeper
 *   is killed while sending a move (its store keeps the `pending` move, the chain is still at the earlier step); the
 *   restarted keeper re-reads the game, sends the move and wins; games won/lost are counted once, from the store,
 *   and a second restart counts nothing again.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { custom, parseEther, type Hex } from "viem";
import { parseKeeperConfig } from "../../keeper/src/service/config.ts";
import { createKeeperRuntime, type KeeperRuntime } from "../../keeper/src/service/runtime.ts";
import { createLogger } from "../../keeper/src/service/logger.ts";
import { createMetrics, type KeeperMetrics } from "../../keeper/src/service/metrics.ts";
import type { DisputeProgress } from "../../keeper/src/dispute/player.ts";
import type { TxIntent } from "../../keeper/src/chain/responder.ts";
import { encodeTensor, quantizeInput, toHex } from "../../keeper/graph/index.ts";
import { parseFault } from "../../keeper/game/faults.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { createLocalWorld } from "../../keeper/src/demo/world.ts";
import { closeParties, createParties, playUntilFinal } from "../../keeper/src/demo/scenario.ts";
import { OPERATOR_KEY, keeperTestbed } from "./testbed.ts";

const metric = async (m: KeeperMetrics, name: string, labels: Record<string, string> = {}): Promise<number> => {
  const found = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const value = found?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value ?? Number.NaN;
};

describe("never blind: readiness and metrics say what keeps the keeper from its job (issue 13)", () => {
  const tb = keeperTestbed();

  /** A runtime whose transport refuses `eth_sendRawTransaction` while `refusing.on` (the node's transaction path down). */
  async function refusableRuntime(refusing: { on: boolean }): Promise<KeeperRuntime> {
    const config = parseKeeperConfig({
      rpcUrl: "http://127.0.0.1:8545", // unused: the transport talks to the in-process chain
      contracts: { aiOracle: tb.core.aiOracle.address, taskManager: tb.core.taskManager.address, staking: tb.core.staking.address },
      dataDir: mkdtempSync(join(tmpdir(), "oao-blind-")),
      models: { "1": "mnist" },
      confirmations: 0,
    });
    const transport = custom({
      request: async (args: { method: string; params?: unknown }) => {
        if (refusing.on && args.method === "eth_sendRawTransaction") {
          throw Object.assign(new Error("transaction rejected: the node's transaction pool refuses new transactions"), { code: -32003 });
        }
        return tb.conn.provider.request(args as never);
      },
    });
    return createKeeperRuntime(config, OPERATOR_KEY, { transport, log: createLogger({ level: "silent" }), metrics: createMetrics({ defaultMetrics: false }) });
  }

  it("backlog: an answerable request within deadlineMarginSeconds of its deadline, not committed, blocks until committed", async () => {
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await tb.request(20);
    const rt = await tb.runtime(mkdtempSync(join(tmpdir(), "oao-blind-backlog-")));
    let refuse = true;
    // The request timeout is an hour: a margin of a day makes it due at once.
    const keeper = tb.keeperOf(rt, {
      fromBlock,
      deadlineMarginSeconds: 86_400,
      crashBeforeSend: (intent) => {
        if (refuse && intent.kind === "commit") throw new Error("commit refused (test)");
      },
    });
    await expect(keeper.tick()).rejects.toThrow(/commit of request .* not made yet: commit refused \(test\)/);
    const r = keeper.readiness();
    expect(r.ready).toBe(false);
    expect(r.reason).toMatch(new RegExp(`backlog: 1 answerable request\\(s\\) within 86400 s of their deadline and not committed \\(request ${id}: \\d+ s left\\)`));
    expect(await metric(rt.metrics, "oao_keeper_blocked", { reason: "backlog" })).toBe(1);
    expect(await metric(rt.metrics, "oao_keeper_backlog_due_requests")).toBe(1);
    refuse = false;
    await keeper.tick();
    expect(rt.store.getRequest(id)?.status).toBe("committed");
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await metric(rt.metrics, "oao_keeper_blocked", { reason: "backlog" })).toBe(0);
    expect(await metric(rt.metrics, "oao_keeper_backlog_due_requests")).toBe(0);
    // With the default margin (300 s) an hour-long request is not due.
    const id2 = await tb.request(21);
    refuse = true;
    const relaxed = tb.keeperOf(rt, { crashBeforeSend: (intent) => {
      if (refuse && intent.kind === "commit") throw new Error("commit refused (test)");
    } });
    await expect(relaxed.tick()).rejects.toThrow(/not made yet/);
    expect(relaxed.readiness().reason).not.toMatch(/backlog/);
    refuse = false;
    await relaxed.tick();
    expect(rt.store.getRequest(id2)?.status).toBe("committed");
    rt.close();
  });

  it("tx_path: 3 consecutive sends the node refuses block readiness with the error; the next successful send clears it", async () => {
    const refusing = { on: true };
    const rt = await refusableRuntime(refusing);
    const fromBlock = await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber());
    const id = await tb.request(22);
    const keeper = tb.keeperOf(rt, { fromBlock });
    for (let i = 1; i <= 2; i++) {
      await expect(keeper.tick()).rejects.toThrow(/commit of request .* not made yet/);
      expect(keeper.readiness().reason).not.toMatch(/refuses transactions/);
      expect(await metric(rt.metrics, "oao_keeper_tx_send_failures")).toBe(i);
    }
    await expect(keeper.tick()).rejects.toThrow(/not made yet/);
    const r = keeper.readiness();
    expect(r.ready).toBe(false);
    expect(r.reason).toMatch(/the RPC refuses transactions: the last 3 sends failed \(commit: .*transaction pool refuses new transactions.*\)/);
    expect(await metric(rt.metrics, "oao_keeper_blocked", { reason: "tx_path" })).toBe(1);
    refusing.on = false;
    await keeper.tick();
    expect(rt.store.getRequest(id)?.status).toBe("committed");
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await metric(rt.metrics, "oao_keeper_blocked", { reason: "tx_path" })).toBe(0);
    expect(await metric(rt.metrics, "oao_keeper_tx_send_failures")).toBe(0);
    rt.close();
  });

  it("stake: free stake below one claim bond blocks readiness, naming free stake, bond and operator", async () => {
    const rt = await tb.runtime(mkdtempSync(join(tmpdir(), "oao-blind-stake-")));
    const keeper = tb.keeperOf(rt);
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    const me = rt.responder.address;
    const bond = await tb.core.taskManager.read.claimBond();
    const free = await tb.core.staking.read.freeStake([me]);
    expect(await metric(rt.metrics, "oao_keeper_bonds_available")).toBe(Number(free / bond));
    // Unstake all but half a bond.
    const left = bond / 2n;
    await tb.core.staking.write.requestUnstake([free - left], { account: tb.wallets[1]!.account });
    await keeper.tick();
    const r = keeper.readiness();
    expect(r.ready).toBe(false);
    expect(r.reason).toContain(`no stake for a challenge bond: free stake ${left} < bond ${bond} of operator ${me}`);
    expect(await metric(rt.metrics, "oao_keeper_blocked", { reason: "stake" })).toBe(1);
    expect(await metric(rt.metrics, "oao_keeper_bonds_available")).toBe(0);
    expect(await metric(rt.metrics, "oao_keeper_free_stake")).toBe(Number(left));
    // Staking again clears it.
    await tb.core.stakeToken.write.mint([me, parseEther("20")]);
    await tb.core.stakeToken.write.approve([tb.core.staking.address, parseEther("20")], { account: tb.wallets[1]!.account });
    await tb.core.staking.write.stake([parseEther("20")], { account: tb.wallets[1]!.account });
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await metric(rt.metrics, "oao_keeper_blocked", { reason: "stake" })).toBe(0);
    rt.close();
  });
});

describe("never blind: a real game (issue 13)", () => {
  it("killed while sending a move: the restarted keeper re-reads the game, sends it and wins; games counted once", { timeout: 300_000 }, async () => {
    const world = await createLocalWorld();
    const modelFile = resolveModelPath("mnist");
    const model = loadModelFile(modelFile);
    const modelId = await world.registerModel(model);
    const parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("graph:2"), seed: 7 });
    try {
      const sample = loadMnist().test[0]!;
      const image = toHex(encodeTensor(quantizeInput(model, Array.from(sample.pixels)))) as Hex;
      await world.contracts.aiOracle.write.requestCallback([modelId, image, "0x0000000000000000000000000000000000000000", 0n, "0x"], {
        value: await world.contracts.aiOracle.read.estimateFee([modelId, 0n]),
      });
      const id = await world.contracts.aiOracle.read.requestCount();

      // The honest keeper "dies" when it sends its final VM state: the send never returns and nothing after it runs.
      const { honest, cheater } = parties;
      const responder = honest.runtime.responder;
      const submit = responder.submit.bind(responder);
      let died: () => void = () => {};
      const death = new Promise<void>((resolve) => (died = resolve));
      let dead = false;
      (responder as { submit: (i: TxIntent) => ReturnType<typeof submit> }).submit = (intent) => {
        if (intent.kind !== "dispute.postFinalVmState") return submit(intent);
        dead = true;
        died();
        return new Promise(() => {});
      };
      for (let t = 0; t < 200 && !dead; t++) {
        const before = await world.publicClient.getBlockNumber();
        await cheater.keeper.tick().catch(() => {});
        await Promise.race([honest.keeper.tick().catch(() => {}), death]);
        if (!dead && (await world.publicClient.getBlockNumber()) === before) await world.advanceTime(world.game.clockDuration / 4n);
      }
      expect(dead).toBe(true);
      const [saved] = honest.runtime.store.listGames<DisputeProgress>("active");
      expect(saved?.state.pending).toBe("postFinalVmState");
      const game = await world.conn.viem.getContractAt("DisputeGame", saved!.state.address);
      expect(await game.read.hasPosted([1])).toBe(false); // the challenger's final state is not on chain

      // SIGKILL: the old keeper is dropped as it is; a new one opens the same database.
      const restarted = await parties.restart("honest");
      const result = await playUntilFinal(world, parties, [id]);
      expect(result.winner).toBe("honest");
      expect(restarted.runtime.store.getGame<DisputeProgress>(BigInt(saved!.state.address))?.status).toBe("won");
      expect(await metric(restarted.runtime.metrics, "oao_keeper_games_won_total")).toBe(1);
      expect(await metric(restarted.runtime.metrics, "oao_keeper_games_lost_total")).toBe(0);
      expect(await metric(parties.cheater.runtime.metrics, "oao_keeper_games_lost_total")).toBe(1);
      expect(await metric(parties.cheater.runtime.metrics, "oao_keeper_games_won_total")).toBe(0);
      await restarted.keeper.tick();
      expect(await metric(restarted.runtime.metrics, "oao_keeper_games_won_total")).toBe(1);

      // A restart does not count the finished game again.
      const again = await parties.restart("honest");
      await again.keeper.tick();
      expect(await metric(again.runtime.metrics, "oao_keeper_games_won_total")).toBe(0);
      expect(again.keeper.readiness()).toEqual({ ready: true });
    } finally {
      closeParties(parties);
    }
  });
});
