// Example from docs/dapp-guide.md §3 (kept identical by test/dapp/dapp-guide-doc.test.ts, which reads
// "@oao/sdk" for the repository path), run against `oao devnet` by test/e2e/ora-consumers-devnet.test.ts.
import { type Address, createWalletClient, http } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { oaoActions } from "../../sdk/src/index.ts";

/** What `oao devnet` prints on stdout, in part: `models.text` is the text generation model. */
export interface DevnetModels {
  rpc: string;
  contracts: { aiOracle: Address; taskManager: Address; staking: Address };
  models: { text: { modelId: string; inputBytes: number } };
}

export async function devnetPrompt(devnet: DevnetModels, prompt = "And God said, ") {
  const account = mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex: 5 });
  const { aiOracle: oracle, taskManager, staking } = devnet.contracts;
  const wallet = createWalletClient({ account, chain: hardhat, transport: http(devnet.rpc) }).extend(oaoActions({ addresses: { oracle, taskManager, staking } }));

  // The prompt is sent as its UTF-8 bytes: 1 to models.text.inputBytes (the model's context) of them.
  const { requestId } = await wallet.requestText({ modelId: BigInt(devnet.models.text.modelId), prompt });

  // The devnet's keeper generates the continuation (greedy, byte by byte) and commits it within seconds.
  const { text } = await wallet.waitForResult({ requestId, until: "committed", timeout: 120_000 });
  return { requestId, text: text! };
}
