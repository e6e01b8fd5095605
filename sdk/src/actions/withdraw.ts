import { type Account, type Address, type Chain, type Client, type Hash, type Transport, parseEventLogs } from "viem";
import { oaoErrorsAbi, stakingAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import type { ContractRevertErrorType } from "../errors/contract.ts";
import { send } from "./internal/send.ts";

export interface WithdrawParameters {
  /** The Staking contract. */
  address: Address;
  account?: Account | Address;
}

export interface WithdrawReturnType {
  hash: Hash;
  /** Stake tokens withdrawn. */
  amount: bigint;
}

export type WithdrawErrorType = ContractRevertErrorType | BaseErrorType;

/** Withdraws all unbonded stake once the unbonding period has ended (UnbondingNotEnded before). */
export async function withdraw(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  { address, account }: WithdrawParameters,
): Promise<WithdrawReturnType> {
  const { hash, receipt } = await send(client, { address, abi: [...stakingAbi, ...oaoErrorsAbi], functionName: "withdraw", args: [], account });
  const [event] = parseEventLogs({ abi: stakingAbi, eventName: "Withdrawn", logs: receipt.logs });
  return { hash, amount: event!.args.amount };
}
