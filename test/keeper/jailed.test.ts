/**
 * A jailed operator is gated like a stake shortage (issue 13, "never blind"). On Hardhat's in-process chain (the dev
 * deployment, toy games decided by their referee): the keeper commits a right answer, an attacker challenges it and
 * the referee decides that game for the attacker, so our operator is slashed and jailed (Staking.lock reverts
 * `OperatorJailed` for `jailPeriod`). While jailed the keeper reports not ready with the reason `jailed` (and
 * `oao_keeper_blocked{reason="jailed"} 1`), and sends no commit or challenge (none would be accepted): a new request
 * stays pending and a wrong claim's challenge stays open, nothing simulated or sent, nothing reverted. Once the
 * chain's clock passes `jailedUntil` (time travel) it is ready again and answers a new request.
 *
 * And on the real game (the dev world, two keepers through the service: an honest one and a `graph:2` cheater): the
 * cheater is in two games; losing the first jails it; it goes on playing the second (moves lock nothing, so the
 * contracts allow them), reports not ready (jailed), and sends no commit or challenge (it would challenge the honest
 * answer to a new request, and a revert would follow); the honest keeper wins both games and answers the request.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { custom, type Address, type Hex } from "viem";
import { parseKeeperConfig } from "../../keeper/src/service/config.ts";
import { createKeeperRuntime } from "../../keeper/src/service/runtime.ts";
import { createLogger } from "../../keeper/src/service/logger.ts";
import { createMetrics } from "../../keeper/src/service/metrics.ts";
import { claimProofArg, readStandingOpening } from "../../keeper/src/service/claims.ts";
import type { Responder } from "../../keeper/src/chain/responder.ts";
import { graphClaim } from "../../keeper/game/graph-provider.ts";
import { encodeTensor, toHex } from "../../keeper/graph/index.ts";
import type { TxIntent } from "../../keeper/src/chain/responder.ts";
import type { DisputeProgress } from "../../keeper/src/dispute/player.ts";
import { parseFault } from "../../keeper/game/faults.ts";
import { quantizeInput } from "../../keeper/graph/index.ts";
import { loadMnist } from "../../keeper/graph/train/mnist-data.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { createLocalWorld } from "../../keeper/src/demo/world.ts";
import { closeParties, createParties } from "../../keeper/src/demo/scenario.ts";
import { OPERATOR_KEY, keeperTestbed } from "./testbed.ts";

describe("a jailed keeper waits for its jail to end, ready again after", () => {
  const tb = keeperTestbed();

  it("slashed and jailed: not ready (jailed), nothing sent for commits and challenges, no revert; the jail over, it answers again", async () => {
    const fromBlock = (await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber())) + 1n;
    // The keeper's RPC calls (by method), its sends (by kind, and which failed) and its log lines.
    const calls = new Map<string, number>();
    const config = parseKeeperConfig({
      rpcUrl: "http://127.0.0.1:8545", // unused: the transport talks to the in-process chain
      contracts: { aiOracle: tb.core.aiOracle.address, taskManager: tb.core.taskManager.address, staking: tb.core.staking.address },
      dataDir: mkdtempSync(join(tmpdir(), "oao-jailed-")),
      models: { "1": "mnist" },
      confirmations: 0,
    });
    const transport = custom({
      request: async (args: { method: string; params?: unknown }) => {
        calls.set(args.method, (calls.get(args.method) ?? 0) + 1);
        return tb.conn.provider.request(args as never);
      },
    });
    const metrics = createMetrics({ defaultMetrics: false });
    const rt = await createKeeperRuntime(config, OPERATOR_KEY, { transport, log: createLogger({ level: "silent" }), metrics });
    const sent: string[] = [];
    const failed: string[] = [];
    const responder: Responder = {
      get address() {
        return rt.responder.address;
      },
      idle: () => rt.responder.idle(),
      submit: async (intent) => {
        sent.push(intent.kind);
        try {
          return await rt.responder.submit(intent);
        } catch (error) {
          failed.push(`${intent.kind}: ${(error as Error).message.split("\n")[0]}`);
          throw error;
        }
      },
    };
    const lines: { level: number; msg: string; jailedUntil?: string }[] = [];
    const log = createLogger({
      level: "info",
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as (typeof lines)[number]);
          done();
        },
      }),
    });
    const keeper = tb.keeperOf(rt, { fromBlock, responder, log });
    const me = rt.responder.address;
    const blockedJailed = async () => /oao_keeper_blocked\{reason="jailed"\} (\d)/.exec(await metrics.registry.getSingleMetricAsString("oao_keeper_blocked"))?.[1];

    // Our right answer to request a, challenged by an attacker; the referee decides that game for the attacker.
    const a = await tb.request(60);
    await keeper.tick();
    expect(sent).toEqual(["commit"]);
    expect(keeper.readiness()).toEqual({ ready: true });
    expect(await blockedJailed()).toBe("0");
    const ours = (await tb.core.taskManager.read.getTask([a])).standingClaimId;
    const wrong = graphClaim(tb.executor.run(tb.inputOf(60)), tb.model.weightsRoot, { wrongFrom: 1, salt: 60 });
    const attacker = tb.wallets[3]!.account;
    const standing = await readStandingOpening(await tb.conn.viem.getPublicClient(), tb.core.taskManager.address, a);
    await tb.core.taskManager.write.challenge([a, toHex(encodeTensor(wrong.output)) as Hex, claimProofArg(wrong.proof), standing], { account: attacker });
    const game = await tb.conn.viem.getContractAt("ToyDisputeGame", (await tb.core.taskManager.read.activeGame([ours])) as Address);
    await game.write.resolve([1], { account: tb.wallets[0]!.account }); // GameWinner.Challenger: we are slashed and jailed
    const { jailedUntil } = await tb.core.staking.read.getAccount([me]);
    const now = async () => (await tb.conn.viem.getPublicClient().then((c) => c.getBlock())).timestamp;
    expect(BigInt(jailedUntil)).toBeGreaterThan(await now());
    expect(await tb.core.staking.read.freeStake([me])).toBeGreaterThan(await tb.core.taskManager.read.claimBond()); // stake is not what stops it

    // Jailed: a new request, and another wrong claim (request c, by another attacker).
    const b = await tb.request(61);
    const c = await tb.request(62);
    await tb.commitWrong(c, 62);
    calls.clear();
    for (let i = 0; i < 4; i++) await keeper.tick();
    // Not ready, saying why, with the values; the gauge says so.
    const r = keeper.readiness();
    expect(r.ready).toBe(false);
    expect(r.reason).toContain(`operator ${me} is jailed until ${jailedUntil}`);
    expect(r.reason).toContain("OperatorJailed");
    expect(await blockedJailed()).toBe("1");
    // Nothing sent (or simulated) for the commit of b or the challenges owed (c's wrong claim, and a's: the attacker's
    // wrong claim stands there now): none could be accepted. Nothing reverted.
    expect(sent).toEqual(["commit"]);
    expect(failed).toEqual([]);
    expect(calls.get("eth_estimateGas") ?? 0).toBe(0);
    expect(calls.get("eth_sendRawTransaction") ?? 0).toBe(0);
    expect(rt.store.getRequest(b)?.status).toBe("pending");
    const cTarget = (await tb.core.taskManager.read.getTask([c])).standingClaimId;
    expect(rt.store.getIntent("challenge", c, cTarget)).toMatchObject({ status: "open", attempts: 0 });
    const aTarget = (await tb.core.taskManager.read.getTask([a])).standingClaimId;
    expect(rt.store.getIntent("challenge", a, aTarget)).toMatchObject({ status: "open", attempts: 0 });
    expect(await tb.ourChallenges(c, me)).toEqual([]);
    // Logged once when it started, not per tick.
    const jailLines = lines.filter((l) => /our operator is jailed/.test(l.msg));
    expect(jailLines).toHaveLength(1);
    expect(jailLines[0]!.jailedUntil).toBe(jailedUntil.toString());

    // The jail ends (the chain's clock passes jailedUntil; the 1 h windows and deadlines above are long gone by then).
    await tb.conn.provider.request({ method: "evm_increaseTime", params: [Number(BigInt(jailedUntil) - (await now())) + 1] });
    await tb.conn.provider.request({ method: "evm_mine", params: [] });
    await keeper.tick();
    expect(lines.filter((l) => /the jail has ended/.test(l.msg))).toHaveLength(1);
    expect(await blockedJailed()).toBe("0");
    expect(keeper.readiness().reason ?? "").not.toMatch(/jailed/);
    // What was owed meanwhile is moot now (the windows closed, b expired: refunded); nothing reverted.
    expect(rt.store.getIntent("challenge", c, cTarget)?.status).toBe("moot");
    expect(failed).toEqual([]);
    // A new request is answered, and the keeper is ready.
    const d = await tb.request(63);
    await keeper.tick();
    await keeper.tick();
    expect(keeper.readiness()).toEqual({ ready: true });
    expect((await tb.core.taskManager.read.getClaim([(await tb.core.taskManager.read.getTask([d])).standingClaimId])).operator.toLowerCase()).toBe(me.toLowerCase());
    expect(sent.filter((k) => k === "challenge")).toEqual([]);
    expect(failed).toEqual([]);
    rt.close();
  });
});

describe("a jailed keeper still plays its running games (the real game)", () => {
  it("the cheater, jailed by its first lost game, keeps moving in its second, reports jailed and sends no commit or challenge", { timeout: 300_000 }, async () => {
    const world = await createLocalWorld();
    const modelFile = resolveModelPath("mnist");
    const model = loadModelFile(modelFile);
    const modelId = await world.registerModel(model);
    const parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("graph:2"), seed: 7 });
    try {
      const { honest, cheater } = parties;
      const samples = loadMnist().test;
      const request = async (k: number) => {
        const image = toHex(encodeTensor(quantizeInput(model, Array.from(samples[k]!.pixels)))) as Hex;
        await world.contracts.aiOracle.write.requestCallback([modelId, image, "0x0000000000000000000000000000000000000000", 0n, "0x"], {
          value: await world.contracts.aiOracle.read.estimateFee([modelId, 0n]),
        });
        return world.contracts.aiOracle.read.requestCount();
      };
      // The cheater's sends, and which failed (a revert is simulated first: it fails the submit).
      const sends: { kind: string; jailed: boolean; failed?: string }[] = [];
      let cheaterJailed = false;
      const responder = cheater.runtime.responder;
      const submit = responder.submit.bind(responder);
      (responder as { submit: (i: TxIntent) => ReturnType<typeof submit> }).submit = async (intent) => {
        const s: (typeof sends)[number] = { kind: intent.kind, jailed: cheaterJailed };
        sends.push(s);
        try {
          return await submit(intent);
        } catch (error) {
          s.failed = (error as Error).message.split("\n")[0];
          throw error;
        }
      };
      const jailedNow = async () => {
        const { jailedUntil } = await world.contracts.staking.read.getAccount([cheater.address]);
        return BigInt(jailedUntil) > (await world.publicClient.getBlock()).timestamp;
      };
      /** One tick of each (the cheater first: it commits first); time moves on when nobody sent anything. */
      const tickBoth = async () => {
        const before = await world.publicClient.getBlockNumber();
        await cheater.keeper.tick().catch(() => {});
        await honest.keeper.tick().catch(() => {});
        if ((await world.publicClient.getBlockNumber()) === before) await world.advanceTime(world.game.clockDuration / 4n);
        cheaterJailed ||= await jailedNow();
      };
      const cheaterGames = () => cheater.runtime.store.listGames<DisputeProgress>();
      const movesIn = (game: string) => cheaterGames().find((g) => g.state.address === game)?.state.transactions ?? 0;

      // Game 1 on r1; once the cheater has moved in it, r2 (its wrong claim, challenged): game 2 runs some rounds behind.
      const r1 = await request(0);
      for (let t = 0; t < 100 && !(cheaterGames().length === 1 && cheaterGames()[0]!.state.transactions >= 2); t++) await tickBoth();
      expect(cheaterGames()).toHaveLength(1);
      const r2 = await request(1);
      for (let t = 0; t < 200 && !cheaterJailed; t++) await tickBoth();
      expect(cheaterJailed).toBe(true);
      // Jailed by the game it lost (r1's); r2's game is still running on chain.
      const game2 = cheaterGames().find((g) => g.requestId === r2)!.state.address;
      const phase = async (game: `0x${string}`) => (await world.conn.viem.getContractAt("DisputeGame", game)).read.phase();
      expect(await phase(cheaterGames().find((g) => g.requestId === r1)!.state.address)).toBe(4); // Resolved
      expect(await phase(game2)).not.toBe(4);
      const movesAtJail = movesIn(game2);

      // A new request while the cheater is jailed: the honest keeper answers; the cheater would challenge that answer.
      const r3 = await request(2);
      let sawJailed = false;
      for (let t = 0; t < 200 && cheater.runtime.store.listGames("active").length > 0; t++) {
        await tickBoth();
        if ((await jailedNow()) && /is jailed until/.test(cheater.keeper.readiness().reason ?? "")) sawJailed = true;
      }
      expect(cheater.runtime.store.listGames("active")).toHaveLength(0);
      // It played on while jailed (its moves in game 2), and said it was jailed.
      expect(movesIn(game2)).toBeGreaterThan(movesAtJail);
      expect(sends.filter((s) => s.jailed && s.kind.startsWith("dispute.")).length).toBeGreaterThan(0);
      expect(sawJailed).toBe(true);
      // No commit or challenge sent while jailed, and nothing it sent while jailed failed.
      expect(sends.filter((s) => s.jailed && (s.kind === "commit" || s.kind === "challenge"))).toEqual([]);
      expect(sends.filter((s) => s.jailed && s.failed !== undefined)).toEqual([]);
      // The challenge it owes against r3's answer waits, open, untried.
      const r3Claim = (await world.contracts.taskManager.read.getTask([r3])).standingClaimId;
      expect((await world.contracts.taskManager.read.getClaim([r3Claim])).operator.toLowerCase()).toBe(honest.address.toLowerCase());
      expect(cheater.runtime.store.getIntent("challenge", r3, r3Claim)).toMatchObject({ status: "open", attempts: 0 });
      // The honest keeper won both games.
      for (const id of [r1, r2]) {
        const standing = (await world.contracts.taskManager.read.getTask([id])).standingClaimId;
        expect((await world.contracts.taskManager.read.getClaim([standing])).operator.toLowerCase()).toBe(honest.address.toLowerCase());
      }
      expect(honest.runtime.store.listGames().map((g) => g.status)).toEqual(["won", "won"]);
    } finally {
      closeParties(parties);
    }
  });
});
