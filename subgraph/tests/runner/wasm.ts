/**
 * The few WebAssembly JS API types the runner uses (the project's `lib` has no DOM types, and
 * @types/node does not declare the WebAssembly namespace).
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export interface WasmTable {
  get(index: number): unknown;
}

export interface ImportDescriptor {
  module: string;
  name: string;
  kind: string;
}

export type Imports = Record<string, Record<string, unknown>>;

interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: Imports): Promise<{ exports: Record<string, unknown> }>;
  Module: { imports(module: object): ImportDescriptor[] };
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
