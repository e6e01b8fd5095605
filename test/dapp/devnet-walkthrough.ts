// Example from docs/dapp-guide.md §3 (kept identical by test/dapp/dapp-guide-doc.test.ts, which reads
// "@oao/sdk" for the repository path), run against `oao devnet` by test/e2e/devnet.test.ts.
import { type Address, type Hex, createTestClient, createWalletClient, http } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { oaoActions } from "../../sdk/src/index.ts";

/** What `oao devnet` prints on stdout (one JSON object). */
export interface DevnetInfo {
  rpc: string;
  contracts: { aiOracle: Address; taskManager: Address; staking: Address; digitClassifier: Address };
  modelId: string;
}

export async function devnetWalkthrough(devnet: DevnetInfo) {
  const transport = http(devnet.rpc);
  // Dev account 5 of the devnet's well-known mnemonic (0 deployed the protocol, 1 is its keeper).
  const account = mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex: 5 });
  const { aiOracle: oracle, taskManager, staking } = devnet.contracts;
  const wallet = createWalletClient({ account, chain: hardhat, transport }).extend(oaoActions({ addresses: { oracle, taskManager, staking } }));
  const testClient = createTestClient({ mode: "hardhat", chain: hardhat, transport });

  // MNIST's input: 784 int8 pixels. No callback here: read the result with waitForResult / getRequest.
  const input = `0x${"00".repeat(784)}` as Hex;
  const { requestId } = await wallet.requestInference({ modelId: BigInt(devnet.modelId), input });

  // The devnet's honest keeper answers within a second or two: the result is committed, not final yet.
  const committed = await wallet.waitForResult({ requestId, until: "committed", timeout: 60_000 });

  // Finality needs the challenge window (3600 s of chain time on the devnet) to pass. Nobody waits an hour:
  // move the devnet's clock and mine a block; the keeper then finalizes the claim on its next poll.
  await testClient.increaseTime({ seconds: 3_601 });
  await testClient.mine({ blocks: 1 });
  const final = await wallet.waitForResult({ requestId, until: "finalized", timeout: 60_000 });
  return { requestId, committed, final };
}
