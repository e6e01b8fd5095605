import {
  type Account,
  type Address,
  type Chain,
  type Client,
  type Hash,
  type Hex,
  type TransactionReceipt,
  type Transport,
  bytesToHex,
  isHex,
  parseEventLogs,
  size,
  zeroAddress,
} from "viem";
import { simulateContract, waitForTransactionReceipt, writeContract } from "viem/actions";
import { type DeliveryMode, aiOracleAbi, deliveryModes, oaoErrorsAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import { type ContractRevertErrorType, toOaoError } from "../errors/contract.ts";
import {
  type InputLengthMismatchErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
  type PromptLengthErrorType,
} from "../errors/parameters.ts";
import { checkInputLength, isTextModel, readModel } from "./internal/input.ts";
import { encodePrompt } from "../text.ts";
import { estimateFee } from "./estimateFee.ts";

export interface RequestInferenceParameters {
  /** The AIOracle. */
  address: Address;
  modelId: bigint;
  /**
   * The model input: the canonical bytes of the model's input tensor (docs/protocol.md §3.2), exactly
   * `getModel(modelId).inputBytes` long (checked before anything is sent: `InputLengthMismatchError`); for a
   * text model the prompt's bytes, 1 to `inputBytes` of them (`PromptLengthError`; `requestText` encodes a string).
   */
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
  /**
   * Who gets this request's refunds (excess payment, the expiry refund, the requester's share of a slash):
   * pushed to it, credited to it if the push fails. Omitted: pushed to the sending account (docs/protocol.md §1.5).
   */
  refundRecipient?: Address;
  account?: Account | Address;
}

export interface RequestInferenceReturnType {
  requestId: bigint;
  hash: Hash;
  receipt: TransactionReceipt;
}

export type RequestInferenceErrorType =
  | ContractRevertErrorType
  | InvalidParameterErrorType
  | InputLengthMismatchErrorType
  | PromptLengthErrorType
  | BaseErrorType;

/**
 * Makes a request (`requestWithOptions`), waits for its transaction and returns the request id
 * read from the RequestCreated event of the receipt. The input's length is checked against the
 * model's first (one read of `getModel`): a wrong length throws `InputLengthMismatchError` with both
 * (`PromptLengthError` for a text model's prompt outside 1..C).
 */
export async function requestInference(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  params: RequestInferenceParameters,
): Promise<RequestInferenceReturnType> {
  checkCallback(params);
  if (params.input === "0x") {
    throw new InvalidParameterError({ parameter: "input", message: "the model input must not be empty", value: params.input });
  }
  if (!isHex(params.input, { strict: true }) || params.input.length % 2 !== 0) {
    throw new InvalidParameterError({ parameter: "input", message: "expected an even-length 0x hex string", value: params.input });
  }
  const model = await readModel(client, params);
  checkInputLength(params.modelId, model, size(params.input));
  return submitRequest(client, params);
}

/** The callback contract and its gas limit go together (checked before anything is read or sent). */
function checkCallback(params: Pick<RequestInferenceParameters, "callbackContract" | "gasLimit">): void {
  if ((params.callbackContract ?? zeroAddress) !== zeroAddress && (params.gasLimit ?? 0n) === 0n) {
    throw new InvalidParameterError({
      parameter: "gasLimit",
      message: "a callback contract needs a callback gas limit (e.g. 200_000n)",
      value: params.gasLimit ?? 0n,
    });
  }
}

/** Sends a checked request (`requestWithOptions`) and reads its id from the receipt's RequestCreated event. */
async function submitRequest(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  params: RequestInferenceParameters,
): Promise<RequestInferenceReturnType> {
  const abi = [...aiOracleAbi, ...oaoErrorsAbi];
  const callbackContract = params.callbackContract ?? zeroAddress;
  const gasLimit = params.gasLimit ?? 0n;
  const value = params.value ?? (await estimateFee(client, { address: params.address, modelId: params.modelId, gasLimit })).total;
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
          refundRecipient: params.refundRecipient ?? zeroAddress,
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

export type RequestTextParameters = Omit<RequestInferenceParameters, "input"> & {
  /** The prompt; sent as its UTF-8 bytes, 1 to the model's context C of them (`getModel(modelId).inputBytes`). */
  prompt: string;
};

export type RequestTextErrorType = RequestInferenceErrorType;

/**
 * A text model's request (docs/protocol.md §1.4, §3.3): the prompt's UTF-8 bytes as the input, checked first
 * against the model (one read of `getModel`): not a text model → InvalidParameterError; empty or longer than the
 * model's context → PromptLengthError. The result's text is `decodeText(output)`, also `text` in getRequest and
 * waitForResult; the consumer's callback gets the same bytes.
 */
export async function requestText(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  params: RequestTextParameters,
): Promise<RequestInferenceReturnType> {
  checkCallback(params);
  if (typeof params.prompt !== "string") {
    throw new InvalidParameterError({ parameter: "prompt", message: "expected a string", value: params.prompt });
  }
  const model = await readModel(client, params);
  if (!isTextModel(model)) {
    throw new InvalidParameterError({
      parameter: "modelId",
      message: `model ${params.modelId} is not a text model (inputMode ${model.inputMode}): send its input tensor with requestInference`,
      value: params.modelId,
    });
  }
  const bytes = encodePrompt(params.prompt);
  checkInputLength(params.modelId, model, bytes.length);
  const { prompt: _prompt, ...rest } = params;
  return submitRequest(client, { ...rest, input: bytesToHex(bytes) });
}
