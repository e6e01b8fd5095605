/** docs/dapp-testing.md shows test/dapp/mock-oracle.example.test.ts verbatim, so the documented example is the one that runs. */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

it("docs/dapp-testing.md carries the example test exactly as it runs", () => {
  const doc = readFileSync(new URL("../../docs/dapp-testing.md", import.meta.url), "utf8");
  const example = readFileSync(new URL("./mock-oracle.example.test.ts", import.meta.url), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1];
  expect(block, "docs/dapp-testing.md has no ```ts block").toBeDefined();
  expect(block, "update the ```ts block of docs/dapp-testing.md from test/dapp/mock-oracle.example.test.ts").toBe(example);
});
