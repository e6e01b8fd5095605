/**
 * Soak (issue 13): the honest operator's `oao keeper run` process on a separate anvil node (1 s blocks) behind a
 * fault proxy, cheating `oao keeper run --fault` processes beside it, and for the run's length, seeded: requests,
 * SIGKILLs of the honest keeper (restarted on its database), random RPC faults (dropped connections, HTTP 503s,
 * JSON-RPC errors, delays), spells of refused transactions, and reorgs (evm_revert to an earlier snapshot). Then the
 * faults stop and the chain's clock is moved on whenever no game is open (or a game is stalled on a party other than
 * the honest keeper: never while the honest keeper owes a move). Judged from the final chain only:
 * every request finalized with the honest operator's claim standing (every wrong claim challenged and beaten,
 * every answerable request answered) and no intent (commit/challenge/expire of a request) mined twice.
 *
 * Small by default (OAO_SOAK_SECONDS=45: about 90 s in all); OAO_SOAK=1 runs 600 s; OAO_SOAK_SEED picks the run (test/README.md).
 */
import { afterAll, describe, expect, it } from "vitest";
import { parseAbi, parseEther, zeroAddress, type Address } from "viem";
import { anvilAvailable, ANVIL_MISSING, sleep, startAnvil, type Anvil } from "./harness/anvil.ts";
import { seededRandom, startFaultProxy, type FaultProxy } from "./harness/fault-proxy.ts";
import { startKeeperProc, type KeeperProc } from "./harness/keeper-proc.ts";
import { createE2eWorld, type E2eWorld } from "./harness/world.ts";

if (!anvilAvailable) console.warn(`test/e2e/anvil-soak.test.ts: ${ANVIL_MISSING}`);

const LARGE = process.env.OAO_SOAK === "1";
const SEED = Number(process.env.OAO_SOAK_SEED ?? "1");
const SECONDS = Number(process.env.OAO_SOAK_SECONDS ?? (LARGE ? "600" : "45"));
/** The honest operator's stake, in tokens (a bond is 10): OAO_SOAK_STAKE=150 runs it short of bonds. */
const STAKE = process.env.OAO_SOAK_STAKE ?? "2000";
if (!Number.isSafeInteger(SEED) || !(SECONDS > 0)) throw new Error(`OAO_SOAK_SEED (${process.env.OAO_SOAK_SEED}) must be an integer and OAO_SOAK_SECONDS (${process.env.OAO_SOAK_SECONDS}) a positive number`);

