import {
  type Account,
  type Address,
  type Chain,
  type Client,
  type Hash,
  type Hex,
  type TransactionReceipt,
  type Transport,
  parseEventLogs,
  zeroAddress,
} from "viem";
import { simulateContract, waitForTransactionReceipt, writeContract } from "viem/actions";
import { type DeliveryMode, aiOracleAbi, deliveryModes, oaoErrorsAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import { type ContractRevertErrorType, toOaoError } from "../errors/contract.ts";
import { InvalidParameterError, type InvalidParameterErrorType } from "../errors/parameters.ts";
import { estimateFee } from "./estimateFee.ts";

export interface RequestInferenceParameters {
  /** The AIOracle. */
  address: Address;
  modelId: bigint;
  /** The model input: canonical int8 tensor bytes (docs/protocol.md §3.2). */
  input: Hex;
  /** Contract called back with the output; omit for none (then read it with getRequest). */
  callbackContract?: Address;
  /** Gas the callback runs with (required with a callback contract). */
  gasLimit?: bigint;
  /** Opaque bytes handed back to the callback. */
  callbackData?: Hex;
  /** `AtCommit` (OAO default: at commit, again if overturned) or `AtFinality` (once, when final). */
  deliveryMode?: DeliveryMode;
  /** Unix time after which an unanswered request expires; 0 or omitted: the oracle's default timeout. */
  deadline?: bigint;
  /** Fee to send, in wei; omitted: estimateFee now. Any excess is refunded. */
  value?: bigint;
  /** Revert instead of paying more than this (defaults to `value`). */
  maxFee?: bigint;
  account?: Account | Address;
}

export interface RequestInferenceReturnType {
  requestId: bigint;
  hash: Hash;
  receipt: TransactionReceipt;
}

export type RequestInferenceErrorType = ContractRevertErrorType | InvalidParameterErrorType | BaseErrorType;

/**
 * Makes a request (`requestWithOptions`), waits for its transaction and returns the request id
 * read from the RequestCreated event of the receipt.
 */
export async function requestInference(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  params: RequestInferenceParameters,
): Promise<RequestInferenceReturnType> {
  const callbackContract = params.callbackContract ?? zeroAddress;
  const gasLimit = params.gasLimit ?? 0n;
  if (callbackContract !== zeroAddress && gasLimit === 0n) {
    throw new InvalidParameterError({
      parameter: "gasLimit",
      message: "a callback contract needs a callback gas limit (e.g. 200_000n)",
      value: gasLimit,
    });
  }
  if (params.input === "0x") {
    throw new InvalidParameterError({ parameter: "input", message: "the model input must not be empty", value: params.input });
  }
  const value = params.value ?? (await estimateFee(client, { address: params.address, modelId: params.modelId, gasLimit })).total;
  const abi = [...aiOracleAbi, ...oaoErrorsAbi];
  try {
    const { request } = await simulateContract(client, {
      address: params.address,
      abi,
      functionName: "requestWithOptions",
      args: [
        {
          modelId: params.modelId,
          input: params.input,
          callbackContract,
          gasLimit,
          callbackData: params.callbackData ?? "0x",
          deliveryMode: deliveryModes.indexOf(params.deliveryMode ?? "AtCommit"),
          deadline: params.deadline ?? 0n,
          maxFee: params.maxFee ?? value,
        },
      ],
      value,
      account: params.account ?? client.account,
    });
    const hash = await writeContract(client, request as never);
    const receipt = await waitForTransactionReceipt(client, { hash });
    const [created] = parseEventLogs({ abi: aiOracleAbi, eventName: "RequestCreated", logs: receipt.logs });
    if (!created) throw new Error(`transaction ${hash} emitted no RequestCreated event (status ${receipt.status})`);
    return { requestId: created.args.requestId, hash, receipt };
  } catch (err) {
    throw toOaoError(err, "requestWithOptions");
  }
}
