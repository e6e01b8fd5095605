import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KERNELS_WASM_BASE64, KERNELS_WASM_SHA256 } from "../../graph/kernels-wasm.ts";

const here = new URL(".", import.meta.url).pathname;
const hasClang = spawnSync("clang", ["--version"]).status === 0 && spawnSync("wasm-ld", ["--version"]).status === 0;

describe("wasm kernels build", () => {
  it("the embedded wasm is the committed build/kernels.wasm", () => {
    const committed = readFileSync(join(here, "build/kernels.wasm"));
    expect(Buffer.from(KERNELS_WASM_BASE64, "base64").equals(committed)).toBe(true);
    expect(createHash("sha256").update(committed).digest("hex")).toBe(KERNELS_WASM_SHA256);
  });

  it.skipIf(!hasClang)("rebuilding from the C sources gives the same bytes", () => {
    const out = join(mkdtempSync(join(tmpdir(), "oao-kernels-")), "kernels.wasm");
    execFileSync(join(here, "build-wasm.sh"), [out], { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 2 ** 20 });
    expect(createHash("sha256").update(readFileSync(out)).digest("hex")).toBe(KERNELS_WASM_SHA256);
  });
});
