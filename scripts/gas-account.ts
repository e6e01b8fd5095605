/**
 * Where a request's gas goes, line by line (issue 16, "an undisputed request's whole life … or a line-by-line account
 * of each remaining cost"): the lifecycle of test/gas/measure.ts — `requestCallback` with a callback, the keeper's
 * `commit` delivering to the callback, and `finalize` after the window — on Hardhat's in-process chain with the dev
 * core, each transaction traced with `debug_traceTransaction` (its opcodes and their gas). Per transaction:
 * intrinsic and calldata gas, every storage write (contract, slot, cost: 22,100 for a fresh slot, 2,900/5,000
 * rewrites, 100 warm no-ops; refunds apart), cold/warm storage reads, external calls' overhead (the cost of the call
 * itself, not of the callee), logs, hashing, and the rest (computation, memory). The figures add up to `gasUsed`
 * (the difference, refunds, is shown). The traced lifecycle is a deployment's second (the first, untraced, pays
 * the one-time writes of counters and balances).
 *
 *   npx tsx scripts/gas-account.ts [--json]
 *
 * Gas does not depend on the machine; the table goes into docs/gas.md's companion section in docs/benchmarks.md by hand.
 */
import { getAddress, type Address, type Hex } from "viem";
import { CB_GAS, OUTPUT_A, TRACE_A, createOracleWorld } from "../test/oracle/fixture.ts";

interface StructLog {
  pc: number;
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

interface Line {
  what: string;
  gas: number;
}

const json = process.argv.includes("--json");
const w = await createOracleWorld();
await w.reset();
const { user, alice } = w.wallets;
const names = new Map<string, string>(
  Object.entries({ aiOracle: w.aiOracle.address, taskManager: w.taskManager.address, staking: w.staking.address, stakeToken: w.stakeToken.address, receiver: w.receiver.address }).map(
    ([n, a]) => [getAddress(a as Address), n],
  ),
);
const nameOf = (a: string) => names.get(getAddress(a as Address)) ?? a.slice(0, 10);

const fee = await w.aiOracle.read.estimateFee([w.modelId, CB_GAS]);
// A first lifecycle, not traced: the steady state (counters, the operator's and the fee receivers' balances
// already written once), as for every request after a deployment's first.
{
  await w.send(w.aiOracle.write.requestCallback([w.modelId, "0x0a0b0c0d0e", w.receiver.address, CB_GAS, "0xc0ffee"], { account: user.account, value: fee }));
  const first = await w.aiOracle.read.requestCount();
  await w.commit(alice, first, OUTPUT_A, TRACE_A);
  await w.afterWindow();
  await w.finalize(first);
}
const request = await w.send(w.aiOracle.write.requestCallback([w.modelId, "0x0102030405", w.receiver.address, CB_GAS, "0xc0ffee"], { account: user.account, value: fee }));
const id = await w.aiOracle.read.requestCount();
const commit = await w.commit(alice, id, OUTPUT_A, TRACE_A);
await w.afterWindow();
const finalize = await w.finalize(id);

const provider = w.connection.provider;
const rows: { tx: string; gasUsed: number; lines: Line[] }[] = [];
for (const [label, receipt] of [
  ["requestCallback (callback)", request],
  ["commit + delivery", commit],
  ["finalize", finalize],
] as const) {
  const tx = await w.publicClient.getTransaction({ hash: receipt.transactionHash });
  const trace = (await provider.request({ method: "debug_traceTransaction", params: [receipt.transactionHash, { enableMemory: false, disableStorage: true }] })) as { structLogs: StructLog[]; gas: number };
  const logs = trace.structLogs;
  const lines = new Map<string, number>();
  const counts = new Map<string, number>();
  const add = (what: string, gas: number, counted = false) => {
    lines.set(what, (lines.get(what) ?? 0) + gas);
    if (counted) counts.set(what, (counts.get(what) ?? 0) + 1);
  };
  // Intrinsic: 21,000 + calldata (4 per zero byte, 16 per other byte; prague's floor is not the binding one here).
  const data = Buffer.from((tx.input as Hex).slice(2), "hex");
  const zeros = data.filter((b) => b === 0).length;
  add("intrinsic (21,000)", 21_000);
  add(`calldata (${data.length} bytes, ${zeros} zero)`, 4 * zeros + 16 * (data.length - zeros));
  // Which contract runs at each depth: the tx's target, then each call's target.
  const frames: string[] = [tx.to!];
  const written = new Set<string>();
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i]!;
    frames.length = l.depth;
    const here = nameOf(frames[l.depth - 1] ?? "?");
    const stack = l.stack ?? [];
    const top = (k: number) => stack[stack.length - 1 - k] ?? "0x0";
    switch (l.op) {
      case "SSTORE": {
        const slot = BigInt(top(0));
        const key = `${here}:${slot}`;
        const kind = l.gasCost >= 20_000 ? "to a fresh slot" : l.gasCost >= 2_900 ? "rewriting a slot" : "warm, value unchanged or rewritten";
        add(`${here}: SSTORE ${kind}${written.has(key) ? " (a slot written before in this tx)" : ""}`, l.gasCost, true);
        written.add(key);
        break;
      }
      case "SLOAD":
        add(`${here}: SLOAD ${l.gasCost >= 2_100 ? "cold" : "warm"}`, l.gasCost, true);
        break;
      case "CALL":
      case "STATICCALL":
      case "DELEGATECALL":
      case "CALLCODE": {
        const target = top(1);
        const next = logs[i + 1];
        const forwarded = next && next.depth === l.depth + 1 ? next.gas : 0;
        // Struct logs charge the forwarded gas to the call op; the callee's own ops are counted in its frame.
        add(`${here} → ${nameOf(`0x${BigInt(target).toString(16).padStart(40, "0")}`)}: ${l.op} (the call itself)`, l.gasCost - forwarded, true);
        if (next && next.depth === l.depth + 1) frames[l.depth] = `0x${BigInt(target).toString(16).padStart(40, "0")}`;
        break;
      }
      case "KECCAK256":
        add(`${here}: KECCAK256`, l.gasCost, true);
        break;
      default:
        if (l.op.startsWith("LOG")) add(`${here}: ${l.op} (an event)`, l.gasCost, true);
        else add(`${here}: computation and memory`, l.gasCost);
    }
  }
  const sum = [...lines.values()].reduce((a, b) => a + b, 0);
  const gasUsed = Number(receipt.gasUsed);
  const sorted = [...lines.entries()].map(([what, gas]) => ({ what: counts.has(what) ? `${what} ×${counts.get(what)}` : what, gas })).sort((a, b) => b.gas - a.gas);
  if (gasUsed !== sum) sorted.push({ what: "refund (storage cleared or restored)", gas: gasUsed - sum });
  rows.push({ tx: label, gasUsed, lines: sorted });
}

if (json) console.log(JSON.stringify(rows));
else {
  for (const r of rows) {
    console.log(`\n#### ${r.tx}: ${r.gasUsed.toLocaleString("en-US")} gas\n\n| item | gas |\n|---|---:|`);
    for (const l of r.lines) console.log(`| ${l.what} | ${l.gas.toLocaleString("en-US")} |`);
  }
  console.log(`\nlifecycle: ${rows.reduce((a, r) => a + r.gasUsed, 0).toLocaleString("en-US")} gas`);
}
process.exit(0);
