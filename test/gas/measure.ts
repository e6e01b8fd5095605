/**
 * Measures the gas of each step of a request's life on Hardhat's in-process chain, with the core deployed by the
 * Ignition dev module (test/oracle/fixture.ts). Every figure is the `gasUsed` of one transaction (21,000 intrinsic
 * gas and calldata included), in a fixed scenario, so the numbers are the same on every machine.
 */
import { createRequire } from "node:module";

import hardhatConfig from "../../hardhat.config.ts";
import {
  AT_FINALITY,
  CB_GAS,
  CHALLENGER,
  OUTPUT_A,
  OUTPUT_B,
  TIMEOUT,
  TRACE_A,
  TRACE_B,
  createOracleWorld,
} from "../oracle/fixture.ts";

/** One measured operation: what it is and what the callback (if any) does. */
export interface GasEntry {
  gas: number;
  note: string;
}

export type GasSnapshot = Record<string, GasEntry>;

export async function measureGas(): Promise<GasSnapshot> {
  const w = await createOracleWorld();
  await w.reset();
  const { alice, bob, user, keeper, stranger } = w.wallets;
  const out: GasSnapshot = {};
  const record = (name: string, gas: bigint, note: string) => {
    out[name] = { gas: Number(gas), note };
  };

  // OAO entry point, no callback.
  const fee0 = await w.aiOracle.read.estimateFee([w.modelId, 0n]);
  const plain = await w.send(
    w.aiOracle.write.requestCallback([w.modelId, "0x0102030405", "0x0000000000000000000000000000000000000000", 0n, "0x"], {
      account: user.account,
      value: fee0,
    }),
  );
  record("requestCallback", plain.gasUsed, "OAO request, 5-byte input, no callback, exact fee");

  // OAO entry point with a callback: the usual dapp request.
  const fee = await w.aiOracle.read.estimateFee([w.modelId, CB_GAS]);
  const withCallback = await w.send(
    w.aiOracle.write.requestCallback([w.modelId, "0x0102030405", w.receiver.address, CB_GAS, "0xc0ffee"], {
      account: user.account,
      value: fee,
    }),
  );
  record("requestCallback (callback)", withCallback.gasUsed, "OAO request with a callback contract and 3-byte callbackData");
  const oaoId = 2n;

  const { id: finalityId, receipt: optioned } = await w.request({ callback: w.receiver.address, gasLimit: CB_GAS, mode: AT_FINALITY });
  record("requestWithOptions (at finality)", optioned.gasUsed, "options request, delivery at finality");

  const noDeliveryCommit = await w.commit(alice, finalityId, OUTPUT_A, TRACE_A);
  record("commit", noDeliveryCommit.gasUsed, "claim + bond lock, no delivery (at-finality request)");

  const atCommit = await w.commit(alice, oaoId, OUTPUT_A, TRACE_A);
  record(
    "commit + delivery",
    atCommit.gasUsed,
    "claim + bond lock + OAO delivery; the callback (RecordingReceiver) stores the 1-byte output",
  );

  const challenged = await w.challenge(bob, oaoId, OUTPUT_B, TRACE_B);
  record("challenge", challenged.receipt.gasUsed, "competing claim + bond lock + game creation; the toy factory deploys a game contract, much of this figure");

  const resolved = await w.resolve(challenged.game, CHALLENGER);
  record("resolveGame (overturn + slash)", resolved.gasUsed, "called through the toy game; slash split in 3 token transfers, jail");

  const redelivered = await w.send(w.taskManager.write.deliver([oaoId], { account: keeper.account, gas: 5_000_000n }));
  record("deliver (after overturn)", redelivered.gasUsed, "redelivery of the new output to the callback");

  await w.afterWindow();
  const finalizedPlain = await w.finalize(oaoId);
  record("finalize", finalizedPlain.gasUsed, "unlock bond + fee settlement (3 credits), nothing to deliver");

  const finalizedDelivering = await w.finalize(finalityId);
  record("finalize + delivery", finalizedDelivering.gasUsed, "unlock + settlement + delivery at finality to RecordingReceiver");

  // The keeper's batch finalization: 4 committed requests without a callback in one call (docs/protocol.md §1.6).
  const batchIds: bigint[] = [];
  for (let j = 0; j < 4; j++) {
    const { id } = await w.request({});
    await w.commit(bob, id, OUTPUT_A, TRACE_A); // (alice was jailed by the overturn above)
    batchIds.push(id);
  }
  await w.afterWindow();
  const finalizedMany = await w.send(w.taskManager.write.finalizeMany([batchIds], { account: keeper.account, gas: 5_000_000n }));
  record("finalizeMany (4 items)", finalizedMany.gasUsed, "4 finalizations (unlock + settlement each, nothing to deliver) in one call");

  const { id: expiring } = await w.request({ callback: w.receiver.address, gasLimit: CB_GAS });
  await w.networkHelpers.time.increase(TIMEOUT + 1n);
  const expired = await w.send(w.taskManager.write.expire([expiring], { account: stranger.account, gas: 5_000_000n }));
  record("expire (refund + error callback)", expired.gasUsed, "refund pushed to the requester, error callback run");

  // ORA's batch entry point: 4 ordinary requests in one call (docs/protocol.md §1.2).
  const batchFee = await w.aiOracle.read.estimateFeeBatch([w.modelId, CB_GAS, 4n]);
  const batch = await w.send(
    w.aiOracle.write.requestBatchInference(
      [4n, w.modelId, `0x${"0102030405".repeat(4)}`, w.receiver.address, CB_GAS, "0xc0ffee", 0, 0],
      { account: user.account, value: batchFee },
    ),
  );
  record("requestBatchInference (4 items)", batch.gasUsed, "ORA batch: 4 requests with a callback, 5-byte inputs, one payment");

  // The steady state of a running keeper: the same request → commit + delivery → finalize by an operator that has
  // committed and finalized before (its bond record in staking exists), as every request after its first.
  const steady = await w.send(
    w.aiOracle.write.requestCallback([w.modelId, "0x0102030405", w.receiver.address, CB_GAS, "0xc0ffee"], { account: user.account, value: fee }),
  );
  record("requestCallback (callback), steady state", steady.gasUsed, "the same request later in a deployment's life");
  const steadyId = await w.aiOracle.read.requestCount();
  const steadyCommit = await w.commit(bob, steadyId, OUTPUT_A, TRACE_A);
  record("commit + delivery, steady state", steadyCommit.gasUsed, "by an operator whose earlier bonds were all released: its lock record is rewritten, not created");
  await w.afterWindow();
  const steadyFinalize = await w.finalize(steadyId);
  record("finalize, steady state", steadyFinalize.gasUsed, "unlock (the lock record keeps its marker: no refund) + settlement");

  // The same steady state with ORA's Prompt pattern as the consumer (test/solidity/ora/OraPrompt.sol, written to
  // ORA's published interface): the user calls the consumer, which requests and keeps the request; its callback
  // stores the output twice (under the request and under the prompt). The consumer's own storage is the same on
  // any oracle with ORA's interface, so this is the lifecycle to set beside ORA's request + invokeCallback.
  const prompt = await w.viem.deployContract("OraPrompt", [w.aiOracle.address], { client: { wallet: user } });
  await w.send(prompt.write.setCallbackGasLimit!([w.modelId, CB_GAS], { account: user.account }));
  const promptFee = await prompt.read.estimateFee!([w.modelId]) as bigint;
  const promptRequest = await w.send(prompt.write.calculateAIResult!([w.modelId, "hello"], { account: user.account, value: promptFee }));
  record("calculateAIResult (ORA Prompt), steady state", promptRequest.gasUsed, "a 5-byte prompt through ORA's Prompt pattern (OraPrompt), which keeps the request");
  const promptId = await w.aiOracle.read.requestCount();
  const promptCommit = await w.commit(bob, promptId, OUTPUT_A, TRACE_A);
  record("commit + delivery (ORA Prompt), steady state", promptCommit.gasUsed, "the callback stores the 1-byte output under the request and under the prompt");
  await w.afterWindow();
  const promptFinalize = await w.finalize(promptId);
  record("finalize (ORA Prompt), steady state", promptFinalize.gasUsed, "unlock + settlement, nothing to deliver");

  return out;
}

