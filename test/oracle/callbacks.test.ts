/**
 * Hostile callbacks from TypeScript: each kind of misbehaving receiver (contracts/mocks/HostileReceivers.sol) is
 * attached to a real request; the request still commits, finalizes (or expires), the failure is recorded in
 * CallbackExecuted, and every wei of the fee ends up with the party it belongs to.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type Address, type Hex, getAddress } from "viem";

import {
  AT_COMMIT,
  AT_FINALITY,
  CALLBACK_OVERHEAD_GAS,
  CB_GAS,
  MODEL_FEE,
  MODEL_SHARE_BPS,
  OUTPUT_A,
  PROTOCOL_FEE,
  Status,
  TIMEOUT,
  TRACE_A,
  createOracleWorld,
} from "./fixture.ts";

const w = await createOracleWorld();
const { alice, user, keeper, stranger, treasury, modelFeeReceiver } = w.wallets;
const CALLBACK_FEE = (CB_GAS + CALLBACK_OVERHEAD_GAS) * 1_000_000_000n;
const MODEL_SHARE = (MODEL_FEE * MODEL_SHARE_BPS) / 10_000n;
const RETURN_BOMB_BYTES = 100_000n;

beforeEach(() => w.reset());

/** `succeeds`: whether the callback returns normally (a return bomb and a re-entrant that swallows its failed
 * re-entries do); `copied`: bytes of its return data the oracle must log (capped at 256). */
type Hostile = { name: string; succeeds?: boolean; copied?: number; deploy: () => Promise<Address>; check?: (address: Address) => Promise<void> };

const hostiles: Hostile[] = [
  { name: "reverting", deploy: async () => (await w.viem.deployContract("RevertingReceiver")).address },
  { name: "out-of-gas (infinite loop)", deploy: async () => (await w.viem.deployContract("GasBurningReceiver")).address },
  {
    name: "huge return data",
    succeeds: true,
    copied: 256,
    deploy: async () => (await w.viem.deployContract("ReturnBombReceiver", [RETURN_BOMB_BYTES, false])).address,
  },
  {
    name: "huge revert data",
    copied: 256,
    deploy: async () => (await w.viem.deployContract("ReturnBombReceiver", [RETURN_BOMB_BYTES, true])).address,
  },
  {
    name: "gas-griefing (burns its whole limit)",
    deploy: async () => {
      const griefer = await w.viem.deployContract("GasGriefingReceiver");
      await w.send(griefer.write.setBurn([true]));
      return griefer.address;
    },
  },
  {
    name: "re-entering (commit, challenge, finalize, deliver, expire, withdraw, the oracle's hooks)",
    succeeds: true,
    deploy: async () =>
      (await w.viem.deployContract("ReenteringReceiver", [w.aiOracle.address, w.taskManager.address], { value: 10n ** 18n }))
        .address,
    check: async (address) => {
      const r = await w.viem.getContractAt("ReenteringReceiver", address);
      expect(await r.read.calls()).toBeGreaterThan(0n);
      expect(await r.read.reentered()).toBe(0n);
    },
  },
];

function parties(callback: Address) {
  return {
    user: user.address,
    alice: alice.address,
    keeper: keeper.address,
    stranger: stranger.address,
    treasury: treasury.address,
    modelFeeReceiver: modelFeeReceiver.address,
    oracle: w.aiOracle.address,
    callback,
  };
}

function sum(delta: Record<string, { eth: bigint }>) {
  return Object.values(delta).reduce((acc, d) => acc + d.eth, 0n);
}

