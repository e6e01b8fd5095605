import { type Address, type Chain, type Client, type Transport, zeroAddress } from "viem";
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
  /**
   * What to send with the request, in wei: modelFee + callbackFee + protocolFee, or for a token-priced model
   * callbackFee + protocolFee (its model fee is pulled in `feeToken`; approve the oracle for it first).
   */
  total: bigint;
  /** In wei, or in units of `feeToken` when that is set. */
  modelFee: bigint;
  /** (gasLimit + 50 000) × the current callback gas price; 0 without a callback. */
  callbackFee: bigint;
  protocolFee: bigint;
  /** The ERC20 the model fee is paid in (docs/protocol.md §1.5); undefined for a model priced in wei. */
  feeToken?: Address;
}

export type EstimateFeeErrorType = ContractRevertErrorType | BaseErrorType;

/** The fee of a request now (`IAIOracle.estimateFee`, split into its parts). */
export async function estimateFee(
  client: Client<Transport, Chain | undefined>,
  { address, modelId, gasLimit }: EstimateFeeParameters,
): Promise<EstimateFeeReturnType> {
  try {
    const abi = [...aiOracleAbi, ...oaoErrorsAbi];
    const [[modelFee, callbackFee, protocolFee], token] = await Promise.all([
      readContract(client, { address, abi, functionName: "estimateFeeParts", args: [modelId, gasLimit] }),
      readContract(client, { address, abi, functionName: "modelFeeToken", args: [modelId] }),
    ]);
    if (token === zeroAddress) return { total: modelFee + callbackFee + protocolFee, modelFee, callbackFee, protocolFee };
    return { total: callbackFee + protocolFee, modelFee, callbackFee, protocolFee, feeToken: token };
  } catch (err) {
    throw toOaoError(err, "estimateFee");
  }
}
