/**
 * The keeper's commit gas bound (keeper/src/service/keeper.ts `commitGasBound`, used when the node's estimate
 * fails) against ORA's callback gas limits (issue 17): a commit that delivers to a callback asking for
 * 5,000,000 gas (ORA's Prompt; the oracle's maxCallbackGasLimit) or 2,500,000 and burning all of it goes
 * through with exactly the bound, and the bound fits a 30M-gas block.
 */
import { describe, expect, it } from "vitest";
import { encodeFunctionData } from "viem";
import { commitGasBound } from "../../keeper/src/service/keeper.ts";
import { MAX_GAS, OUTPUT_A, TRACE_A, createOracleWorld } from "../oracle/fixture.ts";

describe("commit gas bound with ORA's callback gas", () => {
  it("a commit with a 5M (and a 2.5M) callback that burns all its gas fits the keeper's bound and a block", async () => {
    const w = await createOracleWorld();
    await w.reset();
    expect(await w.aiOracle.read.maxCallbackGasLimit()).toBe(5_000_000n);
    expect(MAX_GAS).toBe(5_000_000n);
    const griefer = await w.viem.deployContract("GasGriefingReceiver");
    await griefer.write.setBurn([true]);
    for (const gasLimit of [5_000_000n, 2_500_000n]) {
      const { id } = await w.request({ callback: griefer.address, gasLimit });
      const proof = await w.proofFor(id, OUTPUT_A, TRACE_A);
      const data = encodeFunctionData({ abi: w.taskManager.abi, functionName: "commit", args: [id, OUTPUT_A, proof] });
      const bound = commitGasBound((data.length - 2) / 2, gasLimit);
      expect(bound).toBeLessThan(30_000_000n);
      // The bound is tight enough to matter: the callback's own limit alone is too little for the commit.
      await w.expectRevert(
        w.taskManager.write.commit([id, OUTPUT_A, proof], { account: w.wallets.alice.account, gas: gasLimit }),
        "InsufficientGasForCallback",
      );
      const receipt = await w.send(w.taskManager.write.commit([id, OUTPUT_A, proof], { account: w.wallets.alice.account, gas: bound }));
      expect(receipt.status).toBe("success");
      expect(receipt.gasUsed).toBeLessThan(bound);
      const executed = w.eventsNamed(receipt, "CallbackExecuted")[0]!.args as { success: boolean };
      expect(executed.success).toBe(false); // the griefer burned all of its gas: recorded, the commit stands
      // It was given its full limit: ExactGasCall reverts the whole commit (InsufficientGasForCallback) otherwise.
    }
  });
});
