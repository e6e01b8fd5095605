import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  GUEST_BUILD_DIR,
  buildGuestPrograms,
  findClang,
  findLld,
  listGuestPrograms,
  readCommittedHashes,
} from "./build.ts";

const clang = findClang();
const lld = findLld();
const toolchain = clang !== undefined && lld !== undefined;
if (!toolchain) {
  console.warn("keeper/guest: clang 14 / ld.lld not found: skipping the reproducible-build check");
}

describe("guest build", () => {
  it("commits one ELF per source, matching hashes.json", () => {
    const committed = readCommittedHashes();
    const names = listGuestPrograms().map((p) => p.name).sort();
    expect(Object.keys(committed).sort()).toEqual(names);
    for (const name of names) {
      const bytes = readFileSync(join(GUEST_BUILD_DIR, `${name}.elf`));
      expect(createHash("sha256").update(bytes).digest("hex"), name).toBe(committed[name]);
    }
  });

  it.skipIf(!toolchain)("rebuilds every ELF byte for byte", () => {
    const out = mkdtempSync(join(tmpdir(), "oao-guest-test-"));
    try {
      const rebuilt = buildGuestPrograms(out, clang as string, lld as string);
      expect(rebuilt).toEqual(readCommittedHashes());
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
