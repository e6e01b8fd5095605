/**
 * The keeper's hand-written dispute-game ABI (keeper/src/dispute/abi.ts) must be a subset of the game's real
 * ABI (contracts/dispute/DisputeGame.sol), entry by entry: same names, kinds, input and output types.
 */
import { describe, expect, it } from "vitest";
import type { Abi, AbiParameter } from "viem";
import { DisputeGameAbi, PreimageOracleAbi } from "../../sdk/src/abis/generated.ts";
import { disputeGameAbi, preimageOracleAbi } from "../../keeper/src/dispute/abi.ts";

const types = (ps: readonly AbiParameter[] | undefined) => (ps ?? []).map((p) => p.type).join(",");

function signatures(abi: Abi): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of abi) {
    if (item.type !== "function" && item.type !== "event") continue;
    const outputs = item.type === "function" ? ` -> ${types(item.outputs)} ${item.stateMutability}` : "";
    out.set(`${item.type} ${item.name}(${types(item.inputs)})`, outputs);
  }
  return out;
}

describe("the keeper's dispute ABI matches the contracts", () => {
  it.each([
    ["DisputeGame", disputeGameAbi as Abi, DisputeGameAbi as Abi],
    ["PreimageOracle", preimageOracleAbi as Abi, PreimageOracleAbi as Abi],
  ])("%s", (_name, keeper, contract) => {
    const real = signatures(contract);
    for (const [sig, outputs] of signatures(keeper)) {
      expect(real.has(sig), `${sig} is not in the contract's ABI`).toBe(true);
      expect(real.get(sig), sig).toBe(outputs);
    }
  });
});