describe.each(hostiles)("a $name callback", (hostile) => {
  it("cannot block commit or finalize (delivery at commit); the failure is recorded and the fee split exactly", async () => {
    const callback = await hostile.deploy();
    const ledger = await w.ledger(parties(callback));
    const { id, fee } = await w.request({ callback, gasLimit: CB_GAS, mode: AT_COMMIT });
    const committed = await w.commit(alice, id, OUTPUT_A, TRACE_A);
    const executed = w.eventsNamed(committed, "CallbackExecuted")[0]!;
    expect(executed.args).toMatchObject({ requestId: id, callbackContract: getAddress(callback), isError: false });
    const succeeds = hostile.succeeds ?? false;
    expect(executed.args.success).toBe(succeeds);
    const copied = ((executed.args.returnData as Hex).length - 2) / 2;
    if (hostile.copied !== undefined) expect(copied).toBe(hostile.copied);
    expect(copied).toBeLessThanOrEqual(256);
    expect((await w.aiOracle.read.getRequest([id])).lastCallbackSucceeded).toBe(succeeds);
    // The executor pays at most the callback's gas limit plus the overhead it was paid for, whatever the callee does.
    // 385k: the commit itself, including the §3.5 claim-proof checks (~60k with their calldata) and the bond lock
    // (~22k when it opens the task manager's per-slasher lock of the operator, docs/protocol.md §2.2).
    expect(committed.gasUsed).toBeLessThan(CB_GAS + CALLBACK_OVERHEAD_GAS + 385_000n);
    expect(await w.aiOracle.read.getStatus([id])).toBe(Status.Committed);

    await w.afterWindow();
    await w.finalize(id, keeper);
    expect(await w.aiOracle.read.isFinalized([id])).toBe(true);
    expect(await w.aiOracle.read.getResult([id])).toEqual([OUTPUT_A, true]);
    await hostile.check?.(callback);

    const d = await ledger.delta();
    expect(d.user!.eth).toBe(-fee);
    expect(d.alice!.credit).toBe(MODEL_FEE - MODEL_SHARE + CALLBACK_FEE);
    expect(d.modelFeeReceiver!.credit).toBe(MODEL_SHARE);
    expect(d.treasury!.credit).toBe(PROTOCOL_FEE);
    expect(d.oracle!.eth).toBe(fee);
    expect(sum(d)).toBe(0n);
  });

  it("cannot block delivery at finality", async () => {
    const callback = await hostile.deploy();
    const ledger = await w.ledger(parties(callback));
    const { id, fee } = await w.request({ callback, gasLimit: CB_GAS, mode: AT_FINALITY });
    await w.commit(alice, id, OUTPUT_A, TRACE_A);
    await w.afterWindow();
    const finalized = await w.finalize(id, keeper);
    expect(w.eventsNamed(finalized, "AICallbackResult")).toHaveLength(1);
    expect(w.eventsNamed(finalized, "FeeSettled")).toHaveLength(1);
    expect(await w.aiOracle.read.getStatus([id])).toBe(Status.Delivered);
    const d = await ledger.delta();
    expect(d.keeper!.credit).toBe(CALLBACK_FEE);
    expect(d.alice!.credit + d.modelFeeReceiver!.credit + d.treasury!.credit + d.keeper!.credit).toBe(fee);
    expect(sum(d)).toBe(0n);
  });

  it("cannot block the refund of an expired request", async () => {
    const callback = await hostile.deploy();
    const ledger = await w.ledger(parties(callback));
    const { id, fee } = await w.request({ callback, gasLimit: CB_GAS });
    await w.networkHelpers.time.increase(TIMEOUT + 1n);
    const expired = await w.send(w.taskManager.write.expire([id], { account: stranger.account, gas: 5_000_000n }));
    expect(w.eventsNamed(expired, "CallbackExecuted")[0]!.args).toMatchObject({ isError: true });
    expect(await w.aiOracle.read.getStatus([id])).toBe(Status.Refunded);
    const d = await ledger.delta();
    expect(d.user!.eth).toBe(-fee + MODEL_FEE + PROTOCOL_FEE);
    expect(d.stranger!.credit).toBe(CALLBACK_FEE);
    expect(sum(d)).toBe(0n);
  });
});

describe("gas given to callbacks", () => {
  it("a callback gets its whole gas limit, and a keeper cannot starve it by sending too little gas", async () => {
    const probe = await w.viem.deployContract("GasGriefingReceiver");
    const { id } = await w.request({ callback: probe.address, gasLimit: CB_GAS });
    // Too little gas for the 63/64 rule: the whole commit reverts rather than running a starved callback.
    await w.expectRevert(
      w.taskManager.write.commit([id, OUTPUT_A, await w.proofFor(id, OUTPUT_A, TRACE_A)], { account: alice.account, gas: 430_000n }),
      "InsufficientGasForCallback",
    );
    expect(await w.aiOracle.read.getStatus([id])).toBe(Status.Requested);
    await w.commit(alice, id, OUTPUT_A, TRACE_A);
    const atEntry = await probe.read.gasAtEntry();
    // gasleft() at entry is the limit minus the few opcodes before it.
    expect(atEntry).toBeLessThanOrEqual(CB_GAS);
    expect(atEntry).toBeGreaterThan(CB_GAS - 1_000n);
  });

  it("a callback address without code is recorded as a failed callback", async () => {
    const { id } = await w.request({ callback: stranger.address, gasLimit: CB_GAS });
    const committed = await w.commit(alice, id, OUTPUT_A, TRACE_A);
    expect(w.eventsNamed(committed, "CallbackExecuted")[0]!.args).toMatchObject({ success: false, returnData: "0x" });
  });
});
