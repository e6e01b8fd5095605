/** docs/dapp-guide.md §3 shows test/dapp/devnet-walkthrough.ts verbatim (importing "@oao/sdk"), so the documented walkthrough is the one that runs. */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

it("docs/dapp-guide.md carries the devnet walkthrough exactly as it runs", () => {
  const doc = readFileSync(new URL("../../docs/dapp-guide.md", import.meta.url), "utf8");
  const example = readFileSync(new URL("./devnet-walkthrough.ts", import.meta.url), "utf8").replace('"../../sdk/src/index.ts"', '"@oao/sdk"');
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks, "update the walkthrough block of docs/dapp-guide.md §3 from test/dapp/devnet-walkthrough.ts").toContain(example);
});

it("docs/dapp-guide.md's example addresses are those of a fresh oao devnet", () => {
  const doc = readFileSync(new URL("../../docs/dapp-guide.md", import.meta.url), "utf8");
  // test/e2e/devnet.test.ts checks a fresh devnet deploys exactly these (DEVNET_ADDRESSES).
  for (const a of ["0x5FbDB2315678afecb367f032d93F642f64180aa3", "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9", "0x0165878A594ca255338adfa4d48449f69242Eb8F"]) {
    expect(doc).toContain(a);
  }
});
