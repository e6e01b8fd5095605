/**
 * `tsx subgraph/tests/runner/cli.ts [test files…]`: runs the subgraph's mapping tests offline
 * (default: every subgraph/tests/*.test.ts). Exits 1 if any test fails, any hook fails, or a file
 * registers no test at all (a test file cannot pass vacuously).
 */
import { readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { runTestFile, subgraphDir, succeeded } from "./run.ts";

const testsDir = join(subgraphDir, "tests");
const files = process.argv.slice(2).length
  ? process.argv.slice(2).map((f) => resolve(f))
  : readdirSync(testsDir)
      .filter((f) => f.endsWith(".test.ts"))
      .sort()
      .map((f) => join(testsDir, f));

let ok = files.length > 0;
if (!ok) console.error("no mapping tests found in subgraph/tests/");
let passed = 0;
let failed = 0;
for (const file of files) {
  const result = await runTestFile(file);
  console.log(relative(process.cwd(), file));
  for (const t of result.results) {
    if (t.passed) passed++;
    else failed++;
    const note = t.shouldFail ? " (expected to fail)" : "";
    console.log(`  ${t.passed ? "✔" : "✘"} ${t.name}${note}${!t.passed && t.error ? `\n      ${t.error}` : ""}`);
    if (!t.passed) for (const line of t.logs) console.log(`      ${line}`);
  }
  for (const e of result.errors) console.log(`  ✘ ${e}`);
  if (result.results.length === 0) console.log("  ✘ no tests registered");
  if (!succeeded(result)) ok = false;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
