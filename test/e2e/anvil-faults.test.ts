/**
 * Issue 13's failures 1–9 (and a dropped commit and challenge: `anvil_dropTransaction` while mining is paused), each
 * reproduced against real processes: a separate anvil node (1 s blocks), the honest
 * operator's `oao keeper run` process, a cheating `oao keeper run --fault` process beside it, a fault proxy on the
 * honest keeper's RPC, SIGKILLs at chosen moments (OAO_TEST_CRASH_BEFORE_SEND kills exactly between deciding and
 * sending). Each test asserts the honest outcome. One anvil node and one deployment serve the file; each test
 * starts its keepers fresh from the current head (a slashed cheater is jailed, so each test has its own).
 * Skips with a message where the anvil binary (optional npm dependency) is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { decodeFunctionData, parseEther, zeroAddress, type Address, type Hex } from "viem";
import { DType, encodeTensor, toHex } from "../../keeper/graph/index.ts";
import { GPT2_SMALL } from "../../keeper/graph/gpt/gpt.ts";
import { loadModelFile } from "../../keeper/src/service/models.ts";
import { generateGptModel, gptModelDir } from "../../scripts/lib/gpt-model.ts";
import { TaskManagerAbi } from "../../sdk/src/abis/generated.ts";
import { anvilAvailable, ANVIL_MISSING, ROOT, sleep, startAnvil, type Anvil } from "./harness/anvil.ts";
import { startFaultProxy } from "./harness/fault-proxy.ts";
import { startKeeperProc, type KeeperProc, type KeeperProcOptions } from "./harness/keeper-proc.ts";
import { createE2eWorld, type E2eWorld } from "./harness/world.ts";

if (!anvilAvailable) console.warn(`test/e2e/anvil-faults.test.ts: ${ANVIL_MISSING}`);

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeoutMs`. */
async function until<T>(what: string, fn: () => Promise<T>, timeoutMs = 120_000, everyMs = 250): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

