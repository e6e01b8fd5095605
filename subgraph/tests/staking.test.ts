import { assert, beforeEach, clearStore, describe, test } from "matchstick-as/assembly/index";
import {
  OwnershipTransferStarted,
  OwnershipTransferred,
  RewardClaimed,
  RewardCredited,
  Slashed,
  SlasherSet,
  StakeLocked,
  StakeUnlocked,
  Staked,
  TreasurySet,
  UnstakeRequested,
  Withdrawn,
} from "../generated/Staking/Staking";
import {
  handleOwnershipTransferStarted,
  handleOwnershipTransferred,
  handleRewardClaimed,
  handleRewardCredited,
  handleSlashed,
  handleSlasherSet,
  handleStakeLocked,
  handleStakeUnlocked,
  handleStaked,
  handleTreasurySet,
  handleUnstakeRequested,
  handleWithdrawn,
} from "../src/staking";
import { addr, address, bytes32, flag, mockEvent, uint } from "./events";

const OP = address(0x22);
const OP_ID = OP.toHexString();
const WINNER = address(0x33);
const REQUESTER = address(0x11);

function id(tx: i32, logIndex: i32): string {
  return bytes32(tx).concatI32(logIndex).toHexString();
}

function stake(amount: i64, tx: i32): void {
  handleStaked(changetype<Staked>(mockEvent([addr(OP), uint(amount)], 100, tx, 0)));
}

function slash(amount: i64, tx: i32): void {
  handleSlashed(
    changetype<Slashed>(
      mockEvent([addr(OP), uint(amount), addr(WINNER), uint(amount / 2), addr(REQUESTER), uint(amount / 4), uint(amount - amount / 2 - amount / 4), uint(9999)], 500, tx, 3),
    ),
  );
}

describe("Staking", () => {
  beforeEach(() => {
    clearStore();
  });

  test("stake, unstake and withdraw move stake between active and unbonding", () => {
    stake(1000, 1);
    handleUnstakeRequested(changetype<UnstakeRequested>(mockEvent([addr(OP), uint(400), uint(7200)], 200, 2, 0)));
    assert.fieldEquals("Operator", OP_ID, "activeStake", "600");
    assert.fieldEquals("Operator", OP_ID, "unbondingStake", "400");
    assert.fieldEquals("Operator", OP_ID, "unbondingEnd", "7200");
    handleWithdrawn(changetype<Withdrawn>(mockEvent([addr(OP), uint(400)], 7300, 3, 0)));
    assert.fieldEquals("Operator", OP_ID, "unbondingStake", "0");
    assert.fieldEquals("Operator", OP_ID, "totalStaked", "1000");
    assert.fieldEquals("Operator", OP_ID, "totalWithdrawn", "400");
    assert.fieldEquals("StakeMovement", id(2, 0), "event", "UnstakeRequested");
    assert.fieldEquals("StakeMovement", id(2, 0), "unbondingEnd", "7200");
    assert.entityCount("StakeMovement", 3);
  });

  test("locks and unlocks track bonded stake", () => {
    stake(1000, 1);
    handleStakeLocked(changetype<StakeLocked>(mockEvent([addr(OP), uint(300)], 200, 2, 0)));
    assert.fieldEquals("Operator", OP_ID, "lockedStake", "300");
    handleStakeUnlocked(changetype<StakeUnlocked>(mockEvent([addr(OP), uint(300)], 300, 3, 0)));
    assert.fieldEquals("Operator", OP_ID, "lockedStake", "0");
    assert.fieldEquals("Operator", OP_ID, "activeStake", "1000");
  });

  test("a slash takes locked and active stake, jails, and is recorded as a Slash", () => {
    stake(1000, 1);
    handleStakeLocked(changetype<StakeLocked>(mockEvent([addr(OP), uint(300)], 200, 2, 0)));
    slash(300, 4);
    assert.fieldEquals("Operator", OP_ID, "activeStake", "700");
    assert.fieldEquals("Operator", OP_ID, "lockedStake", "0");
    assert.fieldEquals("Operator", OP_ID, "jailedUntil", "9999");
    assert.fieldEquals("Operator", OP_ID, "slashCount", "1");
    assert.fieldEquals("Operator", OP_ID, "slashedTotal", "300");
    assert.fieldEquals("Operator", OP_ID, "lastSlash", id(4, 3));
    assert.fieldEquals("Slash", id(4, 3), "operator", OP_ID);
    assert.fieldEquals("Slash", id(4, 3), "toWinner", "150");
    assert.fieldEquals("Slash", id(4, 3), "toRequester", "75");
    assert.fieldEquals("Slash", id(4, 3), "toTreasury", "75");
  });

  test("a slash takes only the bond: free active and unbonding stake stay (as Staking._takeBond)", () => {
    stake(1000, 1);
    handleStakeLocked(changetype<StakeLocked>(mockEvent([addr(OP), uint(100)], 200, 2, 0)));
    handleUnstakeRequested(changetype<UnstakeRequested>(mockEvent([addr(OP), uint(800), uint(7200)], 200, 3, 0)));
    slash(100, 4);
    assert.fieldEquals("Operator", OP_ID, "activeStake", "100");
    assert.fieldEquals("Operator", OP_ID, "lockedStake", "0");
    assert.fieldEquals("Operator", OP_ID, "unbondingStake", "800");
  });

  test("rewards credited and claimed", () => {
    handleRewardCredited(changetype<RewardCredited>(mockEvent([addr(WINNER), uint(50)], 10, 5, 0)));
    handleRewardClaimed(changetype<RewardClaimed>(mockEvent([addr(WINNER), addr(REQUESTER), uint(50)], 20, 6, 0)));
    assert.fieldEquals("Operator", WINNER.toHexString(), "rewardsCredited", "50");
    assert.fieldEquals("Operator", WINNER.toHexString(), "rewardsClaimed", "50");
    assert.fieldEquals("StakeMovement", id(6, 0), "to", REQUESTER.toHexString());
  });

  test("governance events are recorded", () => {
    handleSlasherSet(changetype<SlasherSet>(mockEvent([addr(address(0x7a)), flag(true)], 10, 7, 0)));
    handleTreasurySet(changetype<TreasurySet>(mockEvent([addr(address(0x7e))], 10, 7, 1)));
    handleOwnershipTransferStarted(changetype<OwnershipTransferStarted>(mockEvent([addr(OP), addr(WINNER)], 10, 7, 2)));
    handleOwnershipTransferred(changetype<OwnershipTransferred>(mockEvent([addr(OP), addr(WINNER)], 10, 7, 3)));
    assert.fieldEquals("ParameterChange", id(7, 0), "authorised", "true");
    assert.fieldEquals("ParameterChange", id(7, 1), "account", address(0x7e).toHexString());
    assert.fieldEquals("OwnershipChange", id(7, 2), "newOwner", WINNER.toHexString());
    assert.fieldEquals("OwnershipChange", id(7, 3), "completed", "true");
  });
});
