/**
 * The SDK must run in browsers: no `node:*` or Node builtin imports, nothing from hardhat or the
 * keeper, only the listed runtime dependencies, and no reach outside sdk/src.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const sdkSrc = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src");
const allowedPackages = ["viem", "graphql", "graphql-request", "@graphql-typed-document-node/core", "abitype"];

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (entry.endsWith(".ts") && !entry.endsWith(".test.ts")) yield path;
  }
}

/** Every module specifier of static imports/exports, dynamic `import()` and `require()`. */
export function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\}|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)\s*from\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

function violation(file: string, spec: string): string | null {
  const builtins = new Set(builtinModules);
  if (spec.startsWith("node:") || builtins.has(spec) || builtins.has(spec.split("/")[0]!)) {
    return "imports a Node builtin";
  }
  if (spec.startsWith(".")) {
    const target = resolve(dirname(file), spec);
    if (relative(sdkSrc, target).startsWith("..")) return "reaches outside sdk/src";
    if (/keeper|hardhat/.test(spec)) return "imports keeper or hardhat";
    return null;
  }
  const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
  if (!allowedPackages.includes(pkg)) return `imports ${pkg}, which is not an allowed browser dependency`;
  return null;
}

describe("sdk browser safety", () => {
  it("finds import specifiers of every form", () => {
    const src = `import { a } from "node:fs";\nimport type {\n  B,\n  C,\n} from "viem";\nexport const abi = [{"name":"from","type":"address"}];\nexport * from './x.ts';\nimport "hardhat";\nconst m = await import("keeper/src/x.js");\nrequire('path');`;
    expect(specifiers(src).sort()).toEqual(["./x.ts", "hardhat", "keeper/src/x.js", "node:fs", "path", "viem"]);
    expect(violation(join(sdkSrc, "a.ts"), "node:fs")).toMatch(/builtin/);
    expect(violation(join(sdkSrc, "a.ts"), "fs")).toMatch(/builtin/);
    expect(violation(join(sdkSrc, "a.ts"), "hardhat")).toMatch(/not an allowed/);
    expect(violation(join(sdkSrc, "a.ts"), "../../keeper/src/chain/watcher.ts")).toMatch(/outside/);
    expect(violation(join(sdkSrc, "a.ts"), "viem/chains")).toBeNull();
  });

  it("no sdk source file imports node:*, hardhat, keeper or an unlisted package", () => {
    const files = [...sourceFiles(sdkSrc)];
    expect(files.length).toBeGreaterThan(5);
    const problems: string[] = [];
    for (const file of files) {
      const source = readFileSync(file, "utf8");
      for (const spec of specifiers(source)) {
        const why = violation(file, spec);
        if (why) problems.push(`${relative(sdkSrc, file)}: "${spec}" ${why}`);
      }
      if (/\b(?:process\.|Buffer\.|__dirname|__filename)/.test(source)) {
        problems.push(`${relative(sdkSrc, file)}: uses a Node global (process, Buffer, __dirname)`);
      }
    }
    expect(problems).toEqual([]);
  });
});
