import { type Account, type Address, type Chain, type Client, type Hash, type Transport, parseEventLogs } from "viem";
import { oaoErrorsAbi, stakingAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import type { ContractRevertErrorType } from "../errors/contract.ts";
import { InvalidParameterError, type InvalidParameterErrorType } from "../errors/parameters.ts";
import { send } from "./internal/send.ts";

export interface RequestUnstakeParameters {
  /** The Staking contract. */
  address: Address;
  /** Amount of free (unlocked) active stake to start unbonding. */
  amount: bigint;
  account?: Account | Address;
}

export interface RequestUnstakeReturnType {
  hash: Hash;
  /** When the unbonding stake can be withdrawn (unix seconds). */
  unbondingEnd: bigint;
}

export type RequestUnstakeErrorType = ContractRevertErrorType | InvalidParameterErrorType | BaseErrorType;

/** Starts unbonding part of the caller's stake (unbonding stake can no longer be locked or slashed). */
export async function requestUnstake(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  { address, amount, account }: RequestUnstakeParameters,
): Promise<RequestUnstakeReturnType> {
  if (amount <= 0n) throw new InvalidParameterError({ parameter: "amount", message: "unstake a positive amount", value: amount });
  const { hash, receipt } = await send(client, { address, abi: [...stakingAbi, ...oaoErrorsAbi], functionName: "requestUnstake", args: [amount], account });
  const [event] = parseEventLogs({ abi: stakingAbi, eventName: "UnstakeRequested", logs: receipt.logs });
  return { hash, unbondingEnd: event!.args.unbondingEnd };
}