/** The comparison, as messages: failures (increases, missing or unknown operations) and notes (decreases). */
export function compareGas(snapshot: GasSnapshot, measured: GasSnapshot) {
  const failures: string[] = [];
  const notes: string[] = [];
  for (const [name, { gas }] of Object.entries(measured)) {
    const expected = snapshot[name]?.gas;
    if (expected === undefined) {
      failures.push(`${name}: ${gas} gas, not in the snapshot`);
    } else if (gas > expected) {
      const pct = ((100 * (gas - expected)) / expected).toFixed(2);
      failures.push(`${name}: ${expected} -> ${gas} gas (+${gas - expected}, +${pct}%)`);
    } else if (gas < expected) {
      notes.push(`${name}: ${expected} -> ${gas} gas (${gas - expected})`);
    }
  }
  for (const name of Object.keys(snapshot)) if (!(name in measured)) failures.push(`${name}: in the snapshot, no longer measured`);
  return { failures, notes };
}

/** Compiler and chain settings the figures depend on. */
export function gasSettings(): string[] {
  const require = createRequire(import.meta.url);
  const solc: string = require("solc/package.json").version;
  const hardhat: string = require("hardhat/package.json").version;
  const settings = hardhatConfig.solidity as unknown as { profiles: { default: { settings: { optimizer: { enabled: boolean; runs: number }; evmVersion: string; viaIR?: boolean } } } };
  const s = settings.profiles.default.settings;
  return [
    `solc ${solc} (solcjs), optimizer ${s.optimizer.enabled ? `on, ${s.optimizer.runs} runs` : "off"}, viaIR ${s.viaIR === true ? "on" : "off"}, EVM ${s.evmVersion}`,
    `Hardhat ${hardhat} in-process chain (EDR), default hardfork; gas does not depend on the machine`,
  ];
}

/** docs/gas.md, generated from a snapshot. */
export function renderGasDoc(snapshot: GasSnapshot): string {
  const rows = Object.entries(snapshot).map(([name, e]) => `| \`${name}\` | ${e.gas.toLocaleString("en-US")} | ${e.note} |`);
  return [
    "# Gas",
    "",
    "Gas used by each step of a request's life (`gasUsed` of the transaction: 21,000 intrinsic gas and calldata",
    "included), measured by `test/gas/gas.test.ts` in a fixed scenario on the core deployed by the Ignition dev",
    "module. Callbacks get 200,000 gas (`CB_GAS`); the callback contract is `RecordingReceiver`. The `challenge` and",
    "`resolveGame` figures include the toy dispute game's own cost (a game contract is deployed per challenge); the",
    "real game's figures come with the real game.",
    "",
    ...gasSettings().map((line) => `- ${line}`),
    "",
    "| operation | gas | what it does |",
    "|---|---:|---|",
    ...rows,
    "",
    "This file and `docs/gas-snapshot.json` are written by `npm run gas:snapshot`. `npm test` fails when an",
    "operation costs more than its snapshot (naming the operation and the increase) or when this file differs",
    "from the snapshot; a decrease passes with a note. After a deliberate change, run `npm run gas:snapshot`",
    "and commit both files with the change that explains it.",
    "",
  ].join("\n");
}
