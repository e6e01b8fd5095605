import { type Account, type Address, type Chain, type Client, type Hash, type Transport, parseEventLogs } from "viem";
import { aiOracleAbi, oaoErrorsAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import type { ContractRevertErrorType } from "../errors/contract.ts";
import { InvalidParameterError, type InvalidParameterErrorType } from "../errors/parameters.ts";
import { send } from "./internal/send.ts";

export interface WithdrawCreditParameters {
  /** The AIOracle. */
  address: Address;
  /** Where the wei goes; defaults to the sending account. */
  to?: Address;
  account?: Account | Address;
}

export interface WithdrawCreditReturnType {
  hash: Hash;
  /** Wei sent to `to`: the caller's whole credit (`pendingWithdrawal`). */
  amount: bigint;
}

export type WithdrawCreditErrorType = ContractRevertErrorType | InvalidParameterErrorType | BaseErrorType;

/**
 * Withdraws the caller's credit at the oracle (`AIOracle.withdraw(to)`): refunds that could not be pushed
 * (docs/protocol.md §1.5), operator pay, callback fees, model and protocol fees. `NothingToWithdraw` when 0.
 */
export async function withdrawCredit(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  { address, to, account }: WithdrawCreditParameters,
): Promise<WithdrawCreditReturnType> {
  const from = account ?? client.account;
  const recipient = to ?? (typeof from === "string" ? from : from?.address);
  if (!recipient) throw new InvalidParameterError({ parameter: "to", message: "give `to` or an account", value: to });
  const { hash, receipt } = await send(client, {
    address,
    abi: [...aiOracleAbi, ...oaoErrorsAbi],
    functionName: "withdraw",
    args: [recipient],
    account,
  });
  const [event] = parseEventLogs({ abi: aiOracleAbi, eventName: "Withdrawn", logs: receipt.logs });
  return { hash, amount: event!.args.amount };
}
