import type { Address, Chain, Client, Transport } from "viem";
import { readContract } from "viem/actions";
import { aiOracleAbi, oaoErrorsAbi } from "../contracts.ts";
import type { BaseErrorType } from "../errors/base.ts";
import type { ContractRevertErrorType } from "../errors/contract.ts";
import { toOaoError } from "../errors/contract.ts";

export interface EstimateFeeParameters {
  /** The AIOracle. */
  address: Address;
  modelId: bigint;
  /** Gas the callback will run with (0 for no callback). */
  gasLimit: bigint;
}

export interface EstimateFeeReturnType {
  /** What to send with the request, in wei: modelFee + callbackFee + protocolFee. */
  total: bigint;
  modelFee: bigint;
  /** gasLimit × the current callback gas price. */
  callbackFee: bigint;
  protocolFee: bigint;
}

export type EstimateFeeErrorType = ContractRevertErrorType | BaseErrorType;

/** The fee of a request now (`IAIOracle.estimateFee`, split into its parts). */
export async function estimateFee(
  client: Client<Transport, Chain | undefined>,
  { address, modelId, gasLimit }: EstimateFeeParameters,
): Promise<EstimateFeeReturnType> {
  try {
    const [modelFee, callbackFee, protocolFee] = await readContract(client, {
      address,
      abi: [...aiOracleAbi, ...oaoErrorsAbi],
      functionName: "estimateFeeParts",
      args: [modelId, gasLimit],
    });
    return { total: modelFee + callbackFee + protocolFee, modelFee, callbackFee, protocolFee };
  } catch (err) {
    throw toOaoError(err, "estimateFee");
  }
}
