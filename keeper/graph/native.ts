/**
 * The native kernels (keeper/native/: a Node-API addon compiling the same oao_kernels.c for the host,
 * with an AVX-512 VNNI / AVX2 int8 GEMM over threads), presented as the wasm instance's interface
 * (`KernelExports`: a linear memory and the exports, taking offsets), so KernelRuntime and the hasher
 * run on either without knowing which. Bit-exact with the wasm builds and the guest.
 *
 * The addon is built at `npm install` when a C toolchain is there (keeper/native/build.mjs, never
 * failing the install) or by `npm run build:native`; it is optional: `nativeKernels()` says why it
 * is not loaded. `OAO_KERNEL_THREADS` (1..16, default 2 where the machine has 2 cores) sets the
 * threads of large GEMMs.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GraphError } from "./errors.ts";
import type { KernelExports, WasmMemory } from "./wasm.ts";

/** The instruction sets of the native GEMM, fastest first ("c": the kernels' scalar gemm). */
export type NativeIsa = "avx512-vnni" | "avx2" | "c";
export const NATIVE_ISAS: readonly NativeIsa[] = ["avx512-vnni", "avx2", "c"];

interface NativeAddon {
  memoryCreate(bytes: number): object;
  memoryBuffer(handle: object): ArrayBuffer;
  memoryGrow(handle: object, pages: number, old: ArrayBuffer): number;
  nodeValidate(h: object, desc: number, len: number, inputs: number, nIn: number, out: number): number;
  nodeRun(h: object, desc: number, len: number, inputs: number, nIn: number, out: number): number;
  rq(v: number, m: number, s: number): number;
  keccak256(h: object, data: number, len: number, out: number): void;
  keccakStreamBegin(): void;
  keccakStreamUpdate(h: object, data: number, blocks: number): void;
  keccakStreamEnd(h: object, data: number, len: number, out: number): void;
  info(): { isa: NativeIsa; best: NativeIsa; threads: number; heapBase: number };
  setIsa(isa: NativeIsa): void;
  setThreads(n: number): void;
  requantCheck(n: number, seed: number): number;
}

/** Where the build puts the addon. */
export const NATIVE_ADDON_FILE = fileURLToPath(new URL("../native/build/Release/oao_native.node", import.meta.url));
/** How to build it (for messages). */
export const NATIVE_BUILD_HINT = "build it with `npm run build:native` (needs a C compiler, make and python3; see keeper/native/README.md)";

/** The addon's state in this process. */
export type NativeStatus =
  | { loaded: true; isa: NativeIsa; best: NativeIsa; threads: number }
  | { loaded: false; reason: string };

let addon: NativeAddon | undefined;
let loadError: string | undefined;

/** Parses OAO_KERNEL_THREADS (undefined: the addon's default). */
export function parseKernelThreads(value: string | undefined, source = "OAO_KERNEL_THREADS"): number | undefined {
  const v = (value ?? "").trim();
  if (v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new GraphError(`${source}=${value}: expected a whole number of threads in 1..16`);
  return n;
}

function load(): NativeAddon | undefined {
  if (addon || loadError !== undefined) return addon;
  const threads = parseKernelThreads(typeof process === "undefined" ? undefined : process.env.OAO_KERNEL_THREADS);
  if (!existsSync(NATIVE_ADDON_FILE)) {
    loadError = `the native addon is not built (${NATIVE_ADDON_FILE} is missing): ${NATIVE_BUILD_HINT}`;
    return undefined;
  }
  let loaded: NativeAddon;
  try {
    loaded = createRequire(import.meta.url)(NATIVE_ADDON_FILE) as NativeAddon;
  } catch (cause) {
    loadError = `the native addon does not load (${(cause as Error).message.split("\n")[0]}): rebuild it with \`npm run build:native\``;
    return undefined;
  }
  try {
    loaded.memoryCreate(65536); // its memory must map below 4 GiB (not on every OS): find out now, not in a runtime
  } catch (cause) {
    loadError = `the native addon loads but cannot map its memory (${(cause as Error).message})`;
    return undefined;
  }
  addon = loaded;
  if (threads !== undefined) addon.setThreads(threads);
  return addon;
}

/** Whether the native kernels are loaded here, with their instruction set and threads, or why not. */
export function nativeKernels(): NativeStatus {
  const a = load();
  if (!a) return { loaded: false, reason: loadError! };
  const { isa, best, threads } = a.info();
  return { loaded: true, isa, best, threads };
}

function required(source: string): NativeAddon {
  const a = load();
  if (!a) throw new GraphError(`${source} asks for the native kernels but ${loadError}`);
  return a;
}

/**
 * Sets the native GEMM's instruction set and threads for the whole process (tests and benchmarks
 * compare them; each gives the same bytes). Returns the previous settings.
 */
export function configureNativeKernels(settings: { isa?: NativeIsa; threads?: number }): { isa: NativeIsa; threads: number } {
  const a = required("configureNativeKernels");
  const before = a.info();
  if (settings.isa !== undefined) a.setIsa(settings.isa);
  if (settings.threads !== undefined) a.setThreads(settings.threads);
  return { isa: before.isa, threads: before.threads };
}

/**
 * Compares the AVX-512 GEMM's vector requantization with oao_rq's on `n` × 16 pseudo-random and edge
 * values: the number of mismatches, or -1 where that path does not run (no AVX-512 VNNI).
 */
export function nativeRequantCheck(n: number, seed: number): number {
  return required("nativeRequantCheck").requantCheck(n, seed);
}

/** The native memory as a WasmMemory: `buffer` is replaced (the old one detached) when it grows. */
class NativeMemory implements WasmMemory {
  private current: ArrayBuffer;
  constructor(
    private readonly a: NativeAddon,
    readonly handle: object,
  ) {
    this.current = a.memoryBuffer(handle);
  }
  get buffer(): ArrayBuffer {
    return this.current;
  }
  grow(pages: number): number {
    const before = this.a.memoryGrow(this.handle, pages, this.current);
    if (before >= 0 && pages > 0) this.current = this.a.memoryBuffer(this.handle);
    return before;
  }
}

/** A fresh native instance (own memory, 128 KiB to start as the wasm one) with the wasm exports' interface. */
export function instantiateNativeKernels(source = "instantiateKernels"): KernelExports {
  const a = required(source);
  const h = a.memoryCreate(2 * 65536);
  return {
    memory: new NativeMemory(a, h),
    __heap_base: { value: a.info().heapBase },
    oao_node_run: (d, l, i, n, o) => a.nodeRun(h, d, l, i, n, o),
    oao_node_validate: (d, l, i, n, o) => a.nodeValidate(h, d, l, i, n, o),
    oao_rq: (v, m, s) => a.rq(v, m, s),
    oao_keccak256: (d, l, o) => a.keccak256(h, d, l, o),
    oao_keccak_stream_begin: () => a.keccakStreamBegin(),
    oao_keccak_stream_update: (d, b) => a.keccakStreamUpdate(h, d, b),
    oao_keccak_stream_end: (d, l, o) => a.keccakStreamEnd(h, d, l, o),
  };
}
