/** The CLI prints a revert as the contract's custom error with its arguments, also when viem only had the raw data. */
import { describe, expect, it } from "vitest";
import { BaseError, CallExecutionError, RawContractError, encodeErrorResult, parseAbi } from "viem";
import { describeCliError } from "./errors.ts";

const OPERATOR = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";
const data = encodeErrorResult({
  abi: parseAbi(["error InsufficientFreeStake(address operator, uint256 free, uint256 needed)"]),
  errorName: "InsufficientFreeStake",
  args: [OPERATOR, 0n, 1000n],
});

describe("describeCliError", () => {
  it("decodes raw revert data (what a transaction sent without the ABI reports)", () => {
    expect(data.slice(0, 10)).toBe("0x738cfa45");
    const error = new CallExecutionError(new RawContractError({ data }) as unknown as BaseError, { account: undefined as never });
    const text = describeCliError(error);
    expect(text).toContain(`InsufficientFreeStake(${OPERATOR}, 0, 1000)`);
    expect(text).not.toContain("0x738cfa45");
  });

  it("leaves other errors as they are", () => {
    expect(describeCliError(new Error("--fee abc: a whole number of wei"))).toBe("--fee abc: a whole number of wei");
  });
});
