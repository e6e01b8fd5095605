import type { Account, Address, Chain, Client, Hash, Transport } from "viem";
import { readContract } from "viem/actions";
import { erc20Abi, oaoErrorsAbi, stakingAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import type { ContractRevertErrorType } from "../errors/contract.ts";
import { InvalidParameterError, type InvalidParameterErrorType } from "../errors/parameters.ts";
import { send } from "./internal/send.ts";

export interface StakeParameters {
  /** The Staking contract. */
  address: Address;
  /** Stake-token amount, in its smallest unit. */
  amount: bigint;
  /** Approve the staking contract for `amount` first when the allowance is short (default true). */
  approve?: boolean;
  account?: Account | Address;
}

export interface StakeReturnType {
  hash: Hash;
  /** The approval transaction, when one was needed. */
  approveHash?: Hash;
}

export type StakeErrorType = ContractRevertErrorType | InvalidParameterErrorType | BaseErrorType;

/** Stakes tokens (approving the staking contract first if needed). */
export async function stake(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  { address, amount, approve = true, account }: StakeParameters,
): Promise<StakeReturnType> {
  if (amount <= 0n) throw new InvalidParameterError({ parameter: "amount", message: "stake a positive amount", value: amount });
  const from = account ?? client.account;
  const owner = typeof from === "string" ? from : from?.address;
  let approveHash: Hash | undefined;
  if (approve && owner) {
    const token = await readContract(client, { address, abi: stakingAbi, functionName: "stakeToken" });
    const allowance = await readContract(client, { address: token, abi: erc20Abi, functionName: "allowance", args: [owner, address] });
    if (allowance < amount) {
      approveHash = (await send(client, { address: token, abi: [...erc20Abi, ...oaoErrorsAbi], functionName: "approve", args: [address, amount], account })).hash;
    }
  }
  const { hash } = await send(client, { address, abi: [...stakingAbi, ...oaoErrorsAbi], functionName: "stake", args: [amount], account });
  return approveHash ? { hash, approveHash } : { hash };
}
