/**
 * The differential harness's chain side: PreimageOracle + MIPS on Hardhat's in-process chain, and
 * helpers to load a witness's preimage part, run `MIPS.step` as an `eth_call` (fast, for every step)
 * or as a transaction (for gas), and check a batch of witnesses.
 */
import { network } from "hardhat";
import { type Address, type Hex, encodeFunctionData, hexToBigInt, hexToBytes, pad, size } from "viem";

/** What `MIPS.step` takes and must return, plus the preimage part the step reads, if any. */
export interface StepCase {
  /** Label used in failure messages (program and step). */
  label: string;
  preState: Hex;
  proof: Hex;
  localContext: Hex;
  postStateHash: Hex;
  preimage?: {
    /** The guest's key (type byte 1 local, 2 keccak). */
    key: Hex;
    offset: number;
    /** The whole unframed datum. */
    data: Hex;
  };
}

export type VmChain = Awaited<ReturnType<typeof deployVm>>;

/**
 * Deploys PreimageOracle + MIPS on a fresh in-process chain. `hardfork` overrides the chain's
 * (Hardhat's default is prague, whose EIP-7623 calldata floor can hide execution gas in gasUsed).
 */
export async function deployVm(options: { hardfork?: string } = {}) {
  const connection =
    options.hardfork === undefined ? await network.create() : await network.create({ override: { hardfork: options.hardfork } });
  const { viem } = connection;
  const publicClient = await viem.getPublicClient();
  const [wallet, other] = await viem.getWalletClients();
  if (wallet === undefined || other === undefined) throw new Error("expected two wallet clients");
  const oracle = await viem.deployContract("PreimageOracle");
  const mips = await viem.deployContract("MIPS", [oracle.address]);
  const batch = await viem.deployContract("MIPSStepBatch", [mips.address]);
  const loaded = new Set<string>();

  /**
   * Loads the part a case reads (once). Local data is loaded for the contract that will call step:
   * `wallet` (callStep, sendStep) or the batch contract (checkBatches).
   */
  async function loadPreimage(c: StepCase, caller: "wallet" | "batch" = "wallet"): Promise<void> {
    const p = c.preimage;
    if (p === undefined) return;
    const type = hexToBytes(p.key)[0];
    // A keccak key commits to its data; a local key does not (two programs may put different
    // local data under the same key), so its id carries the datum (at most 32 bytes).
    const id = type === 2 ? `${p.key}:${p.offset}` : `${p.key}:${p.data}:${c.localContext}:${p.offset}:${caller}`;
    if (loaded.has(id)) return;
    let hash: Hex;
    if (type === 2) {
      hash = await oracle.write.loadKeccak256PreimagePart([BigInt(p.offset), p.data]);
    } else if (type === 1) {
      const ident = hexToBigInt(p.key) & ((1n << 248n) - 1n);
      const word = size(p.data) === 0 ? pad("0x", { size: 32 }) : pad(p.data, { size: 32, dir: "right" });
      const args = [ident, c.localContext, word, BigInt(size(p.data)), BigInt(p.offset)] as const;
      hash =
        caller === "batch"
          ? await batch.write.loadLocalData(args)
          : await oracle.write.loadLocalData(args, { account: wallet!.account });
    } else {
      throw new Error(`${c.label}: preimage key type ${type} cannot be loaded`);
    }
    await publicClient.waitForTransactionReceipt({ hash });
    loaded.add(id);
  }

  /** `MIPS.step` as an eth_call from `wallet` (the "game" whose local data was loaded). */
  async function callStep(c: StepCase, from: Address = wallet!.account.address): Promise<Hex> {
    return mips.read.step([c.preState, c.proof, c.localContext], { account: from });
  }

  /**
   * `MIPS.step` as a transaction; returns the receipt's gas and the pre-prague intrinsic gas
   * (21,000 + 4/16 per zero/non-zero calldata byte), so on a cancun chain gasUsed - intrinsic is
   * the execution gas.
   */
  async function sendStep(c: StepCase): Promise<{ gasUsed: bigint; intrinsic: bigint; calldataBytes: number }> {
    const data = encodeFunctionData({ abi: mips.abi, functionName: "step", args: [c.preState, c.proof, c.localContext] });
    const hash = await wallet!.sendTransaction({ to: mips.address, data });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${c.label}: step transaction reverted`);
    const bytes = hexToBytes(data);
    let calldataGas = 0n;
    for (const b of bytes) calldataGas += b === 0 ? 4n : 16n;
    return { gasUsed: receipt.gasUsed, intrinsic: 21000n + calldataGas, calldataBytes: bytes.length };
  }

  /**
   * Runs every case through `MIPS.step` (eth_call, `concurrency` at a time) and returns the cases
   * whose returned hash differs from `postStateHash` or that reverted, with what happened.
   */
  async function checkCases(cases: readonly StepCase[], concurrency = 16): Promise<string[]> {
    for (const c of cases) await loadPreimage(c);
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i += concurrency) {
      const chunk = cases.slice(i, i + concurrency);
      const results = await Promise.allSettled(chunk.map((c) => callStep(c)));
      results.forEach((r, k) => {
        const c = chunk[k]!;
        if (r.status === "rejected") {
          failures.push(`${c.label}: MIPS.step reverted: ${(r.reason as Error).message.split("\n")[0]}`);
        } else if (r.value !== c.postStateHash) {
          failures.push(`${c.label}: MIPS.step returned ${r.value}, expected ${c.postStateHash}`);
        }
      });
    }
    return failures;
  }

  /**
   * Replays `cases` (all with the same local context) through MIPSStepBatch, `batchSize` witnesses
   * per eth_call. Returns a failure message for the first batch with a mismatch or a revert, or
   * undefined when every post-state hash agrees.
   */
  async function checkBatches(cases: readonly StepCase[], batchSize = 256): Promise<string | undefined> {
    for (const c of cases) await loadPreimage(c, "batch");
    for (let i = 0; i < cases.length; i += batchSize) {
      const chunk = cases.slice(i, i + batchSize);
      const ctx = chunk[0]!.localContext;
      if (chunk.some((c) => c.localContext !== ctx)) throw new Error("checkBatches: one local context per batch");
      try {
        const { result } = await batch.simulate.check([
          chunk.map((c) => c.preState),
          chunk.map((c) => c.proof),
          chunk.map((c) => c.postStateHash),
          ctx,
        ]);
        const [first, got] = result;
        if (first < BigInt(chunk.length)) {
          const c = chunk[Number(first)]!;
          return `${c.label}: MIPS.step returned ${got}, expected ${c.postStateHash}`;
        }
      } catch (e) {
        return `batch starting at ${chunk[0]!.label}: ${(e as Error).message.split("\n").slice(0, 3).join(" ")}`;
      }
    }
    return undefined;
  }

  return { connection, publicClient, wallet, other, oracle, mips, batch, loadPreimage, callStep, sendStep, checkCases, checkBatches };
}
