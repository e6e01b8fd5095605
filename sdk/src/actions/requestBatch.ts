import {
  type Account,
  type Address,
  type Chain,
  type Client,
  type Hash,
  type Hex,
  type TransactionReceipt,
  type Transport,
  concatHex,
  isHex,
  parseEventLogs,
  size,
  zeroAddress,
} from "viem";
import { readContract } from "viem/actions";
import { aiOracleAbi, oaoErrorsAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import { type ContractRevertErrorType, toOaoError } from "../errors/contract.ts";
import {
  type InputLengthMismatchErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
  type PromptLengthErrorType,
} from "../errors/parameters.ts";
import { checkInputLength, isTextModel, readModel } from "./internal/input.ts";
import { send } from "./internal/send.ts";

/** The most items one batch may have (`AIOracle.MAX_BATCH_SIZE`). */
export const MAX_BATCH_SIZE = 32;

export interface RequestBatchParameters {
  /** The AIOracle. */
  address: Address;
  modelId: bigint;
  /** One model input per item (each exactly `getModel(modelId).inputBytes` long); 1 to 32 items. */
  inputs: readonly Hex[];
  /** Called back once per item, with that item's request id and output. */
  callbackContract?: Address;
  /** Gas of each item's callback (required with a callback contract). */
  gasLimit?: bigint;
  /** Handed back to every item's callback. */
  callbackData?: Hex;
  /** Wei to send; omitted: `estimateFeeBatch` now. Any excess is refunded. */
  value?: bigint;
  account?: Account | Address;
}

export interface RequestBatchReturnType {
  /** The items' request ids, in input order (consecutive). */
  requestIds: bigint[];
  hash: Hash;
  receipt: TransactionReceipt;
}

export type RequestBatchErrorType =
  | ContractRevertErrorType
  | InvalidParameterErrorType
  | InputLengthMismatchErrorType
  | PromptLengthErrorType
  | BaseErrorType;

/**
 * ORA's `requestBatchInference` (docs/protocol.md §1.2): one transaction, one ordinary request per item, each
 * answered, called back, settled or refunded on its own, delivered at commit (OAO style). Inputs are checked
 * against the model's input length before anything is sent.
 */
export async function requestBatch(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  params: RequestBatchParameters,
): Promise<RequestBatchReturnType> {
  const n = params.inputs.length;
  if (n === 0 || n > MAX_BATCH_SIZE) {
    throw new InvalidParameterError({ parameter: "inputs", message: `a batch has 1 to ${MAX_BATCH_SIZE} items`, value: n });
  }
  const callbackContract = params.callbackContract ?? zeroAddress;
  const gasLimit = params.gasLimit ?? 0n;
  if (callbackContract !== zeroAddress && gasLimit === 0n) {
    throw new InvalidParameterError({ parameter: "gasLimit", message: "a callback contract needs a callback gas limit", value: gasLimit });
  }
  const abi = [...aiOracleAbi, ...oaoErrorsAbi];
  const model = await readModel(client, params);
  for (const input of params.inputs) {
    if (!isHex(input, { strict: true }) || input.length % 2 !== 0 || input === "0x") {
      throw new InvalidParameterError({ parameter: "inputs", message: "each input must be non-empty even-length 0x hex", value: input });
    }
    const given = size(input);
    checkInputLength(params.modelId, model, given);
    // A text model's batch is prompts of one length (the oracle splits the input evenly, docs/protocol.md §1.2).
    if (isTextModel(model) && given !== size(params.inputs[0]!)) {
      throw new InvalidParameterError({ parameter: "inputs", message: "a text model's batch takes prompts of one byte length", value: params.inputs.map(size) });
    }
  }
  let value = params.value;
  if (value === undefined) {
    try {
      value = await readContract(client, { address: params.address, abi, functionName: "estimateFeeBatch", args: [params.modelId, gasLimit, BigInt(n)] });
    } catch (err) {
      throw toOaoError(err, "estimateFeeBatch");
    }
  }
  const { hash, receipt } = await send(client, {
    address: params.address,
    abi,
    functionName: "requestBatchInference",
    args: [BigInt(n), params.modelId, concatHex([...params.inputs]), callbackContract, gasLimit, params.callbackData ?? "0x", 0, 0],
    value,
    account: params.account,
  });
  const requestIds = parseEventLogs({ abi: aiOracleAbi, eventName: "RequestCreated", logs: receipt.logs }).map((e) => e.args.requestId);
  return { requestIds, hash, receipt };
}