describe.skipIf(!anvilAvailable)(`keeper soak on anvil (seed ${SEED}, ${SECONDS} s)`, () => {
  let anvil: Anvil | undefined;
  let proxy: FaultProxy | undefined;
  const procs: KeeperProc[] = [];
  afterAll(async () => {
    for (const p of procs) await p.kill();
    await proxy?.close();
    await anvil?.stop();
  });

  it("every wrong claim beaten, every request answered, nothing sent twice", async () => {
    const rand = seededRandom(SEED);
    const chance = (p: number) => rand() < p;
    anvil = await startAnvil({ blockTime: 0, accounts: 40 });
    const world: E2eWorld = await createE2eWorld(anvil.url);
    const HONEST = 1;
    // Every challenge locks a bond (10 tokens) until its game ends: enough stake for the games a run opens at once.
    const honestAddress = await world.stake(HONEST, parseEther(STAKE));
    await anvil.intervalMining(1);
    proxy = await startFaultProxy(anvil.url);
    const start = await anvil.blockNumber();
    const firstId = (await world.contracts.aiOracle.read.requestCount()) + 1n;
    const honest = await startKeeperProc({
      name: "honest",
      rpcUrl: proxy.url,
      contracts: world.keeperContracts,
      key: world.key(HONEST),
      models: { [world.modelId.toString()]: "mnist" },
      startBlock: start,
      config: { rpcTimeoutMs: 3_000 },
    });
    procs.push(honest);
    let cheaterIndex = 2;
    const startCheater = async (): Promise<{ proc: KeeperProc; address: Address }> => {
      const index = cheaterIndex++;
      const address = await world.stake(index);
      const proc = await startKeeperProc({
        name: `cheater${index}`,
        rpcUrl: anvil!.url,
        contracts: world.keeperContracts,
        key: world.key(index),
        models: { [world.modelId.toString()]: "mnist" },
        startBlock: await anvil!.blockNumber(),
        fault: chance(0.5) ? "graph:2" : "false-challenge",
        faultSeed: SEED,
      });
      procs.push(proc);
      return { proc, address };
    };
    let cheater = await startCheater();
    await honest.waitUp();

    const tally = { requests: 0, kills: 0, reorgs: 0, refusals: 0, cheaters: 1 };
    let snapshot: string | undefined;
    const end = Date.now() + SECONDS * 1000;
    proxy.setRandom({ drop: 0.02, httpError: 0.02, rpcError: 0.02, delay: 0.04, maxDelayMs: 1_500 }, SEED);
    while (Date.now() < end) {
      await world.request(Math.floor(rand() * 1_000));
      tally.requests++;
      if (chance(0.12)) {
        await honest.kill("SIGKILL");
        await sleep(Math.floor(rand() * 2_000));
        await honest.restart();
        tally.kills++;
      }
      if (chance(0.15)) {
        proxy.refuseSends(2_000 + Math.floor(rand() * 8_000));
        tally.refusals++;
      }
      if (snapshot === undefined && chance(0.3)) snapshot = await anvil.snapshot();
      else if (snapshot !== undefined && chance(0.25)) {
        await anvil.revert(snapshot);
        snapshot = undefined;
        tally.reorgs++;
      }
      // A slashed cheater is jailed: the next account takes over.
      if (await world.jailed(cheater.address)) {
        await cheater.proc.kill();
        cheater = await startCheater();
        tally.cheaters++;
      }
      await sleep(2_000 + Math.floor(rand() * 4_000));
    }

    // Faults stop; games play out; the clock moves on whenever no game is open, until every request is final.
    proxy.setRandom({});
    proxy.refuseSends(false);
    if (honest.process.exitCode !== null || honest.process.signalCode !== null) await honest.restart();
    const lastId = await world.contracts.aiOracle.read.requestCount();
    const open = async () => {
      const ids: bigint[] = [];
      for (let id = firstId; id <= lastId; id++) if (!(await world.isFinalized(id))) ids.push(id);
      return ids;
    };
    const gameOpen = async (ids: bigint[]) => {
      for (const id of ids) {
        const task = await world.contracts.taskManager.read.getTask([id]);
        if (task.standingClaimId === 0n) return true; // not answered yet: give the keeper time
        if ((await world.contracts.taskManager.read.activeGame([task.standingClaimId])) !== zeroAddress) return true;
        if ((await world.contracts.taskManager.read.queuedChallenges([task.standingClaimId])).length > 0) return true;
      }
      return false;
    };
    // A game in which the honest keeper owes a move (its clock runs): it is computing (a VM trace takes long on a
    // loaded machine) or restarting, not gone. Moving the clock then would run its game clock out under it.
    const clockAbi = parseAbi(["function player(uint8) view returns (address)", "function clock(uint8) view returns (uint64, uint64)"]);
    const honestOwesMove = async (ids: bigint[]) => {
      for (const id of ids) {
        const task = await world.contracts.taskManager.read.getTask([id]);
        if (task.standingClaimId === 0n) continue;
        const game = await world.contracts.taskManager.read.activeGame([task.standingClaimId]);
        if (game === zeroAddress) continue;
        for (const side of [0, 1] as const) {
          const who = await world.publicClient.readContract({ address: game, abi: clockAbi, functionName: "player", args: [side] });
          if (who.toLowerCase() !== honestAddress.toLowerCase()) continue;
          const [, runningSince] = await world.publicClient.readContract({ address: game, abi: clockAbi, functionName: "clock", args: [side] });
          if (runningSince !== 0n) return true;
        }
      }
      return false;
    };
    const settleUntil = Date.now() + 300_000;
    // Nobody sending for a while (a game waits on a party that stopped, a window is open): the chain's clock moves on.
    const nonces = async () => {
      let n = 0;
      for (let i = HONEST; i < cheaterIndex; i++) n += await world.publicClient.getTransactionCount({ address: (await world.conn.viem.getWalletClients())[i]!.account.address });
      return n;
    };
    // The clock moves only once the honest keeper has processed the chain up to a block past the one where we
    // decided (it has seen every claim and had a tick to challenge it, and a challenge sent then is mined): a keeper
    // restarting slowly on a loaded machine must not have its windows closed under it. One that never catches up
    // stays behind, and the judgement below fails on it.
    const honestCaughtUp = async () => {
      const target = Number(await anvil!.blockNumber()) + 2;
      for (const until = Date.now() + 60_000; Date.now() < until; await sleep(500)) {
        const head = await honest.metric("oao_keeper_head_block");
        if (head !== undefined && head >= target) return;
      }
      console.warn(`soak: the honest keeper did not reach block ${target} within 60 s; the clock moves on anyway`);
    };
    let last = await nonces();
    let quietSince = Date.now();
    let pending = await open();
    while (pending.length > 0 && Date.now() < settleUntil) {
      const now = await nonces();
      if (now !== last) {
        last = now;
        quietSince = Date.now();
      }
      const stalled = async () => Date.now() - quietSince > 20_000 && !(await honestOwesMove(pending));
      if (!(await gameOpen(pending)) || (await stalled())) {
        await honestCaughtUp();
        if (!(await gameOpen(pending)) || (await stalled())) {
          await world.advanceTime(3_601n);
          quietSince = Date.now();
        }
      }
      await sleep(2_000);
      pending = await open();
    }
    const sent = await world.intentTxs(honestAddress, start);
    const twice = [...sent].filter(([, c]) => c.ok > 1).map(([k, c]) => `${k} x${c.ok}`);
    const reverted = [...sent].reduce((n, [, c]) => n + c.reverted, 0);
    const notHonest: string[] = [];
    for (let id = firstId; id <= lastId; id++) {
      const op = await world.standingOperator(id);
      if (op.toLowerCase() !== honestAddress.toLowerCase()) notHonest.push(`${id}: ${op}`);
    }
    console.log(
      `soak seed ${SEED}, ${SECONDS} s: ${tally.requests} requests (ids ${firstId}..${lastId} on the final chain), ${tally.kills} SIGKILLs, ${tally.reorgs} reorgs, ` +
        `${tally.refusals} send outages, ${proxy.stats.faults} RPC faults in ${proxy.stats.calls} calls, ${tally.cheaters} cheaters; honest txs: ${sent.size} intents, ${reverted} reverted`,
    );
    if (pending.length > 0 || notHonest.length > 0) {
      for (const id of pending.slice(0, 5)) {
        const task = await world.contracts.taskManager.read.getTask([id]);
        const standing = task.standingClaimId;
        const game = standing === 0n ? zeroAddress : await world.contracts.taskManager.read.activeGame([standing]);
        const queued = standing === 0n ? [] : await world.contracts.taskManager.read.queuedChallenges([standing]);
        const gameAbi = parseAbi(["function phase() view returns (uint8)", "function hasPosted(uint8) view returns (bool)", "function timeUsed(uint8) view returns (uint64)"]);
        const read = (functionName: "phase" | "hasPosted" | "timeUsed", args: readonly [number] | [] = []) =>
          world.publicClient.readContract({ address: game, abi: gameAbi, functionName, args } as never) as Promise<unknown>;
        const phase = game === zeroAddress ? "-" : await read("phase");
        const sides = game === zeroAddress ? "" : `, posted d/c ${await read("hasPosted", [0])}/${await read("hasPosted", [1])}, time used d/c ${await read("timeUsed", [0])}/${await read("timeUsed", [1])} s`;
        console.log(`open request ${id}: game phase ${phase}${sides}, status ${await world.contracts.taskManager.read.getStatus([id])}, standing claim ${standing} by ${await world.standingOperator(id)}, game ${game}, ${queued.length} queued`);
      }
      console.log(`honest keeper's log (tail):\n${honest.log().slice(-6_000)}`);
      console.log(`cheater (${cheater.proc.process.exitCode ?? cheater.proc.process.signalCode ?? "running"}) log (tail):\n${cheater.proc.log().slice(-4_000)}`);
    }
    expect(pending, "requests not finalized").toEqual([]);
    expect(notHonest, "requests whose final claim is not the honest operator's").toEqual([]);
    expect(twice, "intents mined twice").toEqual([]);
  }, (SECONDS + 900) * 1000);
});
