import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KERNELS_SCALAR_WASM_BASE64, KERNELS_SCALAR_WASM_SHA256, KERNELS_SIMD_WASM_BASE64, KERNELS_SIMD_WASM_SHA256 } from "../../graph/kernels-wasm.ts";

const here = new URL(".", import.meta.url).pathname;
const hasClang = spawnSync("clang", ["--version"]).status === 0 && spawnSync("wasm-ld", ["--version"]).status === 0;
const BUILDS = [
  ["scalar", KERNELS_SCALAR_WASM_BASE64, KERNELS_SCALAR_WASM_SHA256],
  ["simd", KERNELS_SIMD_WASM_BASE64, KERNELS_SIMD_WASM_SHA256],
] as const;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("wasm kernels build", () => {
  for (const [name, base64, hash] of BUILDS) {
    it(`the embedded ${name} wasm is the committed build/kernels-${name}.wasm`, () => {
      const committed = readFileSync(join(here, `build/kernels-${name}.wasm`));
      expect(Buffer.from(base64, "base64").equals(committed)).toBe(true);
      expect(sha256(committed)).toBe(hash);
    });
  }

  it("the two builds differ (the SIMD one holds the vector kernels)", () => {
    expect(KERNELS_SIMD_WASM_SHA256).not.toBe(KERNELS_SCALAR_WASM_SHA256);
  });

  it.skipIf(!hasClang)("rebuilding both from the C sources gives the same bytes", () => {
    const out = mkdtempSync(join(tmpdir(), "oao-kernels-"));
    execFileSync(join(here, "build-wasm.sh"), [out], { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 2 ** 20 });
    for (const [name, , hash] of BUILDS) expect(sha256(readFileSync(join(out, `kernels-${name}.wasm`))), name).toBe(hash);
  });
});
