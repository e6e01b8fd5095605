/**
 * Instantiates the kernels' wasm module (kernels-wasm.ts, built from keeper/guest/kernels/*.c by
 * build-wasm.sh). Two builds of the same C, bit-exact with each other and with the guest:
 * - "simd": wasm SIMD128, the hot kernels (Gemm, MatMul, Conv2D) in oao_kernels_simd.h;
 * - "scalar": plain wasm32, the fallback for an engine without SIMD128.
 * Which one runs is decided once per process: `OAO_KERNELS=scalar|simd|auto` (default auto:
 * simd when the engine validates a tiny SIMD module), or per runtime with an explicit path.
 * The project's TS lib has no DOM/WebAssembly types: the few used are declared here.
 */
import { KERNELS_SCALAR_WASM_BASE64, KERNELS_SIMD_WASM_BASE64 } from "./kernels-wasm.ts";
import { GraphError } from "./errors.ts";

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

/** The two builds of the kernels. */
export type KernelPath = "scalar" | "simd";
export const KERNEL_PATHS: readonly KernelPath[] = ["scalar", "simd"];

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

/** Which build runs by default in this process, and why (for a start-up log line). */
export interface KernelSelection {
  path: KernelPath;
  reason: string;
}

let selection: KernelSelection | undefined;

/** Parses a requested path: "scalar", "simd", or "auto"/"" (undefined = choose). */
export function parseKernelPath(value: string | undefined, source = "OAO_KERNELS"): KernelPath | undefined {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "auto") return undefined;
  if (v === "scalar" || v === "simd") return v;
  throw new GraphError(`${source}=${value}: expected scalar, simd or auto`);
}

/** Checks a requested path can run here (simd needs SIMD128). */
export function checkKernelPath(path: KernelPath, source: string): KernelPath {
  if (path === "simd" && !simdSupported()) throw new GraphError(`${source} asks for the simd kernels but this engine does not support wasm SIMD128`);
  return path;
}

/** The default path of this process: OAO_KERNELS if set, else simd where supported, else scalar. */
export function kernelSelection(): KernelSelection {
  if (!selection) {
    const env = typeof process === "undefined" ? undefined : process.env.OAO_KERNELS;
    const forced = parseKernelPath(env);
    selection = forced
      ? { path: checkKernelPath(forced, `OAO_KERNELS=${env}`), reason: `forced by OAO_KERNELS=${env}` }
      : simdSupported()
        ? { path: "simd", reason: "wasm SIMD128 supported" }
        : { path: "scalar", reason: "wasm SIMD128 not supported by this engine" };
  }
  return selection;
}

/** A one-line description of the default kernels, e.g. for a start-up log. */
export function kernelsLogLine(): string {
  const s = kernelSelection();
  return `graph kernels: wasm ${s.path} (${s.reason})`;
}

const modules = new Map<KernelPath, object>();

/** A fresh instance (own linear memory) of the given build (default: the process's selection). */
export function instantiateKernels(path: KernelPath = kernelSelection().path): KernelExports {
  let mod = modules.get(path);
  if (!mod) {
    if (path === "simd") checkKernelPath(path, "instantiateKernels");
    mod = new WA.Module(Buffer.from(path === "simd" ? KERNELS_SIMD_WASM_BASE64 : KERNELS_SCALAR_WASM_BASE64, "base64"));
    modules.set(path, mod);
  }
  return new WA.Instance(mod, {}).exports as unknown as KernelExports;
}
