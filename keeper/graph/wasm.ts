/**
 * Instantiates the kernels (keeper/guest/kernels/*.c): three builds of the same C, bit-exact with each
 * other and with the guest:
 * - "native": the Node-API addon (keeper/native/, native.ts), the C compiled for the host, Gemm and
 *   MatMul on an AVX-512 VNNI or AVX2 int8 GEMM over threads; present when built (at npm install);
 * - "simd": wasm SIMD128 (kernels-wasm.ts, built by build-wasm.sh), the hot kernels (Gemm, MatMul,
 *   Conv2D) in oao_kernels_simd.h;
 * - "scalar": plain wasm32, the fallback for an engine without SIMD128.
 * Which one runs is decided once per process: `OAO_KERNELS=native|simd|scalar|auto` (default auto:
 * native when the addon loads, else simd when the engine validates a tiny SIMD module, else scalar),
 * or per runtime with an explicit path. Each build's instance has the same interface (KernelExports).
 * The project's TS lib has no DOM/WebAssembly types: the few used are declared here.
 */
import { KERNELS_SCALAR_WASM_BASE64, KERNELS_SIMD_WASM_BASE64 } from "./kernels-wasm.ts";
import { GraphError } from "./errors.ts";
import { instantiateNativeKernels, nativeKernels } from "./native.ts";

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

export interface KernelExports {
  memory: WasmMemory;
  __heap_base: { value: number };
  oao_node_run(desc: number, len: number, inputs: number, nIn: number, out: number): number;
  oao_node_validate(desc: number, len: number, inputs: number, nIn: number, out: number): number;
  oao_rq(v: number, m: number, s: number): number;
  oao_keccak256(data: number, len: number, out: number): void;
  oao_keccak_stream_begin(): void;
  oao_keccak_stream_update(data: number, blocks: number): void;
  oao_keccak_stream_end(data: number, len: number, out: number): void;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  validate(bytes: Uint8Array): boolean;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The builds of the kernels. */
export type KernelPath = "scalar" | "simd" | "native";
export const KERNEL_PATHS: readonly KernelPath[] = ["scalar", "simd", "native"];

/**
 * A minimal module using SIMD128 and the instruction the Gemm kernel is built on:
 * (func (result v128) (i32x4.dot_i16x8_s (v128.const i32x4 0 0 0 0) (v128.const i32x4 0 0 0 0))).
 */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x2b, 0x01, 0x29, 0x00, // code section: one body of 41 bytes, no locals
  0xfd, 0x0c, ...new Array<number>(16).fill(0), // v128.const 0
  0xfd, 0x0c, ...new Array<number>(16).fill(0), // v128.const 0
  0xfd, 0xba, 0x01, // i32x4.dot_i16x8_s
  0x0b, // end
]);

let simdSupport: boolean | undefined;

/** True if this engine validates wasm SIMD128 (with i32x4.dot_i16x8_s). */
export function simdSupported(): boolean {
  simdSupport ??= (() => {
    try {
      return WA.validate(SIMD_PROBE);
    } catch {
      return false;
    }
  })();
  return simdSupport;
}

/** Why a build cannot run in this process, or undefined when it can. */
export function kernelPathUnavailable(path: KernelPath): string | undefined {
  if (path === "simd" && !simdSupported()) return "this engine does not support wasm SIMD128";
  if (path === "native") {
    const n = nativeKernels();
    if (!n.loaded) return n.reason;
  }
  return undefined;
}

/** Which build runs by default in this process, and why (for a start-up log line). */
export interface KernelSelection {
  path: KernelPath;
  reason: string;
}

let selection: KernelSelection | undefined;

/** Parses a requested path: "native", "simd", "scalar", or "auto"/"" (undefined = choose). */
export function parseKernelPath(value: string | undefined, source = "OAO_KERNELS"): KernelPath | undefined {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "auto") return undefined;
  if (v === "scalar" || v === "simd" || v === "native") return v;
  throw new GraphError(`${source}=${value}: expected native, simd, scalar or auto`);
}

/** Checks a requested path can run here (simd needs SIMD128, native the built addon). */
export function checkKernelPath(path: KernelPath, source: string): KernelPath {
  if (path === "simd" && !simdSupported()) throw new GraphError(`${source} asks for the simd kernels but this engine does not support wasm SIMD128`);
  if (path === "native") {
    const n = nativeKernels();
    if (!n.loaded) throw new GraphError(`${source} asks for the native kernels but ${n.reason}`);
  }
  return path;
}

/** The default path of this process: OAO_KERNELS if set, else native when the addon loads, else simd where supported, else scalar. */
export function kernelSelection(): KernelSelection {
  if (!selection) {
    const env = typeof process === "undefined" ? undefined : process.env.OAO_KERNELS;
    const forced = parseKernelPath(env);
    const native = nativeKernels();
    selection = forced
      ? { path: checkKernelPath(forced, `OAO_KERNELS=${env}`), reason: `forced by OAO_KERNELS=${env}` }
      : native.loaded
        ? { path: "native", reason: "addon built at install" }
        : simdSupported()
          ? { path: "simd", reason: `wasm SIMD128 supported; no native kernels: ${native.reason}` }
          : { path: "scalar", reason: `wasm SIMD128 not supported by this engine; no native kernels: ${native.reason}` };
  }
  return selection;
}

/** What a path is, for logs: "native avx512-vnni, 2 threads" or "wasm simd". */
export function kernelPathLabel(path: KernelPath): string {
  if (path !== "native") return `wasm ${path}`;
  const n = nativeKernels();
  return n.loaded ? `native ${n.isa}, ${n.threads} thread${n.threads === 1 ? "" : "s"}` : "native (not loaded)";
}

/** A one-line description of the default kernels, e.g. for a start-up log. */
export function kernelsLogLine(): string {
  const s = kernelSelection();
  return `graph kernels: ${kernelPathLabel(s.path)} (${s.reason})`;
}

const modules = new Map<KernelPath, object>();

/** A fresh instance (own linear memory) of the given build (default: the process's selection). */
export function instantiateKernels(path: KernelPath = kernelSelection().path): KernelExports {
  if (path === "native") return instantiateNativeKernels();
  let mod = modules.get(path);
  if (!mod) {
    if (path === "simd") checkKernelPath(path, "instantiateKernels");
    mod = new WA.Module(Buffer.from(path === "simd" ? KERNELS_SIMD_WASM_BASE64 : KERNELS_SCALAR_WASM_BASE64, "base64"));
    modules.set(path, mod);
  }
  return new WA.Instance(mod, {}).exports as unknown as KernelExports;
}
