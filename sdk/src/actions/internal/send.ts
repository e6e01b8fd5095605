import type { Abi, Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from "viem";
import { simulateContract, waitForTransactionReceipt, writeContract } from "viem/actions";
import { toOaoError } from "../../errors/contract.ts";

export interface SendParameters {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  account?: Account | Address | undefined;
  value?: bigint;
}

/**
 * Simulates a contract write (so a revert surfaces with its decoded custom error before anything is
 * signed), sends it and waits for the receipt. Every write action goes through here.
 */
export async function send<TResult = unknown>(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  params: SendParameters,
): Promise<{ hash: Hash; receipt: TransactionReceipt; result: TResult }> {
  try {
    const { request, result } = await simulateContract(client, {
      ...params,
      account: params.account ?? client.account,
    } as never);
    const hash = await writeContract(client, request as never);
    const receipt = await waitForTransactionReceipt(client, { hash });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted on chain`);
    return { hash, receipt, result: result as TResult };
  } catch (err) {
    throw toOaoError(err, params.functionName);
  }
}
