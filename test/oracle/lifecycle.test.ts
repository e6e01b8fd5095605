/**
 * Every path of a request's life (docs/protocol.md §1-§2) on Hardhat's in-process chain, with the core deployed
 * through the Ignition dev module: events read from receipts, errors decoded by name and values, and every wei
 * (ETH fees and stake tokens) accounted to someone.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type Address, type Hex, encodeAbiParameters, getAddress, keccak256 } from "viem";

import {
  AT_COMMIT,
  AT_FINALITY,
  BOND,
  CALLBACK_OVERHEAD_GAS,
  CB_GAS,
  CHALLENGER,
  DEFENDER,
  JAIL,
  MODEL_FEE,
  MODEL_SHARE_BPS,
  OPERATOR_STAKE,
  OUTPUT_A,
  OUTPUT_B,
  OUTPUT_C,
  PROTOCOL_FEE,
  REQUESTER_BPS,
  Status,
  TIMEOUT,
  TRACE_A,
  TRACE_B,
  TRACE_C,
  WINDOW,
  WINNER_BPS,
  createOracleWorld,
} from "./fixture.ts";

const w = await createOracleWorld();
const { alice, bob, carol, user, keeper, stranger, treasury, modelFeeReceiver } = w.wallets;
const GAS_PRICE = 1_000_000_000n; // the dev module's callback gas price (above the in-process basefee)
const CALLBACK_FEE = (CB_GAS + CALLBACK_OVERHEAD_GAS) * GAS_PRICE;
const MODEL_SHARE = (MODEL_FEE * MODEL_SHARE_BPS) / 10_000n;

beforeEach(() => w.reset());

/** Everyone who can receive or pay ETH in a request's life. */
function ethParties() {
  return {
    user: user.address,
    alice: alice.address,
    bob: bob.address,
    carol: carol.address,
    keeper: keeper.address,
    stranger: stranger.address,
    treasury: treasury.address,
    modelFeeReceiver: modelFeeReceiver.address,
    oracle: w.aiOracle.address,
    receiver: w.receiver.address,
    staking: w.staking.address,
  } satisfies Record<string, Address>;
}

type Delta = Record<string, { eth: bigint; credit: bigint; token: bigint }>;

/** Nothing created or lost: ETH deltas sum to zero, tokens too, and the oracle holds exactly the credits. */
function expectConserved(delta: Delta) {
  const sum = (f: (d: { eth: bigint; credit: bigint; token: bigint }) => bigint) =>
    Object.values(delta).reduce((acc, d) => acc + f(d), 0n);
  expect(sum((d) => d.eth), "ETH moved between the parties sums to zero").toBe(0n);
  expect(sum((d) => d.token), "stake tokens moved between the parties sum to zero").toBe(0n);
  const creditsExceptOracle = Object.entries(delta)
    .filter(([label]) => label !== "oracle")
    .reduce((acc, [, d]) => acc + d.credit, 0n);
  expect(delta.oracle!.eth, "the oracle's ETH is the escrow plus the credits it owes").toBeGreaterThanOrEqual(
    creditsExceptOracle,
  );
}

async function deliveries() {
  const n = await w.receiver.read.deliveryCount();
  const out: { requestId: bigint; output: Hex; callbackData: Hex; finalizedAtCall: boolean; gasAtEntry: bigint }[] = [];
  for (let i = 0n; i < n; i++) out.push(await w.receiver.read.deliveryAt([i]));
  return out;
}

