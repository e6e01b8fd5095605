import type { Address, Chain, Client, Transport } from "viem";
import { getBlock, readContract } from "viem/actions";
import { stakingAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import { toOaoError } from "../errors/contract.ts";

export interface GetOperatorParameters {
  /** The Staking contract. */
  address: Address;
  operator: Address;
}

export interface GetOperatorReturnType {
  operator: Address;
  /** Slashable stake (includes `locked`). */
  active: bigint;
  /** Part of `active` bonded to open claims. */
  locked: bigint;
  /** active − locked: what can back a new claim or be unstaked. */
  free: bigint;
  /** Stake waiting out the unbonding period (no longer slashable). */
  unbonding: bigint;
  unbondingEnd: bigint;
  jailedUntil: bigint;
  /** Jailed at the latest block (jailedUntil is in the future). */
  jailed: boolean;
  /** May commit now (not jailed, active stake at least the minimum). */
  eligible: boolean;
  /** Slashing rewards credited and not yet claimed. */
  claimable: bigint;
}

export type GetOperatorErrorType = BaseErrorType;

/** An operator's stake account and standing, at the latest block. */
export async function getOperator(
  client: Client<Transport, Chain | undefined>,
  { address, operator }: GetOperatorParameters,
): Promise<GetOperatorReturnType> {
  try {
    const block = await getBlock(client, { blockTag: "latest" });
    const at = { blockNumber: block.number };
    const [account, free, eligible, claimable] = await Promise.all([
      readContract(client, { address, abi: stakingAbi, functionName: "getAccount", args: [operator], ...at }),
      readContract(client, { address, abi: stakingAbi, functionName: "freeStake", args: [operator], ...at }),
      readContract(client, { address, abi: stakingAbi, functionName: "isEligible", args: [operator], ...at }),
      readContract(client, { address, abi: stakingAbi, functionName: "claimable", args: [operator], ...at }),
    ]);
    return {
      operator,
      active: account.active,
      locked: account.locked,
      free,
      unbonding: account.unbonding,
      unbondingEnd: account.unbondingEnd,
      jailedUntil: account.jailedUntil,
      jailed: block.timestamp < account.jailedUntil,
      eligible,
      claimable,
    };
  } catch (err) {
    throw toOaoError(err, "getOperator");
  }
}
