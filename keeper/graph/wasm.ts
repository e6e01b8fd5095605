/**
 * Instantiates the kernels' wasm module (kernels-wasm.ts, built from keeper/guest/kernels/*.c).
 * The project's TS lib has no DOM/WebAssembly types: the few used are declared here.
 */
import { KERNELS_WASM_BASE64 } from "./kernels-wasm.ts";

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
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let wasmModule: object | undefined;

/** A fresh instance (own linear memory). */
export function instantiateKernels(): KernelExports {
  wasmModule ??= new WA.Module(Buffer.from(KERNELS_WASM_BASE64, "base64"));
  return new WA.Instance(wasmModule, {}).exports as unknown as KernelExports;
}