describe("request -> commit -> finalize (OAO delivery at commit)", () => {
  it("delivers at commit, finalizes after the window, and splits the fee to the wei", async () => {
    const ledger = await w.ledger(ethParties());
    const { id, fee, receipt: requested } = await w.request({ callback: w.receiver.address, gasLimit: CB_GAS });
    expect(fee).toBe(MODEL_FEE + CALLBACK_FEE + PROTOCOL_FEE);
    const oao = w.eventsNamed(requested, "AICallbackRequest")[0]!;
    expect(oao.args).toMatchObject({
      account: user.address,
      requestId: id,
      modelId: w.modelId,
      input: "0x0102030405",
      callbackContract: getAddress(w.receiver.address),
      gasLimit: CB_GAS,
      callbackData: "0xc0ffee",
    });
    expect(await w.aiOracle.read.getStatus([id])).toBe(Status.Requested);

    const committed = await w.commit(alice, id, OUTPUT_A, TRACE_A);
    const claim = w.eventsNamed(committed, "ClaimCommitted")[0]!;
    expect(claim.args).toMatchObject({ requestId: id, claimId: 1n, operator: alice.address, traceRoot: (await w.proofFor(id, OUTPUT_A, TRACE_A)).traceRoot });
    expect(w.eventsNamed(committed, "AICallbackResult")[0]!.args).toMatchObject({
      account: user.address,
      requestId: id,
      invoker: alice.address,
      output: OUTPUT_A,
    });
    expect(w.eventsNamed(committed, "CallbackExecuted")[0]!.args).toMatchObject({ success: true, isError: false });
    expect(w.eventsNamed(committed, "StakeLocked")[0]!.args).toMatchObject({ operator: alice.address, amount: BOND });
    const [first] = await deliveries();
    expect(first).toMatchObject({ requestId: id, output: OUTPUT_A, callbackData: "0xc0ffee", finalizedAtCall: false });
    expect(await w.aiOracle.read.isFinalized([id])).toBe(false);
    expect(await w.aiOracle.read.getResult([id])).toEqual([OUTPUT_A, false]);
    expect(await w.aiOracle.read.getOutputHash([id])).toBe(keccak256(OUTPUT_A));

    await w.expectRevert(w.finalize(id), "ChallengeWindowOpen");
    await w.afterWindow();
    const finalized = await w.finalize(id);
    expect(w.eventsNamed(finalized, "RequestFinalized")[0]!.args).toMatchObject({ requestId: id, claimId: 1n });
    expect(w.eventsNamed(finalized, "AICallbackResult")).toHaveLength(0); // already delivered at commit
    expect(w.eventsNamed(finalized, "FeeSettled")[0]!.args).toMatchObject({
      operator: alice.address,
      operatorPay: MODEL_FEE - MODEL_SHARE,
      modelShare: MODEL_SHARE,
      protocolFee: PROTOCOL_FEE,
    });
    expect(await w.aiOracle.read.isFinalized([id])).toBe(true);
    expect(await w.aiOracle.read.getStatus([id])).toBe(Status.Delivered);
    expect(await w.staking.read.getAccount([alice.address])).toMatchObject({ active: OPERATOR_STAKE, locked: 0n });

    const d = await ledger.delta();
    expect(d.user!.eth).toBe(-fee);
    // The committer executed the delivery, so it earns the callback fee on top of its share of the model fee.
    expect(d.alice!.credit).toBe(MODEL_FEE - MODEL_SHARE + CALLBACK_FEE);
    expect(d.modelFeeReceiver!.credit).toBe(MODEL_SHARE);
    expect(d.treasury!.credit).toBe(PROTOCOL_FEE);
    expect(d.oracle!.eth).toBe(fee);
    expectConserved(d);

    // Credits are pulled: the whole balance, once.
    const before = await w.publicClient.getBalance({ address: alice.address });
    const pulled = await w.send(w.aiOracle.write.withdraw([alice.address], { account: alice.account }));
    const fees = pulled.gasUsed * pulled.effectiveGasPrice;
    expect(await w.publicClient.getBalance({ address: alice.address })).toBe(
      before - fees + MODEL_FEE - MODEL_SHARE + CALLBACK_FEE,
    );
    await w.expectRevert(
      w.aiOracle.write.withdraw([alice.address], { account: alice.account }),
      "NothingToWithdraw",
      [alice.address],
    );
  });

  it("the plain OAO entry point requestCallback works the same way", async () => {
    const fee = await w.aiOracle.read.estimateFee([w.modelId, CB_GAS]);
    const receipt = await w.send(
      w.aiOracle.write.requestCallback([w.modelId, "0x0102030405", w.receiver.address, CB_GAS, "0x"], {
        account: user.account,
        value: fee + 12_345n, // the excess comes back
      }),
    );
    const id = w.eventsNamed(receipt, "AICallbackRequest")[0]!.args.requestId as bigint;
    expect(w.eventsNamed(receipt, "PaymentSent")[0]!.args).toMatchObject({ account: user.address, amount: 12_345n });
    expect((await w.aiOracle.read.getRequest([id])).deliveryMode).toBe(AT_COMMIT);
    await w.commit(alice, id, OUTPUT_A, TRACE_A);
    expect((await deliveries()).map((d) => d.output)).toEqual([OUTPUT_A]);
  });
});

