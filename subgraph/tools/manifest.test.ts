/**
 * Every event of every indexed contract has a handler: the manifest's eventHandlers of each data
 * source equal the events of its ABI (the Hardhat artifact), each handler is exported by the data
 * source's mapping file, and that mapping's test file (one per mapping) exercises each handler.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { abiEventSignatures, readManifest } from "./manifest.ts";

const subgraphDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sources = readManifest(join(subgraphDir, "subgraph.yaml"));

describe("subgraph manifest", () => {
  it("indexes the oracle, staking and task manager contracts, and every dispute game through a template", () => {
    expect(sources.filter((s) => !s.template).map((s) => s.name)).toEqual(["AIOracle", "Staking", "TaskManager"]);
    expect(sources.filter((s) => s.template).map((s) => s.name)).toEqual(["DisputeGame"]);
  });

  it("uses the localhost addresses of networks.json (templates have none)", () => {
    const networks = JSON.parse(readFileSync(join(subgraphDir, "networks.json"), "utf8"));
    for (const source of sources) {
      if (source.template) expect(source.address, source.name).toBe("");
      else expect(source.address, source.name).toBe(networks.localhost[source.name].address);
    }
  });

  it("creates the DisputeGame template from the ClaimChallenged handler", () => {
    const mapping = readFileSync(join(subgraphDir, "src", "task-manager.ts"), "utf8");
    expect(mapping).toMatch(/DisputeGame\.create\(p\.game\)/);
    const tm = sources.find((s) => s.name === "TaskManager")!;
    expect(tm.eventHandlers.map((h) => h.handler)).toContain("handleClaimChallenged");
  });

  for (const source of sources) {
    describe(source.name, () => {
      const abiPath = join(subgraphDir, source.abiFile);

      it("has a handler for every event of its ABI, and none for events the ABI lacks", () => {
        expect(existsSync(abiPath), `${source.abiFile} (run npm run build)`).toBe(true);
        const abi = JSON.parse(readFileSync(abiPath, "utf8")).abi;
        const handled = source.eventHandlers.map((h) => h.event).sort();
        expect(handled).toEqual(abiEventSignatures(abi));
      });

      it("exports every handler from its mapping file and tests each one", () => {
        const mapping = readFileSync(join(subgraphDir, source.mappingFile), "utf8");
        const testFile = join(subgraphDir, "tests", basename(source.mappingFile).replace(/\.ts$/, ".test.ts"));
        expect(existsSync(testFile), `one test file per mapping: ${testFile}`).toBe(true);
        const tests = readFileSync(testFile, "utf8") + readFileSync(join(subgraphDir, "tests", "fixtures.ts"), "utf8");
        for (const { handler } of source.eventHandlers) {
          expect(mapping, `${source.mappingFile} exports ${handler}`).toMatch(new RegExp(`export function ${handler}\\(`));
          expect(tests, `${basename(testFile)} calls ${handler}`).toMatch(new RegExp(`\\b${handler}\\(`));
        }
      });
    });
  }

  it("the manifest reader fails loudly on a mismatch (the check is not vacuous)", () => {
    const abi = [
      { type: "event", name: "A", inputs: [{ type: "uint256", indexed: true }, { type: "tuple", components: [{ type: "address" }] }] },
      { type: "function", name: "f" },
    ];
    expect(abiEventSignatures(abi)).toEqual(["A(indexed uint256,(address))"]);
    const oracle = sources.find((s) => s.name === "AIOracle")!;
    expect(oracle.eventHandlers.length).toBeGreaterThan(10);
    expect(oracle.eventHandlers.every((h) => h.handler.startsWith("handle"))).toBe(true);
  });
});
