import type { Address, BlockNumber, BlockTag, Chain, Client, Hex, Transport } from "viem";
import { readContract } from "viem/actions";
import { type DeliveryMode, type RequestStatus, aiOracleAbi, deliveryModes, oaoErrorsAbi, requestStatuses } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import { toOaoError } from "../errors/contract.ts";
import { RequestNotFoundError, type RequestNotFoundErrorType } from "../errors/wait.ts";
import { decodeText } from "../text.ts";

export interface GetRequestParameters {
  /** The AIOracle. */
  address: Address;
  requestId: bigint;
  /** Read at this block (default: latest). */
  blockNumber?: BlockNumber;
  blockTag?: BlockTag;
}

export interface GetRequestReturnType {
  requestId: bigint;
  requester: Address;
  modelId: bigint;
  /** The input's chunk root (docs/protocol.md §3.2): keccak256 of the input when it is at most 4096 bytes. */
  inputHash: Hex;
  callbackContract: Address;
  gasLimit: bigint;
  deliveryMode: DeliveryMode;
  /** Unix time after which an unanswered request expires. */
  deadline: bigint;
  createdAt: bigint;
  /**
   * Where the request is (Challenged while a game is open or challenges are queued against the standing claim;
   * Cancelled once an undecided game cancelled it: no result will come, `expire` refunds it at once).
   */
  status: RequestStatus;
  /** keccak256 of the standing claim's output (zero hash while none). */
  outputHash: Hex;
  /** The standing claim's output ("0x" while none): for a text model all T bytes of its int8 [T] tensor. */
  output: Hex;
  /** The request's model is a text model (docs/protocol.md §3.3): its prompt was `inputLength` bytes. */
  textModel: boolean;
  /** Byte length of the request's input (a text model's prompt length L). */
  inputLength: number;
  /**
   * A text model's result as text: `decodeText(output)`, the bytes before the first 0x00 as UTF-8 (what the
   * consumer's callback received); "" while there is no output. Undefined for a fixed model.
   */
  text: string | undefined;
  /** True once the output can no longer change. */
  finalized: boolean;
  /** Results delivered so far. */
  deliveries: number;
  /** Whether the last callback returned without reverting. */
  lastCallbackSucceeded: boolean;
  /** Total fee escrowed, in wei. */
  fee: bigint;
}

export type GetRequestErrorType = RequestNotFoundErrorType | BaseErrorType;

/** A request, its lifecycle status and its current output, read from the oracle in one block. */
export async function getRequest(
  client: Client<Transport, Chain | undefined>,
  { address, requestId, blockNumber, blockTag }: GetRequestParameters,
): Promise<GetRequestReturnType> {
  const at = blockNumber !== undefined ? { blockNumber } : { blockTag: blockTag ?? "latest" };
  const abi = [...aiOracleAbi, ...oaoErrorsAbi];
  try {
    const status = requestStatuses[await readContract(client, { address, abi, functionName: "getStatus", args: [requestId], ...at })]!;
    if (status === "None") throw new RequestNotFoundError({ requestId, oracle: address });
    const [request, [output, finalized], outputHash] = await Promise.all([
      readContract(client, { address, abi, functionName: "getRequest", args: [requestId], ...at }),
      readContract(client, { address, abi, functionName: "getResult", args: [requestId], ...at }),
      readContract(client, { address, abi, functionName: "getOutputHash", args: [requestId], ...at }),
    ]);
    return {
      requestId,
      requester: request.requester,
      modelId: request.modelId,
      inputHash: request.inputHash,
      callbackContract: request.callbackContract,
      gasLimit: request.gasLimit,
      deliveryMode: deliveryModes[request.deliveryMode]!,
      deadline: request.deadline,
      createdAt: request.createdAt,
      status,
      outputHash,
      output,
      textModel: request.textModel,
      inputLength: request.inputLength,
      text: request.textModel ? decodeText(output) : undefined,
      finalized,
      deliveries: request.deliveries,
      lastCallbackSucceeded: request.lastCallbackSucceeded,
      fee: request.modelFee + request.callbackFee + request.protocolFee,
    };
  } catch (err) {
    throw toOaoError(err, "getRequest");
  }
}