describe("finality-only delivery", () => {
  it("calls back once, at finalization, with the result marked final; the finalizer earns the callback fee", async () => {
    const ledger = await w.ledger(ethParties());
    const { id, fee } = await w.request({ callback: w.receiver.address, gasLimit: CB_GAS, mode: AT_FINALITY });
    const committed = await w.commit(alice, id, OUTPUT_A, TRACE_A);
    expect(w.eventsNamed(committed, "AICallbackResult")).toHaveLength(0);
    expect(await deliveries()).toHaveLength(0);
    await w.afterWindow();
    const finalized = await w.finalize(id, keeper);
    expect(w.eventsNamed(finalized, "AICallbackResult")[0]!.args).toMatchObject({ invoker: keeper.address, output: OUTPUT_A });
    expect(w.eventsNamed(finalized, "CallbackFeePaid")[0]!.args).toMatchObject({ executor: keeper.address, amount: CALLBACK_FEE });
    const all = await deliveries();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ output: OUTPUT_A, finalizedAtCall: true });
    const d = await ledger.delta();
    expect(d.keeper!.credit).toBe(CALLBACK_FEE);
    expect(d.alice!.credit).toBe(MODEL_FEE - MODEL_SHARE);
    expect(d.user!.eth).toBe(-fee);
    expectConserved(d);
  });
});

