import type { Account, Address, Chain, Client, Transport } from "viem";
import { readContract } from "viem/actions";
import { aiOracleAbi, oaoErrorsAbi } from "../../contracts.ts";
import { toOaoError } from "../../errors/contract.ts";
import { InputLengthMismatchError, PromptLengthError } from "../../errors/parameters.ts";

/** What the request checks need of `getModel(modelId)`. */
export interface ModelInputRule {
  inputBytes: number;
  /** 0 fixed, 1 text (docs/protocol.md §3.3). */
  inputMode: number;
}

/** Whether a model (as `getModel` returns it) is a text model. */
export function isTextModel(model: ModelInputRule): boolean {
  return model.inputMode === 1;
}

/**
 * The oracle's input-length rule (docs/protocol.md §1.4), checked before anything is sent: a fixed model takes
 * exactly `inputBytes` (InputLengthMismatchError), a text model a prompt of 1..`inputBytes` (PromptLengthError).
 */
export function checkInputLength(modelId: bigint, model: ModelInputRule, given: number): void {
  if (isTextModel(model)) {
    if (given < 1 || given > model.inputBytes) throw new PromptLengthError({ modelId, max: model.inputBytes, given });
    return;
  }
  if (given !== model.inputBytes) throw new InputLengthMismatchError({ modelId, expected: model.inputBytes, given });
}

/** The model's input rule, from `getModel` (reverts such as UnknownModel surface as ContractRevertError). */
export async function readModel(
  client: Client<Transport, Chain | undefined, Account | undefined>,
  params: { address: Address; modelId: bigint },
): Promise<ModelInputRule> {
  try {
    return await readContract(client, { address: params.address, abi: [...aiOracleAbi, ...oaoErrorsAbi], functionName: "getModel", args: [params.modelId] });
  } catch (err) {
    throw toOaoError(err, "getModel");
  }
}