describe.skipIf(!anvilAvailable)("issue 13 failures on a real anvil node", () => {
  let anvil: Anvil;
  let world: E2eWorld;
  const HONEST = 1;
  let honestAddress: Address;
  let nextCheater = 2; // a slashed cheater is jailed: each test stakes a fresh account
  const procs: KeeperProc[] = [];

  beforeAll(async () => {
    anvil = await startAnvil({ blockTime: 0 });
    world = await createE2eWorld(anvil.url);
    honestAddress = await world.stake(HONEST);
    await anvil.intervalMining(1);
  }, 180_000);
  afterAll(async () => {
    for (const p of procs) await p.kill();
    await anvil?.stop();
  });

  const keeper = async (o: Partial<KeeperProcOptions> & { index: number }): Promise<KeeperProc> => {
    const p = await startKeeperProc({
      rpcUrl: anvil.url,
      contracts: world.keeperContracts,
      key: world.key(o.index),
      models: { [world.modelId.toString()]: "mnist" },
      startBlock: await anvil.blockNumber(),
      ...o,
    });
    procs.push(p);
    return p;
  };
  const cheater = async (fault = "graph:2"): Promise<{ proc: KeeperProc; address: Address }> => {
    const index = nextCheater++;
    const address = await world.stake(index);
    return { proc: await keeper({ index, fault, name: `cheater${index}` }), address };
  };
  /** Lets the challenge window of `id`'s standing claim pass (the chain's clock), then waits for finalization. */
  const finalizes = async (id: bigint) => {
    await world.advanceTime(3_601n);
    await until(`request ${id} finalized`, () => world.isFinalized(id));
  };

  /**
   * A cheater (--fault graph:2) answers request `id` first; the honest keeper (started by `startHonest`, from the
   * block before the request) must challenge and win: the cheater is slashed and jailed (its /readyz says so), the
   * honest claim stands and finalizes, and the honest operator sent exactly one challenge.
   */
  const wrongClaimBeaten = async (
    startHonest: (startBlock: bigint) => Promise<KeeperProc>,
    during?: (honest: KeeperProc, id: bigint) => Promise<void>,
    before?: { finalize?: (honest: KeeperProc) => Promise<void> },
  ) => {
    const { proc: liar, address: liarAddress } = await cheater();
    await liar.waitUp();
    // The cheater says what it is: on /healthz, /readyz, /metrics and in its log.
    expect((await liar.healthz())?.body.fault).toBe("graph:2 (seed 1)");
    expect((await liar.readyz())?.body.fault).toBe("graph:2 (seed 1)");
    expect(await liar.metric("oao_keeper_fault_injected")).toBe(1);
    expect(liar.log()).toContain("FAULT INJECTION");
    const from = await anvil.blockNumber();
    const id = await world.request(5);
    await until(`the cheater's claim on ${id}`, async () => (await world.standingOperator(id)).toLowerCase() === liarAddress.toLowerCase());
    const honest = await startHonest(from);
    await during?.(honest, id);
    await until(`the cheater of ${id} slashed`, () => world.jailed(liarAddress), 300_000, 500);
    // Jailed, the cheater's keeper says so (and sends no commit or challenge that would revert OperatorJailed).
    await until("the jailed cheater's /readyz: jailed", async () => /is jailed until/.test((await liar.readyz())?.body.reason ?? ""), 60_000);
    await until(`the honest claim standing on ${id}`, async () => (await world.standingOperator(id)).toLowerCase() === honestAddress.toLowerCase());
    await before?.finalize?.(honest);
    await finalizes(id);
    expect((await world.intentTxs(honestAddress, from)).get(`challenge:${id}`)).toEqual({ ok: 1, reverted: 0 });
    await liar.kill();
    await honest.kill();
    return id;
  };

  /** The honest keeper's `kind` transaction for request `id` waiting in the node's pool, if any. */
  const pendingIntent = async (kind: "commit" | "challenge", id: bigint) => {
    for (const tx of await anvil.pendingFrom(honestAddress)) {
      if (tx.to?.toLowerCase() !== world.addresses.taskManager.toLowerCase()) continue;
      try {
        const call = decodeFunctionData({ abi: TaskManagerAbi, data: tx.input });
        if (call.functionName === kind && (call.args as readonly unknown[])[0] === id) return tx;
      } catch {
        // not a task manager call we know
      }
    }
    return undefined;
  };
  /** Waits for the honest keeper's pending `kind` for `id` (mining paused), drops it from the pool, resumes 1 s blocks. */
  const dropPending = async (kind: "commit" | "challenge", id: bigint) => {
    const tx = await until(`the honest ${kind} of ${id} in the pool`, () => pendingIntent(kind, id));
    expect(await anvil.dropTransaction(tx.hash)).toBe(true);
    expect(await pendingIntent(kind, id)).toBeUndefined();
    return tx;
  };

  it("dropped commit: a commit dropped from the node's pool (anvil_dropTransaction) is noticed and sent again; the request is answered, once", async () => {
    const from = await anvil.blockNumber();
    const honest = await keeper({ index: HONEST });
    await until("ready", async () => (await honest.readyz())?.status === 200);
    let dropped: { hash: Hex; nonce: bigint } | undefined;
    let id = 0n;
    await anvil.pauseMining();
    try {
      id = await world.request(40, { mine: () => anvil.mine() }); // the request's block only: the commit waits in the pool
      dropped = await dropPending("commit", id);
    } finally {
      await anvil.intervalMining(1);
    }
    await until(`the honest commit of ${id} after the drop`, async () => (await world.standingOperator(id)).toLowerCase() === honestAddress.toLowerCase());
    const sent = await world.intentTxs(honestAddress, from);
    expect(sent.get(`commit:${id}`)).toEqual({ ok: 1, reverted: 0 });
    const mined = (await world.sentTxs(honestAddress, from)).map((t) => `${t.to?.toLowerCase() === honestAddress.toLowerCase() ? "self-transfer" : t.input.slice(0, 10)}${t.ok ? "" : " (reverted)"}`);
    console.log(`dropped commit: ${dropped!.hash} (nonce ${dropped!.nonce}) dropped; the keeper's transactions mined since: ${mined.join(", ")}`);
    await until("ready after the drop", async () => (await honest.readyz())?.status === 200, 60_000);
    await honest.kill();
  }, 240_000);

  it("dropped challenge: a challenge dropped from the node's pool is noticed and sent again; the wrong claim is beaten", async () => {
    await wrongClaimBeaten(async (startBlock) => {
      await anvil.pauseMining(); // from the cheater's claim on: the honest keeper's challenge waits in the pool
      try {
        const honest = await keeper({ index: HONEST, startBlock });
        const id = (await world.contracts.aiOracle.read.requestCount());
        await dropPending("challenge", id);
        return honest;
      } finally {
        await anvil.intervalMining(1);
      }
    });
  }, 360_000);

  it("1: killed between deciding and sending a challenge, the restarted keeper challenges and wins", async () => {
    await wrongClaimBeaten(async (startBlock) => {
      const honest = await keeper({ index: HONEST, startBlock, env: { OAO_TEST_CRASH_BEFORE_SEND: "challenge" } });
      expect(await honest.exited()).toBe("SIGKILL");
      await honest.restart();
      return honest;
    });
  }, 360_000);

  it("3: the RPC's transaction path down for 30 s during a challenge: /readyz not ready meanwhile, then the challenge is made and wins", async () => {
    const proxy = await startFaultProxy(anvil.url);
    try {
      proxy.refuseSends(30_000);
      await wrongClaimBeaten(
        (startBlock) => keeper({ index: HONEST, startBlock, rpcUrl: proxy.url }),
        async (honest) => {
          const r = await until("/readyz not ready while sends are refused", async () => {
            const r = await honest.readyz();
            return r?.status === 503 && r.body.reason !== "not synced yet" ? r : undefined;
          });
          expect(proxy.stats.sendsRefused).toBeGreaterThan(0);
          console.log(`failure 3: /readyz while the transaction path is down: ${JSON.stringify(r.body)}`);
        },
      );
      expect(proxy.stats.sendsRefused).toBeGreaterThan(1); // retried through the outage, not given up
    } finally {
      await proxy.close();
    }
  }, 360_000);

  it("8: a frozen RPC node (SIGSTOP) makes /readyz not ready and counts RPC errors; thawed, the keeper answers again", async () => {
    const honest = await keeper({ index: HONEST, config: { rpcTimeoutMs: 2_000 } });
    await until("ready", async () => (await honest.readyz())?.status === 200);
    const errorsBefore = (await honest.metric("oao_keeper_rpc_errors_total")) ?? 0;
    anvil.freeze();
    try {
      const r = await until("/readyz not ready while the node is frozen", async () => {
        const r = await honest.readyz();
        return r?.status === 503 ? r : undefined;
      }, 60_000);
      expect(r.body.reason).toMatch(/tick|RPC|not answering|timed out|took too long/i);
      expect(await honest.metric("oao_keeper_rpc_errors_total")).toBeGreaterThan(errorsBefore);
      expect((await honest.healthz())?.status).toBe(200); // alive, only not ready
    } finally {
      anvil.thaw();
    }
    await until("ready again", async () => (await honest.readyz())?.status === 200, 60_000);
    const id = await world.request(8);
    await until(`the honest commit of ${id}`, async () => (await world.standingOperator(id)).toLowerCase() === honestAddress.toLowerCase());
    await honest.kill();
  }, 240_000);

  it("4: more than 256 requests expired unanswered: they are refunded and leave the working set; a new wrong claim is still challenged and beaten", async () => {
    const first = (await world.contracts.aiOracle.read.requestCount()) + 1n;
    const before = await anvil.blockNumber();
    const N = 300;
    await world.requestMany(N, 100); // nobody is serving yet
    await world.advanceTime(3_601n); // past the request timeout: all expired unanswered
    let honest: KeeperProc | undefined;
    await wrongClaimBeaten(async () => (honest = await keeper({ index: HONEST, startBlock: before })));
    const REFUNDED = 7; // TaskManager RequestStatus.Refunded
    const unrefunded = async () => {
      const open: bigint[] = [];
      for (let id = first; id < first + BigInt(N); id++) if ((await world.contracts.taskManager.read.getStatus([id])) !== REFUNDED) open.push(id);
      return open;
    };
    // The wrong claim was beaten while the refunds were still going on; the keeper (restarted) refunds every one, once.
    await honest!.restart();
    await until("all expired requests refunded", async () => (await unrefunded()).length === 0, 240_000, 2_000);
    const sent = await world.intentTxs(honestAddress, before);
    for (let id = first; id < first + BigInt(N); id++) expect(sent.get(`expire:${id}`), `expire:${id}`).toEqual({ ok: 1, reverted: 0 });
    await honest!.kill();
  }, 420_000);

  it("5: a deep reorg (evm_revert) after a commit: the keeper rolls back, resynchronises its nonce and answers the requests that reuse the ids", async () => {
    const from = await anvil.blockNumber();
    const honest = await keeper({ index: HONEST });
    await until("ready", async () => (await honest.readyz())?.status === 200);
    const snapshot = await anvil.snapshot();
    const id = await world.request(20);
    await until(`the honest commit of ${id}`, async () => (await world.standingOperator(id)).toLowerCase() === honestAddress.toLowerCase());
    await sleep(3_000); // a few blocks on top
    await anvil.revert(snapshot); // the request and the commit disappear
    expect(await world.standingOperator(id).catch(() => zeroAddress)).toBe(zeroAddress);
    // New requests on the new chain reuse the id (and the next ones).
    const reused = await world.request(21);
    expect(reused).toBe(id);
    const next = await world.request(22);
    for (const r of [reused, next]) {
      await until(`the honest commit of ${r} on the new chain`, async () => (await world.standingOperator(r)).toLowerCase() === honestAddress.toLowerCase(), 120_000);
    }
    expect(await honest.metric("oao_keeper_reorgs_total")).toBeGreaterThan(0);
    const sent = await world.intentTxs(honestAddress, from);
    expect(sent.get(`commit:${reused}`)).toEqual({ ok: 1, reverted: 0 });
    expect(sent.get(`commit:${next}`)).toEqual({ ok: 1, reverted: 0 });
    await honest.kill();
  }, 240_000);

  it("7: a request whose callback runs out of gas (3,000 gas) is answered and blocks nobody: the next request is answered too", async () => {
    const honest = await keeper({ index: HONEST });
    const griefer = await world.conn.viem.deployContract("GasGriefingReceiver");
    await world.publicClient.waitForTransactionReceipt({ hash: await griefer.write.setBurn([true]) });
    const starved = await world.request(30, { callback: griefer.address, gasLimit: 3_000n });
    const plain = await world.request(31);
    for (const r of [starved, plain]) {
      await until(`the honest commit of ${r}`, async () => (await world.standingOperator(r)).toLowerCase() === honestAddress.toLowerCase(), 120_000);
    }
    await world.advanceTime(3_601n);
    await until("both finalized", async () => (await world.isFinalized(starved)) && (await world.isFinalized(plain)));
    await honest.kill();
  }, 240_000);

  it("6: wrong contract addresses refuse to start; a model that differs from the chain's keeps /readyz not ready", async () => {
    const wrong = await keeper({ index: HONEST, contracts: { ...world.keeperContracts, aiOracle: world.keeperContracts.staking }, name: "wrong-addresses" });
    expect(await wrong.exited()).toBe(1);
    expect(wrong.log()).toMatch(/config\.contracts\.|aiOracle/);
    // The same model file registered with another guest prestate: the keeper runs but does not serve it.
    const otherId = await world.registerModel(world.mnistModel, undefined, `0x${"11".repeat(32)}`);
    const mismatch = await keeper({ index: HONEST, models: { [otherId.toString()]: "mnist" }, name: "wrong-model" });
    await mismatch.waitUp();
    const r = await until("/readyz not ready", async () => {
      const r = await mismatch.readyz();
      return r && r.status === 503 && r.body.reason?.includes("model not served") ? r : undefined;
    });
    expect(r.body.reason).toMatch(new RegExp(`model not served: .*${otherId}`));
    await mismatch.kill();
  }, 180_000);

  it("2: killed between deciding and sending a commit, the restarted keeper commits (once) and the request finalizes", async () => {
    const from = await anvil.blockNumber();
    const honest = await keeper({ index: HONEST, env: { OAO_TEST_CRASH_BEFORE_SEND: "commit" } });
    const id = await world.request(3);
    expect(await honest.exited()).toBe("SIGKILL");
    expect(await world.standingOperator(id)).toBe(zeroAddress); // decided and recorded, never sent
    await honest.restart();
    await until(`the honest commit of ${id}`, async () => (await world.standingOperator(id)) !== zeroAddress);
    expect((await world.standingOperator(id)).toLowerCase()).toBe(honestAddress.toLowerCase());
    await finalizes(id);
    expect((await world.intentTxs(honestAddress, from)).get(`commit:${id}`)).toEqual({ ok: 1, reverted: 0 });
    await honest.kill();
  }, 240_000);
  it("9: while the keeper computes GPT-2-small claims, /healthz and /readyz answer promptly and its dispute moves go on: the wrong claim is beaten, every GPT request answered", async () => {
    // The synthetic GPT-2-small (124M parameters; gitignored cache, generated once): a claim takes seconds of compute.
    const gptFile = join(gptModelDir(ROOT, "gpt2-small"), "model.oao");
    if (!existsSync(gptFile)) generateGptModel(GPT2_SMALL, gptFile);
    const gpt = loadModelFile(gptFile);
    // Its nodes are far longer than the game's VM trace: served only under OAO_TEST_SERVE_LONG_NODES (no one disputes them here).
    const gptId = await world.registerModel(gpt);
    const gptInput = (k: number): Hex => {
      const n = gpt.input.shape.reduce((a, b) => a * b, 1);
      const data = Int32Array.from({ length: n }, (_, i) => (i * 7919 + 13 * k) % GPT2_SMALL.vocab);
      expect(gpt.input.dtype).toBe(DType.int32); // token ids
      return toHex(encodeTensor({ dtype: DType.int32, shape: [...gpt.input.shape], data })) as Hex;
    };
    await world.stake(HONEST, parseEther("500")); // bonds for the GPT commits (each locks one until finalized)
    const LIVENESS_MS = 3_000; // an answer slower than this would mean the endpoint waited on the computation
    const polls: { path: "/healthz" | "/readyz"; ms: number; status?: number; reason?: string; lagMs?: number; busy?: number }[] = [];
    /** Each GPT request: the block it was mined in and the block its honest commit was first seen in. */
    const gpts: { id: bigint; requested: bigint; committed?: bigint }[] = [];
    let gptFrom = 0n;
    let stop = false;
    let poller: Promise<void> | undefined;
    let feeder: Promise<void> | undefined;
    const committed = async (id: bigint) => (await world.standingOperator(id)).toLowerCase() === honestAddress.toLowerCase();
    await wrongClaimBeaten(
      async (startBlock) => {
        gptFrom = await anvil.blockNumber();
        const honest = await keeper({ index: HONEST, startBlock, models: { [world.modelId.toString()]: "mnist", [gptId.toString()]: gptFile }, env: { OAO_TEST_SERVE_LONG_NODES: "1" } });
        // From its start to the end of the game: two GPT requests outstanding at a time, so a claim is always computing.
        feeder = (async () => {
          while (!stop && gpts.length < 40) {
            for (const g of gpts) if (g.committed === undefined && (await committed(g.id))) g.committed = await anvil.blockNumber();
            if (gpts.filter((g) => g.committed === undefined).length < 2) {
              const id = await world.request(0, { modelId: gptId, input: gptInput(gpts.length) });
              gpts.push({ id, requested: await anvil.blockNumber() });
            } else await sleep(500);
          }
        })();
        await honest.waitUp(180_000);
        poller = (async () => {
          while (!stop) {
            for (const path of ["/healthz", "/readyz"] as const) {
              const t = performance.now();
              const r = path === "/healthz" ? await honest.healthz() : await honest.readyz();
              const ms = performance.now() - t;
              const body = r?.body as { reason?: string; mainLoopLagMs?: number } | undefined;
              polls.push({ path, ms, status: r?.status, reason: body?.reason, lagMs: body?.mainLoopLagMs, busy: await honest.metric("oao_keeper_compute_busy_threads") });
            }
            await sleep(250);
          }
        })();
        return honest;
      },
      undefined,
      {
        finalize: async (honest) => {
          stop = true;
          await feeder;
          await poller;
          for (const g of gpts) {
            await until(`the honest commit of GPT request ${g.id}`, () => committed(g.id), 180_000, 500);
            g.committed ??= await anvil.blockNumber();
          }
          // The honest keeper's dispute moves (its transactions to the game and the preimage oracle) mined while a GPT
          // claim was outstanding (requested, not yet committed: computing, or waiting for the compute thread).
          const sentTxs = await world.sentTxs(honestAddress, gptFrom);
          const isMove = (to: Address | null) => to !== null && ![world.addresses.taskManager, honestAddress].some((a) => a.toLowerCase() === to.toLowerCase());
          const moves = sentTxs.filter((t) => isMove(t.to));
          const movesDuringGpt = moves.filter((m) => gpts.some((g) => g.requested < m.blockNumber && m.blockNumber < g.committed!));
          const healthz = polls.filter((p) => p.path === "/healthz");
          const readyz = polls.filter((p) => p.path === "/readyz");
          const max = (xs: number[]) => Math.max(...xs);
          console.log(
            `failure 9: ${gpts.length} GPT-2-small requests answered; ${moves.length} dispute moves, ${movesDuringGpt.length} while a GPT claim was outstanding; ` +
              `${polls.length} polls, ${polls.filter((p) => (p.busy ?? 0) > 0).length} while a compute thread was busy; /healthz max ${max(healthz.map((p) => p.ms)).toFixed(0)} ms, ` +
              `/readyz max ${max(readyz.map((p) => p.ms)).toFixed(0)} ms, mainLoopLagMs max ${max(healthz.map((p) => p.lagMs ?? 0))}`,
          );
          const notReady = readyz.filter((p) => p.status !== 200);
          if (notReady.length > 0) console.log(`failure 9: /readyz not ready in ${notReady.length} of ${readyz.length} polls: ${[...new Set(notReady.map((p) => p.reason))].join(" | ")}`);
          for (const line of honest.log().split("\n").filter((l) => /revert/i.test(l)).slice(0, 10)) console.log(`failure 9: honest log: ${line.slice(0, 600)}`);
          expect(healthz.length).toBeGreaterThan(10);
          // Every poll answered, healthy and ready, none slow: nothing the endpoints do waits on the computation.
          for (const p of healthz) expect(p, JSON.stringify(p)).toMatchObject({ status: 200 });
          // /readyz says what the loop reports (a move that failed in one tick shows until the next); never that the
          // main loop or a tick was stuck.
          for (const p of readyz) expect([200, 503], JSON.stringify(p)).toContain(p.status);
          for (const p of readyz) expect(p.reason ?? "", JSON.stringify(p)).not.toMatch(/main loop has not run|tick has been running|no successful tick/);
          for (const p of polls) expect(p.ms, JSON.stringify(p)).toBeLessThan(LIVENESS_MS);
          // The main loop was not blocked either (computed in-thread, a GPT-2-small claim stalls it for its whole run).
          for (const p of healthz) expect(p.lagMs, JSON.stringify(p)).toBeLessThan(LIVENESS_MS);
          expect(polls.some((p) => (p.busy ?? 0) > 0)).toBe(true); // the polls ran while claims computed
          expect(movesDuringGpt.length).toBeGreaterThan(0); // and the game was played meanwhile
          expect(moves.every((m) => m.ok)).toBe(true);
          const sent = await world.intentTxs(honestAddress, gptFrom);
          for (const g of gpts) expect(sent.get(`commit:${g.id}`), `commit:${g.id}`).toEqual({ ok: 1, reverted: 0 });
        },
      },
    );
  }, 600_000);
});