describe("challenge, overturn and redelivery through the toy game", () => {
  it("redelivers the new output after an overturn, slashes the loser with the split, and jails it", async () => {
    const ledger = await w.ledger(ethParties());
    const supply = await w.stakeToken.read.totalSupply();
    const { id, fee } = await w.request({ callback: w.receiver.address, gasLimit: CB_GAS });
    await w.commit(alice, id, OUTPUT_A, TRACE_A);
    const { game, claimId, receipt } = await w.challenge(bob, id, OUTPUT_B, TRACE_B);
    expect(w.eventsNamed(receipt, "ClaimChallenged")[0]!.args).toMatchObject({
      requestId: id,
      defenderClaimId: 1n,
      challengerClaimId: claimId,
      challenger: bob.address,
      game: game.address,
      output: OUTPUT_B,
    });
    expect(await w.aiOracle.read.getStatus([id])).toBe(Status.Challenged);
    await w.afterWindow();
    await w.expectRevert(w.finalize(id), "GamesOpen", [id, 1]);

    const resolved = await w.resolve(game, CHALLENGER);
    const overturned = w.eventsNamed(resolved, "ClaimOverturned")[0]!;
    expect(overturned.args).toMatchObject({ requestId: id, oldClaimId: 1n, newClaimId: claimId });
    const slashed = w.eventsNamed(resolved, "Slashed")[0]!;
    const toWinner = (BOND * WINNER_BPS) / 10_000n;
    const toRequester = (BOND * REQUESTER_BPS) / 10_000n;
    expect(slashed.args).toMatchObject({
      operator: alice.address,
      amount: BOND,
      winner: bob.address,
      toWinner,
      requester: user.address,
      toRequester,
      toTreasury: BOND - toWinner - toRequester,
    });
    const now = BigInt((await w.publicClient.getBlock()).timestamp);
    expect(slashed.args.jailedUntil).toBe(now + JAIL);
    expect((await w.taskManager.read.getTask([id])).deliveryPending).toBe(true);

    // Anyone may deliver the new output; it goes to the callback once.
    const redelivered = await w.send(w.taskManager.write.deliver([id], { account: stranger.account, gas: 5_000_000n }));
    expect(w.eventsNamed(redelivered, "AICallbackResult")[0]!.args).toMatchObject({ invoker: stranger.address, output: OUTPUT_B });
    expect((await deliveries()).map((d) => d.output)).toEqual([OUTPUT_A, OUTPUT_B]);
    await w.expectRevert(w.taskManager.write.deliver([id], { account: stranger.account }), "NoDeliveryPending", [id]);

    // The new standing claim has its own window.
    await w.expectRevert(w.finalize(id), "ChallengeWindowOpen");
    await w.afterWindow();
    await w.finalize(id);
    expect(await w.aiOracle.read.getResult([id])).toEqual([OUTPUT_B, true]);
    expect((await deliveries()).length).toBe(2); // no third call at finality

    const d = await ledger.delta();
    expect(d.bob!.credit).toBe(MODEL_FEE - MODEL_SHARE); // the operator of the final claim is paid
    expect(d.alice!.credit).toBe(CALLBACK_FEE); // the first delivery's executor keeps the callback fee
    expect(d.stranger!.credit).toBe(0n);
    expect(d.user!.eth).toBe(-fee);
    expect(d.alice!.token).toBe(0n); // the slash comes out of stake held by the staking contract
    expect(d.bob!.token).toBe(toWinner);
    expect(d.user!.token).toBe(toRequester);
    expect(d.treasury!.token).toBe(BOND - toWinner - toRequester);
    expect(d.staking!.token).toBe(-BOND);
    expectConserved(d);
    expect(await w.stakeToken.read.totalSupply()).toBe(supply);
    expect(await w.staking.read.getAccount([alice.address])).toMatchObject({
      active: OPERATOR_STAKE - BOND,
      locked: 0n,
      jailedUntil: now + JAIL,
    });
    expect(await w.staking.read.getAccount([bob.address])).toMatchObject({ active: OPERATOR_STAKE, locked: 0n });

    // Jailed: alice cannot answer or challenge until the jail ends, then she can.
    const next = await w.request();
    await w.expectRevert(w.commit(alice, next.id, OUTPUT_A, TRACE_A), "OperatorJailed", [alice.address, now + JAIL]);
    await w.networkHelpers.time.increaseTo(now + JAIL);
    const fresh = await w.request();
    await w.commit(alice, fresh.id, OUTPUT_A, TRACE_A);
    expect(await w.aiOracle.read.getStatus([fresh.id])).toBe(Status.Committed);
  });

  it("a defender that wins keeps its claim, is not called back twice, and the challenger is slashed", async () => {
    const { id } = await w.request({ callback: w.receiver.address, gasLimit: CB_GAS });
    await w.commit(alice, id, OUTPUT_A, TRACE_A);
    const { game, claimId } = await w.challenge(bob, id, OUTPUT_B, TRACE_B);
    const resolved = await w.resolve(game, DEFENDER);
    expect(w.eventsNamed(resolved, "GameResolved")[0]!.args).toMatchObject({ winner: DEFENDER, loserSlashed: BOND });
    expect(w.eventsNamed(resolved, "Slashed")[0]!.args).toMatchObject({ operator: bob.address, winner: alice.address });
    expect((await w.taskManager.read.getClaim([claimId])).status).toBe(3); // Defeated
    await w.expectRevert(w.resolve(game, CHALLENGER), "AlreadyResolved");
    await w.afterWindow();
    await w.finalize(id);
    expect(await w.aiOracle.read.getResult([id])).toEqual([OUTPUT_A, true]);
    expect((await deliveries()).map((d) => d.output)).toEqual([OUTPUT_A]);
  });

  it("plays one game at a time against a claim: a second challenge queues, and is released once the claim is defeated", async () => {
    const supply = await w.stakeToken.read.totalSupply();
    const ledger = await w.ledger(ethParties());
    const { id } = await w.request({ mode: AT_FINALITY, callback: w.receiver.address, gasLimit: CB_GAS });
    await w.commit(alice, id, OUTPUT_A, TRACE_A);
    const g1 = await w.challenge(bob, id, OUTPUT_B, TRACE_B);
    const q = await w.challengeQueued(carol, id, OUTPUT_C, TRACE_C);
    expect(w.eventsNamed(q.receipt, "ClaimChallenged")).toHaveLength(0);
    expect((await w.taskManager.read.getClaim([q.claimId])).status).toBe(6); // Queued
    expect((await w.taskManager.read.getClaim([1n])).openGames).toBe(2);
    expect(await w.taskManager.read.queuedChallenges([1n])).toEqual([q.claimId]);
    expect(await w.aiOracle.read.getStatus([id])).toBe(Status.Challenged);
    await w.afterWindow();
    await w.expectRevert(w.finalize(id), "GamesOpen", [id, 2]);
    await w.expectRevert(w.send(w.taskManager.write.releaseChallenge([q.claimId], { account: stranger.account })), "ChallengeNotReleasable", [
      q.claimId,
      6,
      1n,
      1,
    ]);
    // Bob wins: alice's claim is defeated, and carol's queued game against it could no longer change the request.
    const r1 = await w.resolve(g1.game, CHALLENGER);
    expect(w.eventsNamed(r1, "Slashed")).toHaveLength(1);
    expect((await w.taskManager.read.getTask([id])).standingClaimId).toBe(g1.claimId);
    const released = await w.send(w.taskManager.write.releaseChallenge([q.claimId], { account: stranger.account }));
    expect(w.eventsNamed(released, "StakeUnlocked")[0]!.args).toMatchObject({ operator: carol.address, amount: BOND });
    expect((await w.taskManager.read.getClaim([q.claimId])).status).toBe(4); // Released
    expect((await w.taskManager.read.getClaim([1n])).openGames).toBe(0);
    await w.afterWindow();
    await w.finalize(id);
    expect(await w.aiOracle.read.getResult([id])).toEqual([OUTPUT_B, true]);
    expect((await deliveries()).map((d) => [d.output, d.finalizedAtCall])).toEqual([[OUTPUT_B, true]]);
    for (const op of [alice, bob, carol]) {
      expect((await w.staking.read.getAccount([op.address])).locked).toBe(0n);
    }
    expect((await w.staking.read.getAccount([alice.address])).active).toBe(OPERATOR_STAKE - BOND);
    expect((await w.staking.read.getAccount([carol.address])).active).toBe(OPERATOR_STAKE);
    const d = await ledger.delta();
    expect(d.staking!.token).toBe(-BOND);
    expectConserved(d);
    expect(await w.stakeToken.read.totalSupply()).toBe(supply);
  });

  it("rejects challenges that are not competing claims", async () => {
    const { id } = await w.request();
    await w.expectRevert(w.challenge(bob, id, OUTPUT_B, TRACE_B), "NotCommitted", [id, Status.Requested]);
    await w.commit(alice, id, OUTPUT_A, TRACE_A);
    await w.expectRevert(w.challenge(bob, id, OUTPUT_A, TRACE_B), "SameOutput", [id, keccak256(OUTPUT_A)]);
    await w.expectRevert(w.challenge(alice, id, OUTPUT_B, TRACE_B), "CannotChallengeOwnClaim", [1n, alice.address]);
    await w.expectRevert(w.challenge(stranger, id, OUTPUT_B, TRACE_B), "StakeBelowMinimum");
    await w.afterWindow();
    const windowEnd = (await w.taskManager.read.getClaim([1n])).windowEnd;
    const now = BigInt((await w.publicClient.getBlock()).timestamp) + 1n;
    await w.expectRevert(w.challenge(bob, id, OUTPUT_B, TRACE_B), "ChallengeWindowClosed", [id, windowEnd, now]);
  });
});

