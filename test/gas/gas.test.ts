/**
 * Gas snapshot check: measures request, commit, challenge, resolve, deliver, finalize and expire and compares with
 * docs/gas-snapshot.json. An increase fails naming the operation and the delta; a decrease passes with a note.
 * With GAS_SNAPSHOT_UPDATE=1 (`npm run gas:snapshot`) it rewrites the snapshot and docs/gas.md instead.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

import { type GasSnapshot, compareGas, measureGas, renderGasDoc } from "./measure.ts";

const snapshotPath = new URL("../../docs/gas-snapshot.json", import.meta.url);
const docPath = new URL("../../docs/gas.md", import.meta.url);
const update = process.env.GAS_SNAPSHOT_UPDATE === "1";
const HOW_TO_UPDATE = "If the change is deliberate, run `npm run gas:snapshot` and commit docs/gas-snapshot.json and docs/gas.md.";

describe("gas snapshot", () => {
  it("compares against a snapshot in both directions", () => {
    const base: GasSnapshot = { commit: { gas: 100, note: "" }, finalize: { gas: 50, note: "" } };
    expect(compareGas(base, { commit: { gas: 101, note: "" }, finalize: { gas: 50, note: "" } }).failures).toEqual([
      "commit: 100 -> 101 gas (+1, +1.00%)",
    ]);
    const lower = compareGas(base, { commit: { gas: 90, note: "" }, finalize: { gas: 50, note: "" } });
    expect(lower).toEqual({ failures: [], notes: ["commit: 100 -> 90 gas (-10)"] });
    expect(compareGas(base, { commit: { gas: 100, note: "" } }).failures).toEqual(["finalize: in the snapshot, no longer measured"]);
  });

  it(update ? "rewrites docs/gas-snapshot.json and docs/gas.md" : "no operation costs more than docs/gas-snapshot.json", async () => {
    const measured = await measureGas();
    if (update) {
      writeFileSync(snapshotPath, `${JSON.stringify(measured, null, 2)}\n`);
      writeFileSync(docPath, renderGasDoc(measured));
      console.log(`gas snapshot written:\n${Object.entries(measured).map(([n, e]) => `  ${n}: ${e.gas}`).join("\n")}`);
      return;
    }
    expect(existsSync(snapshotPath), `docs/gas-snapshot.json is missing. ${HOW_TO_UPDATE}`).toBe(true);
    const snapshot = JSON.parse(readFileSync(snapshotPath, "utf8")) as GasSnapshot;
    const { failures, notes } = compareGas(snapshot, measured);
    if (notes.length > 0) console.log(`Gas went down (fine; refresh the snapshot to lock it in):\n  ${notes.join("\n  ")}`);
    expect(failures, `Gas increased over docs/gas-snapshot.json:\n  ${failures.join("\n  ")}\n${HOW_TO_UPDATE}`).toEqual([]);
  });

  it("docs/gas.md is the table of the snapshot", () => {
    if (update) return;
    const snapshot = JSON.parse(readFileSync(snapshotPath, "utf8")) as GasSnapshot;
    expect(readFileSync(docPath, "utf8"), `docs/gas.md differs from docs/gas-snapshot.json. ${HOW_TO_UPDATE}`).toBe(
      renderGasDoc(snapshot),
    );
  });
});
