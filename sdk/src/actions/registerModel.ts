import {
  type Account,
  type Address,
  type Chain,
  type Client,
  type ContractFunctionArgs,
  type Hash,
  type Hex,
  type Transport,
  parseEventLogs,
} from "viem";
import { aiOracleAbi, oaoErrorsAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import type { ContractRevertErrorType } from "../errors/contract.ts";
import { InvalidParameterError, type InvalidModelFileErrorType, type InvalidParameterErrorType } from "../errors/parameters.ts";
import { decodeModelDescriptor, modelDescriptorFromFile } from "../model.ts";
import { send } from "./internal/send.ts";

interface RegisterModelBase {
  /** The AIOracle (it is also the model registry). */
  address: Address;
  /** The guest program's initial VM state hash for this model (docs/protocol.md §4.7). */
  absolutePrestate: Hex;
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

/**
 * The model is given either by its descriptor (the preimage of `modelRoot`, docs/protocol.md §3.3)
 * or by the bytes of its model file (`model.oao`, §3.7), from which the descriptor is extracted.
 */
export type RegisterModelParameters = RegisterModelBase &
  ({ descriptor: Hex; modelFile?: undefined } | { modelFile: Uint8Array | Hex; descriptor?: undefined });

export interface RegisterModelReturnType {
  modelId: bigint;
  /** keccak256 of the registered descriptor. */
  modelRoot: Hex;
  /** Node count decoded from the descriptor. */
  nodeCount: number;
  hash: Hash;
}

export type RegisterModelErrorType = ContractRevertErrorType | InvalidModelFileErrorType | InvalidParameterErrorType | BaseErrorType;

/**
 * Registers a model; its id comes from the ModelRegistered event. The descriptor's framing is
 * checked before anything is sent (InvalidModelFileError); the registry checks it again
 * (InvalidModelDescriptor, ModelInputTooLarge, … as ContractRevertError).
 */
export async function registerModel(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  { address, account, descriptor, modelFile, ...model }: RegisterModelParameters,
): Promise<RegisterModelReturnType> {
  if ((descriptor === undefined) === (modelFile === undefined)) {
    throw new InvalidParameterError({ parameter: "descriptor", message: "pass exactly one of `descriptor` and `modelFile`" });
  }
  const bytes = descriptor ?? modelDescriptorFromFile(modelFile!);
  const decoded = decodeModelDescriptor(bytes);
  // Typed against the ABI, so a change of ModelParams breaks the build rather than a transaction.
  const args: ContractFunctionArgs<typeof aiOracleAbi, "nonpayable", "registerModel"> = [{ descriptor: bytes, ...model }];
  const { hash, receipt } = await send(client, {
    address,
    abi: [...aiOracleAbi, ...oaoErrorsAbi],
    functionName: "registerModel",
    args,
    account,
  });
  const [registered] = parseEventLogs({ abi: aiOracleAbi, eventName: "ModelRegistered", logs: receipt.logs });
  return { modelId: registered!.args.modelId, modelRoot: decoded.modelRoot, nodeCount: decoded.nodeCount, hash };
}
