// Handlers of the Staking data source: operators' stake, locks, slashes and rewards.
import { Address, BigInt, ethereum } from "@graphprotocol/graph-ts";
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
import { Slash, StakeMovement } from "../generated/schema";
import { eventId, getOrCreateOperator, recordOwnershipChange, recordParameterChange, stamp } from "./entities";

function recordMovement(event: ethereum.Event, name: string, operator: Address, amount: BigInt): StakeMovement {
  let e = new StakeMovement(eventId(event));
  e.event = name;
  e.operator = operator;
  e.amount = amount;
  stamp(e, event);
  return e;
}

export function handleStaked(event: Staked): void {
  let operator = getOrCreateOperator(event.params.staker);
  operator.activeStake = operator.activeStake.plus(event.params.amount);
  operator.totalStaked = operator.totalStaked.plus(event.params.amount);
  operator.save();
  recordMovement(event, "Staked", event.params.staker, event.params.amount).save();
}

export function handleUnstakeRequested(event: UnstakeRequested): void {
  let operator = getOrCreateOperator(event.params.staker);
  operator.activeStake = operator.activeStake.minus(event.params.amount);
  operator.unbondingStake = operator.unbondingStake.plus(event.params.amount);
  operator.unbondingEnd = event.params.unbondingEnd;
  operator.save();
  let e = recordMovement(event, "UnstakeRequested", event.params.staker, event.params.amount);
  e.unbondingEnd = event.params.unbondingEnd;
  e.save();
}

export function handleWithdrawn(event: Withdrawn): void {
  let operator = getOrCreateOperator(event.params.staker);
  operator.unbondingStake = operator.unbondingStake.minus(event.params.amount);
  operator.totalWithdrawn = operator.totalWithdrawn.plus(event.params.amount);
  operator.save();
  recordMovement(event, "Withdrawn", event.params.staker, event.params.amount).save();
}

export function handleStakeLocked(event: StakeLocked): void {
  let operator = getOrCreateOperator(event.params.operator);
  operator.lockedStake = operator.lockedStake.plus(event.params.amount);
  operator.save();
  recordMovement(event, "StakeLocked", event.params.operator, event.params.amount).save();
}

export function handleStakeUnlocked(event: StakeUnlocked): void {
  let operator = getOrCreateOperator(event.params.operator);
  operator.lockedStake = operator.lockedStake.minus(event.params.amount);
  operator.save();
  recordMovement(event, "StakeUnlocked", event.params.operator, event.params.amount).save();
}

/**
 * Mirrors Staking._takeBond (docs/protocol.md §2.3): a slash takes only a bond its slasher locked, so
 * locked and active stake both drop by `amount`; free active and unbonding stake are untouched.
 */
export function handleSlashed(event: Slashed): void {
  let p = event.params;
  let operator = getOrCreateOperator(p.operator);
  operator.lockedStake = operator.lockedStake.minus(p.amount);
  operator.activeStake = operator.activeStake.minus(p.amount);
  operator.jailedUntil = p.jailedUntil;
  operator.slashCount = operator.slashCount + 1;
  operator.slashedTotal = operator.slashedTotal.plus(p.amount);

  let slash = new Slash(eventId(event));
  slash.operator = operator.id;
  slash.amount = p.amount;
  slash.winner = p.winner;
  slash.toWinner = p.toWinner;
  slash.requester = p.requester;
  slash.toRequester = p.toRequester;
  slash.toTreasury = p.toTreasury;
  slash.jailedUntil = p.jailedUntil;
  stamp(slash, event);
  slash.save();

  operator.lastSlash = slash.id;
  operator.save();
}

export function handleRewardCredited(event: RewardCredited): void {
  let operator = getOrCreateOperator(event.params.account);
  operator.rewardsCredited = operator.rewardsCredited.plus(event.params.amount);
  operator.save();
  recordMovement(event, "RewardCredited", event.params.account, event.params.amount).save();
}

export function handleRewardClaimed(event: RewardClaimed): void {
  let operator = getOrCreateOperator(event.params.account);
  operator.rewardsClaimed = operator.rewardsClaimed.plus(event.params.amount);
  operator.save();
  let e = recordMovement(event, "RewardClaimed", event.params.account, event.params.amount);
  e.to = event.params.to;
  e.save();
}

export function handleSlasherSet(event: SlasherSet): void {
  recordParameterChange(event, "SlasherSet", event.params.account, null, event.params.authorised ? 1 : 0);
}

export function handleTreasurySet(event: TreasurySet): void {
  recordParameterChange(event, "TreasurySet", event.params.treasury, null, -1);
}

export function handleOwnershipTransferStarted(event: OwnershipTransferStarted): void {
  recordOwnershipChange(event, false, event.params.previousOwner, event.params.newOwner);
}

export function handleOwnershipTransferred(event: OwnershipTransferred): void {
  recordOwnershipChange(event, true, event.params.previousOwner, event.params.newOwner);
}
