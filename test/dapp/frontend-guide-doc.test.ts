/**
 * docs/frontend-guide.md shows test/dapp/frontend-guide.ts block by block (with "@oao/sdk" imports), so the
 * documented code is the code `npm test`'s typecheck compiles against the SDK.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

it("every code block of docs/frontend-guide.md is in test/dapp/frontend-guide.ts, in order", () => {
  const doc = readFileSync(new URL("../../docs/frontend-guide.md", import.meta.url), "utf8");
  const code = readFileSync(new URL("./frontend-guide.ts", import.meta.url), "utf8")
    .replace('"../../sdk/src/subgraph/index.ts"', '"@oao/sdk/subgraph"')
    .replace('"../../sdk/src/index.ts"', '"@oao/sdk"');
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length).toBeGreaterThanOrEqual(4);
  let at = 0;
  for (const b of blocks) {
    const i = code.indexOf(b, at);
    expect(i, `update test/dapp/frontend-guide.ts from this block of docs/frontend-guide.md:\n${b}`).toBeGreaterThanOrEqual(0);
    at = i + b.length;
  }
});