describe("expiry and refund", () => {
  it("anyone expires an unanswered request: the requester is refunded, the error callback runs, the executor is paid", async () => {
    const ledger = await w.ledger(ethParties());
    const { id, fee } = await w.request({ callback: w.receiver.address, gasLimit: CB_GAS });
    const deadline = (await w.aiOracle.read.getRequest([id])).deadline;
    await w.expectRevert(w.taskManager.write.expire([id], { account: stranger.account }), "DeadlineNotPassed");
    await w.networkHelpers.time.increase(TIMEOUT + 1n);
    expect(await w.aiOracle.read.getStatus([id])).toBe(Status.Expired);
    const now = BigInt((await w.publicClient.getBlock()).timestamp) + 1n;
    await w.expectRevert(w.commit(alice, id, OUTPUT_A, TRACE_A), "DeadlinePassed", [id, deadline, now]);

    const expired = await w.send(w.taskManager.write.expire([id], { account: stranger.account, gas: 5_000_000n }));
    const refunded = MODEL_FEE + PROTOCOL_FEE;
    expect(w.eventsNamed(expired, "RequestExpired")[0]!.args).toMatchObject({ requestId: id });
    expect(w.eventsNamed(expired, "RequestRefunded")[0]!.args).toMatchObject({ requester: user.address, amount: refunded });
    expect(w.eventsNamed(expired, "CallbackExecuted")[0]!.args).toMatchObject({ isError: true, success: true });
    expect(await w.receiver.read.errorCount()).toBe(1n);
    expect(await w.receiver.read.errorAt([0n])).toMatchObject({
      requestId: id,
      errorCode: 2, // ErrorCodes.EXPIRED (ORA's 1 is InvalidBatchSize)
      errorData: encodeAbiParameters([{ type: "uint256" }], [refunded]),
      callbackData: "0xc0ffee",
    });
    expect(await w.aiOracle.read.getStatus([id])).toBe(Status.Refunded);
    expect(await w.aiOracle.read.isFinalized([id])).toBe(false);
    await w.expectRevert(w.taskManager.write.expire([id], { account: stranger.account }), "RequestNotOpen", [id, Status.Refunded]);
    await w.expectRevert(w.commit(alice, id, OUTPUT_A, TRACE_A), "RequestNotOpen", [id, Status.Refunded]);

    const d = await ledger.delta();
    expect(d.user!.eth).toBe(-fee + refunded);
    expect(d.stranger!.credit).toBe(CALLBACK_FEE);
    expect(d.oracle!.eth).toBe(CALLBACK_FEE);
    expectConserved(d);
  });

  it("refunds everything, callback fee included, when there is no callback", async () => {
    const ledger = await w.ledger(ethParties());
    const { id, fee } = await w.request();
    await w.networkHelpers.time.increase(TIMEOUT + 1n);
    await w.send(w.taskManager.write.expire([id], { account: keeper.account }));
    const d = await ledger.delta();
    expect(d.user!.eth).toBe(0n);
    expect(d.oracle!.eth).toBe(0n);
    expect(fee).toBe(MODEL_FEE + PROTOCOL_FEE);
    expectConserved(d);
  });
});

describe("views", () => {
  it("tracks the status through the whole life", async () => {
    expect(await w.aiOracle.read.getStatus([99n])).toBe(Status.None);
    const { id } = await w.request({ mode: AT_FINALITY });
    expect(await w.taskManager.read.getStatus([id])).toBe(Status.Requested);
    await w.commit(alice, id, OUTPUT_A, TRACE_A);
    expect(await w.taskManager.read.getStatus([id])).toBe(Status.Committed);
    await w.networkHelpers.time.increase(WINDOW + 1n);
    await w.finalize(id);
    expect(await w.taskManager.read.getStatus([id])).toBe(Status.Delivered);
    expect(await w.taskManager.read.getClaimOutput([1n])).toBe(OUTPUT_A);
    expect((await w.taskManager.read.getClaim([1n])).status).toBe(5); // Accepted
  });
});
