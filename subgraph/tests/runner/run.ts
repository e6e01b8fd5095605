/**
 * Compiles matchstick-style test files with graph-cli's own AssemblyScript compiler (the one
 * `graph build` uses, with the same flags plus `--exportTable` for the test callbacks) and runs
 * them in Node against the host functions of host.ts.
 *
 * Semantics follow matchstick: `test` and `describe` register during `_start`; a describe's body
 * runs at registration; `beforeAll`/`afterAll` run once around the tests of their scope,
 * `beforeEach`/`afterEach` around each test of their scope and nested scopes; the store is not
 * cleared between tests unless a test or hook calls `clearStore()`; a test registered with
 * `shouldFail = true` passes only if it fails.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AbortError, createImports, newScope, type HostState, type Scope } from "./host.ts";
import { AsMemory, type AsExports } from "./memory.ts";
import { loadSchema } from "./schema.ts";
import { EntityStore } from "./store.ts";
import { wasm } from "./wasm.ts";

const here = dirname(fileURLToPath(import.meta.url));
export const subgraphDir = resolve(here, "..", "..");
const repoRoot = resolve(subgraphDir, "..");
const require = createRequire(import.meta.url);

/** graph-cli's pinned AssemblyScript (0.19.x), not the top-level one. */
function graphCliAsc(): string {
  const candidates = [
    join(repoRoot, "node_modules", "@graphprotocol", "graph-cli", "node_modules", "assemblyscript"),
    join(repoRoot, "node_modules", "assemblyscript"),
  ];
  for (const dir of candidates) {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string };
    if (pkg.version.startsWith("0.19.")) return join(dir, "bin", "asc");
  }
  throw new Error("graph-cli's AssemblyScript 0.19 compiler not found in node_modules");
}

export interface TestResult {
  name: string;
  passed: boolean;
  shouldFail: boolean;
  error?: string;
  logs: string[];
}

export interface FileResult {
  file: string;
  results: TestResult[];
  /** Errors outside any test (a failing hook or registration). */
  errors: string[];
}

export function compileTest(file: string, outDir = join(subgraphDir, "build", "tests")): string {
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, basename(file).replace(/\.ts$/, ".wasm"));
  const globalFile = require.resolve("@graphprotocol/graph-ts/global/global.ts");
  execFileSync(
    process.execPath,
    [
      graphCliAsc(),
      "--explicitStart",
      "--exportRuntime",
      "--exportTable",
      "--runtime",
      "stub",
      relative(subgraphDir, file),
      relative(subgraphDir, globalFile),
      "--baseDir",
      subgraphDir,
      "--lib",
      join(repoRoot, "node_modules"),
      "--outFile",
      out,
      "--debug",
    ],
    { cwd: subgraphDir, stdio: ["ignore", "pipe", "pipe"] },
  );
  return out;
}

export interface RunOptions {
  schema?: string;
}

export async function runWasm(wasmFile: string, options: RunOptions = {}): Promise<FileResult> {
  const module = await wasm.compile(readFileSync(wasmFile));
  const schema = loadSchema(options.schema ?? join(subgraphDir, "schema.graphql"));
  const fileScope = newScope("");
  let exports: AsExports | null = null;
  const state: HostState = {
    mem: null,
    store: new EntityStore(schema),
    scopes: [fileScope],
    logs: [],
    failures: [],
    dataSource: { address: "0x0000000000000000000000000000000000000000", network: "mainnet" },
    createdDataSources: new Map(),
    callTable(index: number) {
      const fn = exports?.table?.get(index) as (() => void) | null | undefined;
      if (!fn) throw new Error(`no function at table index ${index}`);
      fn();
    },
  };
  const instance = await wasm.instantiate(module, createImports(state, wasm.Module.imports(module)));
  exports = instance.exports as unknown as AsExports;
  if (!exports.table) throw new Error(`${wasmFile}: compiled without --exportTable`);
  state.mem = new AsMemory(exports);

  const result: FileResult = { file: wasmFile, results: [], errors: [] };
  try {
    exports._start?.();
  } catch (e) {
    result.errors.push(`registration failed: ${message(e, state)}`);
    return result;
  }

  const call = (fn: number): string | null => {
    state.failures = [];
    try {
      state.callTable(fn);
      return null;
    } catch (e) {
      return message(e, state);
    }
  };

  const runScope = (scope: Scope, outer: { before: number[]; after: number[] }, prefix: string): void => {
    const before = [...outer.before, ...scope.hooks.beforeEach];
    const after = [...scope.hooks.afterEach, ...outer.after];
    for (const hook of scope.hooks.beforeAll) {
      const err = call(hook);
      if (err) result.errors.push(`${prefix}beforeAll: ${err}`);
    }
    for (const test of scope.tests) {
      state.logs = [];
      let error: string | null = null;
      for (const hook of before) error ??= call(hook);
      error ??= call(test.fn);
      for (const hook of after) {
        const err = call(hook);
        if (err) result.errors.push(`${prefix}${test.name} afterEach: ${err}`);
      }
      const failed = error !== null;
      result.results.push({
        name: prefix + test.name,
        passed: failed === test.shouldFail,
        shouldFail: test.shouldFail,
        ...(error !== null ? { error } : {}),
        logs: state.logs,
      });
    }
    for (const child of scope.children) runScope(child, { before, after }, `${prefix}${child.name} > `);
    for (const hook of scope.hooks.afterAll) {
      const err = call(hook);
      if (err) result.errors.push(`${prefix}afterAll: ${err}`);
    }
  };
  runScope(fileScope, { before: [], after: [] }, "");
  return result;
}

function message(e: unknown, state: HostState): string {
  const base = e instanceof AbortError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return state.failures.length > 0 ? `${state.failures.join("; ")} (${base})` : base;
}

export async function runTestFile(file: string, options: RunOptions = {}): Promise<FileResult> {
  const result = await runWasm(compileTest(file), options);
  return { ...result, file };
}

export function countTests(r: FileResult): number {
  return r.results.length;
}

export function succeeded(r: FileResult): boolean {
  return r.errors.length === 0 && r.results.length > 0 && r.results.every((t) => t.passed);
}
