/**
 * Bad input gets a custom error carrying the offending values, decoded from TypeScript; every privileged function
 * of the deployed core rejects callers other than the one allowed.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type Hex, zeroAddress } from "viem";

import { CB_GAS, CHALLENGER, INPUT, MAX_GAS, MODEL_FEE, OUTPUT_A, OUTPUT_B, TRACE_A, TRACE_B, createOracleWorld } from "./fixture.ts";

const w = await createOracleWorld();
const { deployer, alice, bob, user, stranger, modelOwner } = w.wallets;

beforeEach(() => w.reset());

function requestCallback(args: { modelId?: bigint; input?: Hex; callback?: Hex; gasLimit?: bigint; value?: bigint }) {
  return w.aiOracle.write.requestCallback(
    [args.modelId ?? w.modelId, args.input ?? INPUT, args.callback ?? zeroAddress, args.gasLimit ?? 0n, "0x"],
    { account: user.account, value: args.value ?? 10n ** 18n },
  );
}

describe("bad requests", () => {
  it("empty input", async () => {
    await w.expectRevert(requestCallback({ input: "0x" }), "EmptyInput", [w.modelId]);
  });

  it("input that is not the model's input tensor (5 bytes): both lengths, on both request paths", async () => {
    await w.expectRevert(requestCallback({ input: "0x01" }), "InputLengthMismatch", [w.modelId, 5n, 1n]);
    await w.expectRevert(requestCallback({ input: "0x010203040506" }), "InputLengthMismatch", [w.modelId, 5n, 6n]);
    const fee = await w.aiOracle.read.estimateFee([w.modelId, 0n]);
    await w.expectRevert(
      w.aiOracle.write.requestWithOptions(
        [{ modelId: w.modelId, input: "0x0102", callbackContract: zeroAddress, gasLimit: 0n, callbackData: "0x", deliveryMode: 1, deadline: 0n, maxFee: fee, refundRecipient: zeroAddress }],
        { account: user.account, value: fee },
      ),
      "InputLengthMismatch",
      [w.modelId, 5n, 2n],
    );
    expect(await w.aiOracle.read.requestCount()).toBe(0n);
  });

  it("unknown model, in the request and in the quote", async () => {
    await w.expectRevert(requestCallback({ modelId: 42n }), "UnknownModel", [42n]);
    await w.expectRevert(w.aiOracle.read.estimateFee([42n, 0n]), "UnknownModel", [42n]);
  });

  it("deprecated model", async () => {
    await w.send(w.aiOracle.write.deprecateModel([w.modelId], { account: modelOwner.account }));
    await w.expectRevert(requestCallback({}), "ModelIsDeprecated", [w.modelId]);
  });

  it("fee below the quote, by one wei", async () => {
    const fee = await w.aiOracle.read.estimateFee([w.modelId, CB_GAS]);
    await w.expectRevert(
      requestCallback({ callback: w.receiver.address, gasLimit: CB_GAS, value: fee - 1n }),
      "InsufficientFee",
      [fee - 1n, fee],
    );
  });

  it("fee above the requester's maximum", async () => {
    const fee = await w.aiOracle.read.estimateFee([w.modelId, 0n]);
    await w.expectRevert(
      w.aiOracle.write.requestWithOptions(
        [
          {
            modelId: w.modelId,
            input: INPUT,
            callbackContract: zeroAddress,
            gasLimit: 0n,
            callbackData: "0x",
            deliveryMode: 0,
            deadline: 0n,
            maxFee: MODEL_FEE,
            refundRecipient: zeroAddress,
          },
        ],
        { account: user.account, value: fee },
      ),
      "FeeAboveMax",
      [fee, MODEL_FEE],
    );
  });

  it("callback gas limit over the cap, in the request and in the quote", async () => {
    await w.expectRevert(
      requestCallback({ callback: w.receiver.address, gasLimit: MAX_GAS + 1n }),
      "GasLimitTooHigh",
      [MAX_GAS + 1n, MAX_GAS],
    );
    await w.expectRevert(w.aiOracle.read.estimateFee([w.modelId, MAX_GAS + 1n]), "GasLimitTooHigh", [MAX_GAS + 1n, MAX_GAS]);
  });

  it("callback gas without a callback contract, and a callback contract without gas", async () => {
    await w.expectRevert(requestCallback({ gasLimit: 50_000n }), "ZeroCallbackWithGas", [50_000n]);
    await w.expectRevert(requestCallback({ callback: w.receiver.address, gasLimit: 0n }), "CallbackWithoutGas", [
      w.receiver.address,
    ]);
  });

  it("a deadline in the past", async () => {
    const now = BigInt((await w.publicClient.getBlock()).timestamp);
    await w.expectRevert(
      w.aiOracle.write.requestWithOptions(
        [
          {
            modelId: w.modelId,
            input: INPUT,
            callbackContract: zeroAddress,
            gasLimit: 0n,
            callbackData: "0x",
            deliveryMode: 0,
            deadline: now,
            maxFee: 10n ** 18n,
            refundRecipient: zeroAddress,
          },
        ],
        { account: user.account, value: 10n ** 18n },
      ),
      "DeadlineInPast",
      [now, now + 1n],
    );
  });
});

describe("bad claims", () => {
  it("empty output, oversized output, zero trace root, unknown request", async () => {
    const { id } = await w.request();
    await w.expectRevert(w.commit(alice, id, "0x", TRACE_A), "EmptyOutput", []);
    const big = `0x${"ab".repeat(4097)}` as Hex;
    await w.expectRevert(w.commit(alice, id, big, TRACE_A), "OutputTooLarge", [4097n, 4096n]);
    await w.expectRevert(w.commit(alice, id, OUTPUT_A, `0x${"00".repeat(32)}`), "ZeroTraceRoot", []);
    await w.expectRevert(w.commit(alice, 77n, OUTPUT_A, TRACE_A), "UnknownRequest", [77n]);
  });

  it("an operator without stake cannot commit; one without enough free stake cannot lock another bond", async () => {
    const { id } = await w.request();
    await w.expectRevert(w.commit(stranger, id, OUTPUT_A, TRACE_A), "StakeBelowMinimum", [stranger.address, 0n, 100n * 10n ** 18n]);
    // Alice unstakes all but the minimum minus one wei... of free stake: then a bond no longer fits.
    const free = await w.staking.read.freeStake([alice.address]);
    await w.send(w.staking.write.requestUnstake([free - 5n * 10n ** 18n], { account: alice.account }));
    await w.expectRevert(w.commit(alice, id, OUTPUT_A, TRACE_A), "StakeBelowMinimum");
  });
});

describe("access control", () => {
  const notOwner = () => ({ account: stranger.account });

  it("AIOracle governance is the owner's", async () => {
    const unauthorized = ["OwnableUnauthorizedAccount", [stranger.address]] as const;
    await w.expectRevert(w.aiOracle.write.setTaskManager([stranger.address], notOwner()), ...unauthorized);
    await w.expectRevert(w.aiOracle.write.setCallbackGasPrice([2n], notOwner()), ...unauthorized);
    await w.expectRevert(w.aiOracle.write.setProtocolFee([0n], notOwner()), ...unauthorized);
    await w.expectRevert(w.aiOracle.write.setTreasury([stranger.address], notOwner()), ...unauthorized);
    await w.expectRevert(w.aiOracle.write.transferOwnership([stranger.address], notOwner()), ...unauthorized);
    // Even the owner cannot rewire the task manager once set.
    await w.expectRevert(w.aiOracle.write.setTaskManager([stranger.address], { account: deployer.account }), "TaskManagerAlreadySet", [
      w.taskManager.address,
    ]);
  });

  it("AIOracle delivery, settlement and refunds are the task manager's", async () => {
    const { id } = await w.request();
    await w.expectRevert(w.aiOracle.write.deliver([id, OUTPUT_A, stranger.address], notOwner()), "NotTaskManager", [stranger.address]);
    await w.expectRevert(w.aiOracle.write.settle([id, stranger.address, stranger.address], notOwner()), "NotTaskManager", [
      stranger.address,
    ]);
    await w.expectRevert(w.aiOracle.write.refund([id, stranger.address, 2], { account: deployer.account }), "NotTaskManager", [
      deployer.address,
    ]);
  });

  it("a model is deprecated only by its owner", async () => {
    await w.expectRevert(w.aiOracle.write.deprecateModel([w.modelId], { account: deployer.account }), "NotModelOwner", [
      w.modelId,
      deployer.address,
      modelOwner.address,
    ]);
  });

  it("Staking: lock, unlock and slash only by the task manager; governance only by the owner", async () => {
    await w.expectRevert(w.staking.write.lock([alice.address, 1n], { account: deployer.account }), "NotSlasher", [deployer.address]);
    await w.expectRevert(w.staking.write.unlock([alice.address, 1n], notOwner()), "NotSlasher", [stranger.address]);
    await w.expectRevert(w.staking.write.slash([alice.address, 1n, stranger.address, stranger.address], { account: bob.account }), "NotSlasher", [
      bob.address,
    ]);
    await w.expectRevert(w.staking.write.setSlasher([stranger.address, true], notOwner()), "OwnableUnauthorizedAccount", [stranger.address]);
    await w.expectRevert(w.staking.write.setTreasury([stranger.address], notOwner()), "OwnableUnauthorizedAccount", [stranger.address]);
    expect(await w.staking.read.isSlasher([w.taskManager.address])).toBe(true);
    expect(await w.staking.read.isSlasher([deployer.address])).toBe(false);
  });

  it("TaskManager: the game factory is the owner's; only a game it created resolves, once", async () => {
    await w.expectRevert(w.taskManager.write.setDisputeGameFactory([stranger.address], notOwner()), "OwnableUnauthorizedAccount", [
      stranger.address,
    ]);
    await w.expectRevert(w.taskManager.write.resolveGame([CHALLENGER], notOwner()), "UnknownGame", [stranger.address]);
    const { id } = await w.request();
    await w.commit(alice, id, OUTPUT_A, TRACE_A);
    const { game } = await w.challenge(bob, id, OUTPUT_B, TRACE_B);
    // The toy game's outcome is its referee's (the deployer here), not the players'.
    await w.expectRevert(game.write.resolve([CHALLENGER], { account: bob.account }), "NotReferee", [bob.address, deployer.address]);
  });

  it("a receiver built on AIOracleCallbackReceiver accepts results only from the oracle", async () => {
    await w.expectRevert(w.receiver.write.aiOracleCallback([1n, OUTPUT_A, "0x"], notOwner()), "UnauthorizedCallbackSender", [
      stranger.address,
      w.aiOracle.address,
    ]);
    await w.expectRevert(w.receiver.write.aiOracleCallbackError([1n, 1, "0x", "0x"], notOwner()), "UnauthorizedCallbackSender", [
      stranger.address,
      w.aiOracle.address,
    ]);
  });
});
