/**
 * A jailed operator is gated like a stake shortage (issue 13, "never blind"). On Hardhat's in-process chain (the dev
 * deployment, toy games decided by their referee): the keeper commits a right answer, an attacker challenges it and
 * the referee decides that game for the attacker, so our operator is slashed and jailed (Staking.lock reverts
 * `OperatorJailed` for `jailPeriod`). While jailed the keeper reports not ready with the reason `jailed` (and
 * `oao_keeper_blocked{reason="jailed"} 1`), and sends no commit or challenge (none would be accepted): a new request
 * stays pending and a wrong claim's challenge stays open, nothing simulated or sent, nothing reverted. Once the
 * chain's clock passes `jailedUntil` (time travel) it is ready again and answers a new request.
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
import { claimProofArg } from "../../keeper/src/service/claims.ts";
import type { Responder } from "../../keeper/src/chain/responder.ts";
import { graphClaim } from "../../keeper/game/graph-provider.ts";
import { encodeTensor, toHex } from "../../keeper/graph/index.ts";
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
    await tb.core.taskManager.write.challenge([a, toHex(encodeTensor(wrong.output)) as Hex, claimProofArg(wrong.proof)], { account: attacker });
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
