import type { Address, Chain, Client, Hash, Transport } from "viem";
import { watchContractEvent } from "viem/actions";
import { type DeliveryMode, aiOracleAbi, deliveryModes } from "../contracts.ts";
import { BaseError, type BaseErrorType } from "../errors/base.ts";

export interface WatchedRequest {
  requestId: bigint;
  requester: Address;
  modelId: bigint;
  deliveryMode: DeliveryMode;
  deadline: bigint;
  fee: bigint;
  blockNumber: bigint;
  transactionHash: Hash;
}

export interface WatchRequestsParameters {
  /** The AIOracle. */
  address: Address;
  /** Only requests by this account. */
  requester?: Address;
  /** Only requests for this model. */
  modelId?: bigint;
  /** Called with each batch of new requests, in log order. */
  onRequests: (requests: WatchedRequest[]) => void;
  onError?: (error: BaseError) => void;
  /** Milliseconds between polls (default: the client's pollingInterval). */
  pollingInterval?: number;
}

/** Stops watching. */
export type WatchRequestsReturnType = () => void;
export type WatchRequestsErrorType = BaseErrorType;

/** Watches new requests (RequestCreated events), optionally filtered by requester and model. */
export function watchRequests(
  client: Client<Transport, Chain | undefined>,
  { address, requester, modelId, onRequests, onError, pollingInterval }: WatchRequestsParameters,
): WatchRequestsReturnType {
  return watchContractEvent(client, {
    address,
    abi: aiOracleAbi,
    eventName: "RequestCreated",
    args: { ...(requester ? { requester } : {}), ...(modelId !== undefined ? { modelId } : {}) },
    poll: true,
    pollingInterval: pollingInterval ?? client.pollingInterval,
    onLogs: (logs) =>
      onRequests(
        logs
          .filter((log) => !log.removed)
          .map((log) => ({
            requestId: log.args.requestId!,
            requester: log.args.requester!,
            modelId: log.args.modelId!,
            deliveryMode: deliveryModes[log.args.deliveryMode!]!,
            deadline: log.args.deadline!,
            fee: log.args.modelFee! + log.args.callbackFee! + log.args.protocolFee!,
            blockNumber: log.blockNumber!,
            transactionHash: log.transactionHash!,
          })),
      ),
    onError: (error) => onError?.(new BaseError("Watching requests failed.", { cause: error })),
  });
}
