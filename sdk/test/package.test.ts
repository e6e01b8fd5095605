/**
 * The SDK builds as an ESM package without Node types (tsconfig.build.json has `types: []`), every
 * target of its exports map exists, and the built entry points load.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = resolve(sdkDir, "..", "node_modules", "typescript", "bin", "tsc");

interface PackageJson {
  type: string;
  exports: Record<string, string | { types: string; import: string }>;
}

describe("sdk package", () => {
  const pkg = JSON.parse(readFileSync(join(sdkDir, "package.json"), "utf8")) as PackageJson;

  beforeAll(() => {
    execFileSync(process.execPath, [tsc, "-p", join(sdkDir, "tsconfig.build.json")], { cwd: sdkDir, stdio: "pipe" });
  });

  it("is ESM with typed exports for every entry point", () => {
    expect(pkg.type).toBe("module");
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") {
        expect(existsSync(join(sdkDir, target)), `${entry} -> ${target}`).toBe(true);
        continue;
      }
      expect(existsSync(join(sdkDir, target.types)), `${entry} types -> ${target.types}`).toBe(true);
      expect(existsSync(join(sdkDir, target.import)), `${entry} import -> ${target.import}`).toBe(true);
    }
  });

  it("built entry points load and export the public API", async () => {
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue;
      const mod = (await import(pathToFileURL(join(sdkDir, target.import)).href)) as Record<string, unknown>;
      expect(Object.keys(mod).length, entry).toBeGreaterThan(0);
    }
    const root = (await import(pathToFileURL(join(sdkDir, "dist", "index.js")).href)) as Record<string, unknown>;
    expect(typeof root.BaseError).toBe("function");
  });
});
