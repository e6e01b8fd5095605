/**
 * Model descriptors and model files (docs/protocol.md §3.3, §3.7), read without Node APIs so a
 * browser can register a model from a file the user picked. The descriptor is what
 * `registerModel` takes; `modelRoot = keccak256(descriptor)`. Only the framing is checked here
 * (magic, version, lengths, the file's integrity hash); the registry checks the descriptor again
 * and the keeper validates every node when it loads the file.
 */
import { type Hex, bytesToHex, hexToBytes, isHex, keccak256 } from "viem";
import { InvalidModelFileError } from "./errors/parameters.ts";

const DESCRIPTOR_MAGIC = 0x4f414f4d; // "OAOM"
/** Version 1: fixed-input models; version 2: version 1 followed by one `inputMode` byte (§3.3). */
const DESCRIPTOR_VERSIONS = [1, 2];
const FILE_MAGIC = "OAOMODEL";
const FILE_VERSION = 1;
/** Fixed part of a descriptor: magic, version, n, W, three roots, then the input header's length byte. */
const DESCRIPTOR_FIXED = 113;

/** What a descriptor commits to (as the registry's `getModelCommitment` returns it). */
export interface ModelDescriptor {
  /** keccak256 of the descriptor: the model's identity. */
  modelRoot: Hex;
  /** Number of nodes `n` (≥ 1). */
  nodeCount: number;
  /** Number of weight tensors `W`. */
  weightCount: number;
  graphRoot: Hex;
  weightsRoot: Hex;
  /** keccak256 of the model's metadata JSON (not used by committed computation). */
  metadataHash: Hex;
  /** The request input's tensor header (dtype, rank, dims; §3.2). */
  inputHeader: Hex;
  /** The output's tensor header. */
  outputHeader: Hex;
  /**
   * How the model takes its input (§3.3): `fixed`, exactly the input header's tensor; `text`, a
   * prompt of 1..C bytes (int8 [L]) where the input header is int8 [C], its output trimmed at the
   * first 0x00 on delivery. Version-1 descriptors are `fixed`.
   */
  inputMode: "fixed" | "text";
}

function asBytes(value: Uint8Array | Hex, part: "file" | "descriptor"): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (!isHex(value, { strict: true }) || value.length % 2 !== 0) {
    throw new InvalidModelFileError({ part, message: "expected bytes (a Uint8Array or an even-length 0x hex string)" });
  }
  return hexToBytes(value);
}

function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, false);
}

/** Decodes and checks the framing of a model descriptor. */
export function decodeModelDescriptor(descriptor: Uint8Array | Hex): ModelDescriptor {
  const b = asBytes(descriptor, "descriptor");
  const fail = (message: string): never => {
    throw new InvalidModelFileError({ part: "descriptor", message });
  };
  if (b.length < DESCRIPTOR_FIXED + 1) fail(`${b.length} bytes is too short (at least ${DESCRIPTOR_FIXED + 1})`);
  if (u32(b, 0) !== DESCRIPTOR_MAGIC) fail(`magic is 0x${u32(b, 0).toString(16).padStart(8, "0")}, not 0x4f414f4d ("OAOM")`);
  const version = u32(b, 4);
  if (!DESCRIPTOR_VERSIONS.includes(version)) fail(`version ${version} is not 1 or 2`);
  const nodeCount = u32(b, 8);
  if (nodeCount === 0) fail("node count is 0 (a model has at least one node)");
  const inLen = b[112]!;
  const outLenAt = DESCRIPTOR_FIXED + inLen;
  if (b.length < outLenAt + 1) fail(`truncated in the input tensor header (${inLen} bytes declared)`);
  const outLen = b[outLenAt]!;
  const expected = outLenAt + 1 + outLen + (version === 2 ? 1 : 0);
  if (b.length !== expected) fail(`${b.length} bytes, but its headers (and version ${version}) make it ${expected}`);
  const mode = version === 2 ? b[expected - 1]! : 0;
  if (mode > 1) fail(`inputMode ${mode} is not 0 (fixed) or 1 (text)`);
  return {
    modelRoot: keccak256(b),
    nodeCount,
    weightCount: u32(b, 12),
    graphRoot: bytesToHex(b.subarray(16, 48)),
    weightsRoot: bytesToHex(b.subarray(48, 80)),
    metadataHash: bytesToHex(b.subarray(80, 112)),
    inputHeader: bytesToHex(b.subarray(113, 113 + inLen)),
    outputHeader: bytesToHex(b.subarray(outLenAt + 1, outLenAt + 1 + outLen)),
    inputMode: mode === 1 ? "text" : "fixed",
  };
}

/**
 * The descriptor inside a model file (`model.oao`, §3.7: `"OAOMODEL" ‖ u32 version ‖ u32 len ‖
 * descriptor ‖ … ‖ keccak256 of all preceding bytes`), after checking the file's integrity hash and
 * the descriptor's framing.
 */
export function modelDescriptorFromFile(file: Uint8Array | Hex): Hex {
  const b = asBytes(file, "file");
  const fail = (message: string): never => {
    throw new InvalidModelFileError({ part: "file", message });
  };
  const head = FILE_MAGIC.length + 8;
  if (b.length < head + 32) fail(`${b.length} bytes is too short for a model file`);
  if (new TextDecoder().decode(b.subarray(0, FILE_MAGIC.length)) !== FILE_MAGIC) fail('it does not start with "OAOMODEL"');
  const version = u32(b, FILE_MAGIC.length);
  if (version !== FILE_VERSION) fail(`format version ${version} is not ${FILE_VERSION}`);
  const body = b.subarray(0, b.length - 32);
  if (keccak256(body) !== bytesToHex(b.subarray(b.length - 32))) fail("its integrity hash (the last 32 bytes) does not match its contents");
  const len = u32(b, FILE_MAGIC.length + 4);
  if (head + len > body.length) fail(`descriptor length ${len} runs past the end of the file`);
  const descriptor = bytesToHex(b.subarray(head, head + len));
  decodeModelDescriptor(descriptor);
  return descriptor;
}
