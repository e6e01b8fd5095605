/**
 * docs/dapp-guide.md §3 shows test/dapp/devnet-walkthrough.ts and test/dapp/devnet-prompt.ts verbatim (importing
 * "@oao/sdk"), and test/solidity/ora/OraPrompt.sol with ORA's names, so the documented examples are the ones that run
 * (test/e2e/devnet.test.ts, test/e2e/ora-consumers-devnet.test.ts).
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

it("docs/dapp-guide.md carries the devnet walkthrough exactly as it runs", () => {
  const doc = readFileSync(new URL("../../docs/dapp-guide.md", import.meta.url), "utf8");
  const example = readFileSync(new URL("./devnet-walkthrough.ts", import.meta.url), "utf8").replace('"../../sdk/src/index.ts"', '"@oao/sdk"');
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks, "update the walkthrough block of docs/dapp-guide.md §3 from test/dapp/devnet-walkthrough.ts").toContain(example);
});

it("docs/dapp-guide.md carries the devnet prompt example exactly as it runs", () => {
  const doc = readFileSync(new URL("../../docs/dapp-guide.md", import.meta.url), "utf8");
  const example = readFileSync(new URL("./devnet-prompt.ts", import.meta.url), "utf8").replace('"../../sdk/src/index.ts"', '"@oao/sdk"');
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks, "update the prompt block of docs/dapp-guide.md §3 from test/dapp/devnet-prompt.ts").toContain(example);
});

it("docs/dapp-guide.md's Solidity prompt consumer is test/solidity/ora/OraPrompt.sol with ORA's names", () => {
  const doc = readFileSync(new URL("../../docs/dapp-guide.md", import.meta.url), "utf8");
  const source = readFileSync(new URL("../solidity/ora/OraPrompt.sol", import.meta.url), "utf8");
  // The test contract declares ORA's IAIOracle and AIOracleCallbackReceiver under Ora… names (OraInterfaces.sol).
  const asOra = source
    .replace(
      'import {OraIAIOracle, OraCallbackReceiver} from "./OraInterfaces.sol";',
      'import {IAIOracle} from "./interfaces/IAIOracle.sol"; // ORA\'s files, unchanged\nimport {AIOracleCallbackReceiver} from "./AIOracleCallbackReceiver.sol";',
    )
    .replaceAll("OraIAIOracle", "IAIOracle")
    .replaceAll("OraCallbackReceiver", "AIOracleCallbackReceiver")
    .replace("contract OraPrompt ", "contract Prompt ");
  expect(asOra).not.toMatch(/\bOra[A-Z]/);
  const blocks = [...doc.matchAll(/```solidity\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks, "update the Solidity prompt consumer of docs/dapp-guide.md §3 from test/solidity/ora/OraPrompt.sol").toContain(asOra);
});

it("docs/dapp-guide.md's example addresses are those of a fresh oao devnet", () => {
  const doc = readFileSync(new URL("../../docs/dapp-guide.md", import.meta.url), "utf8");
  // test/e2e/devnet.test.ts checks a fresh devnet deploys exactly these (DEVNET_ADDRESSES).
  for (const a of ["0x5FbDB2315678afecb367f032d93F642f64180aa3", "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9", "0x0165878A594ca255338adfa4d48449f69242Eb8F"]) {
    expect(doc).toContain(a);
  }
});
