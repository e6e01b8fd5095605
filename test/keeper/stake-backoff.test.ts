/**
 * A keeper out of free stake backs off instead of hammering the RPC (found by test/e2e/anvil-soak.test.ts: ~440
 * calls/s retrying every owed challenge every tick). On Hardhat's in-process chain (the dev deployment, toy games
 * decided by their referee): our operator has free stake for exactly one claim bond and two wrong claims are made.
 * The keeper challenges the one whose window closes first; while short it sends nothing and makes a bounded number
 * of RPC calls per tick (none per owed request), logs the shortage once, and keeps the second challenge open; once
 * more is staked it makes the second challenge (once) and both games are won.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { custom, parseEther, type Hex } from "viem";
import { parseKeeperConfig } from "../../keeper/src/service/config.ts";
import { createKeeperRuntime } from "../../keeper/src/service/runtime.ts";
import { createLogger } from "../../keeper/src/service/logger.ts";
import { createMetrics } from "../../keeper/src/service/metrics.ts";
import { claimProofArg } from "../../keeper/src/service/claims.ts";
import type { Responder } from "../../keeper/src/chain/responder.ts";
import { graphClaim } from "../../keeper/game/graph-provider.ts";
import { encodeTensor, toHex } from "../../keeper/graph/index.ts";
import { OPERATOR_KEY, keeperTestbed } from "./testbed.ts";

describe("stake backoff: a keeper without free stake for a bond waits, cheaply, and loses nothing", () => {
  const tb = keeperTestbed();

  it("stakes for one bond, two wrong claims: one challenge, then nothing sent and O(1) RPC calls per tick while short; staking more makes the second (once)", async () => {
    const operator = tb.wallets[1]!.account;
    const bond = await tb.core.taskManager.read.claimBond();
    // Leave exactly one bond free: unstake down to the minimum, then lock all but one bond in our own (right) claims.
    const minStake = await tb.core.staking.read.minStake();
    const active = await tb.core.staking.read.freeStake([operator.address]);
    await tb.core.staking.write.requestUnstake([active - minStake], { account: operator });
    for (let k = 30; (await tb.core.staking.read.freeStake([operator.address])) > bond; k++) {
      const id = await tb.request(k);
      const claim = graphClaim(tb.executor.run(tb.inputOf(k)), tb.model.weightsRoot);
      await tb.core.taskManager.write.commit([id, toHex(encodeTensor(claim.output)) as Hex, claimProofArg(claim.proof)], { account: operator });
    }
    expect(await tb.core.staking.read.freeStake([operator.address])).toBe(bond);

    const fromBlock = (await tb.conn.viem.getPublicClient().then((c) => c.getBlockNumber())) + 1n;
    const first = await tb.request(50);
    await tb.commitWrong(first, 50);
    const second = await tb.request(51);
    await tb.commitWrong(second, 51);

    // The keeper's RPC calls (by method), its sends (by kind) and its log lines.
    const calls = new Map<string, number>();
    const total = () => [...calls.values()].reduce((a, b) => a + b, 0);
    const config = parseKeeperConfig({
      rpcUrl: "http://127.0.0.1:8545", // unused: the transport talks to the in-process chain
      contracts: { aiOracle: tb.core.aiOracle.address, taskManager: tb.core.taskManager.address, staking: tb.core.staking.address },
      dataDir: mkdtempSync(join(tmpdir(), "oao-stake-backoff-")),
      models: { "1": "mnist" },
      confirmations: 0,
    });
    const transport = custom({
      request: async (args: { method: string; params?: unknown }) => {
        calls.set(args.method, (calls.get(args.method) ?? 0) + 1);
        return tb.conn.provider.request(args as never);
      },
    });
    const rt = await createKeeperRuntime(config, OPERATOR_KEY, { transport, log: createLogger({ level: "silent" }), metrics: createMetrics({ defaultMetrics: false }) });
    const sent: string[] = [];
    const responder: Responder = {
      get address() {
        return rt.responder.address;
      },
      idle: () => rt.responder.idle(),
      submit: (intent) => (sent.push(intent.kind), rt.responder.submit(intent)),
    };
    const lines: { level: number; msg: string }[] = [];
    const log = createLogger({
      level: "info",
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as { level: number; msg: string });
          done();
        },
      }),
    });
    const keeper = tb.keeperOf(rt, { fromBlock, responder, log });
    const shortage = () => lines.filter((l) => /free stake is below one claim bond/.test(l.msg));

    // Tick 1: the one bond goes to the challenge whose target's window closes first.
    await keeper.tick();
    const me = rt.responder.address;
    expect(await tb.ourChallenges(first, me)).toHaveLength(1);
    expect(await tb.ourChallenges(second, me)).toEqual([]);
    const secondTarget = (await tb.core.taskManager.read.getTask([second])).standingClaimId;
    expect(rt.store.getIntent("challenge", second, secondTarget)).toMatchObject({ status: "open", attempts: 0 });
    expect(sent).toEqual(["challenge"]);
    expect(keeper.readiness().reason).toMatch(/no stake for a challenge bond: free stake 0 < bond/);

    // Short: several ticks send nothing, simulate nothing, and make a bounded number of calls each.
    const ticks = 5;
    calls.clear();
    for (let i = 0; i < ticks; i++) await keeper.tick();
    expect(sent).toEqual(["challenge"]);
    expect(calls.get("eth_estimateGas") ?? 0).toBe(0);
    expect(calls.get("eth_sendRawTransaction") ?? 0).toBe(0);
    // Per tick: the watcher's poll, one stake read deciding, finalize's head, the watchdog: a constant, not per request.
    expect(total()).toBeLessThanOrEqual(ticks * 8);
    expect(rt.store.getIntent("challenge", second, secondTarget)).toMatchObject({ status: "open", attempts: 0 });
    expect(rt.store.getRequest(second)?.status).toBe("disputed");
    expect(keeper.readiness().reason).toMatch(/no stake for a challenge bond/);
    // Logged once when it started (with the values and what to do), not per tick or per request.
    expect(shortage()).toHaveLength(1);
    expect(shortage()[0]).toMatchObject({ freeStake: "0", bond: bond.toString(), waiting: 1 });
    expect(shortage()[0]!.msg).toContain("oao keeper stake");

    // The operator stakes more: the next tick makes the waiting challenge.
    await tb.core.stakeToken.write.mint([operator.address, parseEther("20")]);
    await tb.core.stakeToken.write.approve([tb.core.staking.address, parseEther("20")], { account: operator });
    await tb.core.staking.write.stake([parseEther("20")], { account: operator });
    await keeper.tick();
    expect(sent).toEqual(["challenge", "challenge"]);
    expect(await tb.ourChallenges(first, me)).toHaveLength(1);
    expect(await tb.ourChallenges(second, me)).toHaveLength(1);
    expect(rt.store.getIntent("challenge", second, secondTarget)).toMatchObject({ status: "done" });
    expect(lines.filter((l) => /covers a claim bond again/.test(l.msg))).toHaveLength(1);
    expect(keeper.readiness()).toEqual({ ready: true });

    // The referee decides both toy games for our claims: both won, nothing sent twice.
    for (const id of [first, second]) {
      const standing = (await tb.core.taskManager.read.getTask([id])).standingClaimId;
      const game = await tb.conn.viem.getContractAt("ToyDisputeGame", await tb.core.taskManager.read.activeGame([standing]));
      await game.write.resolve([1], { account: tb.wallets[0]!.account });
    }
    await keeper.tick();
    await keeper.tick();
    for (const id of [first, second]) {
      const standing = (await tb.core.taskManager.read.getTask([id])).standingClaimId;
      expect((await tb.core.taskManager.read.getClaim([standing])).operator.toLowerCase()).toBe(me.toLowerCase());
      expect(rt.store.getRequest(id)?.status).toBe("committed");
    }
    expect(sent).toEqual(["challenge", "challenge"]);
    expect(shortage()).toHaveLength(1);
    rt.close();
  });
});
