import { type Account, type Address, type Chain, type Client, type Hash, type Hex, type Transport, parseEventLogs } from "viem";
import { aiOracleAbi, oaoErrorsAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import type { ContractRevertErrorType } from "../errors/contract.ts";
import { send } from "./internal/send.ts";

export interface RegisterModelParameters {
  /** The AIOracle (it is also the model registry). */
  address: Address;
  /** keccak256 of the model descriptor (docs/protocol.md §3.3). */
  modelRoot: Hex;
  /** The guest program's initial VM state hash for this model (docs/protocol.md §4.7). */
  absolutePrestate: Hex;
  /** Number of nodes of the model's graph. */
  nodeCount: number;
  /** Fee per request, in wei. */
  fee: bigint;
  /** Receives `feeShareBps` of the model fee. */
  feeReceiver: Address;
  /** Share of the model fee for `feeReceiver`, in basis points (0..10000). */
  feeShareBps: number;
  /** Where the model files and metadata are published. */
  metadataURI: string;
  account?: Account | Address;
}

export interface RegisterModelReturnType {
  modelId: bigint;
  hash: Hash;
}

export type RegisterModelErrorType = ContractRevertErrorType | BaseErrorType;

/** Registers a model; its id comes from the ModelRegistered event. */
export async function registerModel(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  { address, account, ...model }: RegisterModelParameters,
): Promise<RegisterModelReturnType> {
  const { hash, receipt } = await send(client, {
    address,
    abi: [...aiOracleAbi, ...oaoErrorsAbi],
    functionName: "registerModel",
    args: [model],
    account,
  });
  const [registered] = parseEventLogs({ abi: aiOracleAbi, eventName: "ModelRegistered", logs: receipt.logs });
  return { modelId: registered!.args.modelId, hash };
}
