/**
 * keeper/graph: the deterministic ML core (docs/protocol.md §3). Pure: no I/O, no clock, no floats
 * in committed computation. (train/ holds the float training and quantization tools; it reads the
 * MNIST digits and is not part of the core.)
 */
export { keccak, keccakStream, hashPair, toHex, fromHex, equalBytes, concatBytes, type Bytes32 } from "./hash.ts";
export { GraphError, ModelFormatError, InputError } from "./errors.ts";
export { depthFor, merkleRoot, merkleLevels, merkleProof, rootFromProof, zeroHash } from "./merkle.ts";
export {
  DType,
  CHUNK_BYTES,
  type Tensor,
  type Int8Tensor,
  type Int32Tensor,
  int8Tensor,
  int32Tensor,
  encodeHeader,
  decodeHeader,
  encodeTensor,
  tensorBytes,
  decodeTensor,
  chunkRoot,
  tensorHash,
  tensorHashOfBytes,
  tensorPreimages,
  elementCount,
  dtypeName,
} from "./tensor.ts";
export { Op, OP_NAMES, OP_ATTRS, SlotKind, slotRef, inputSlot, weightSlot, nodeSlot, decodeSlot, slotName, encodeNodeDesc, decodeNodeDesc, type NodeDesc } from "./ops.ts";
export {
  buildModel,
  validateModel,
  encodeModelFile,
  modelFileBody,
  modelFileHash,
  nodeInputs,
  decodeModelFile,
  MAX_INPUT_BYTES,
  maxInputBytes,
  encodeDescriptor,
  decodeDescriptor,
  canonicalJson,
  MODEL_MAGIC,
  MODEL_VERSION,
  MODEL_VERSION_INPUT_MODE,
  InputMode,
  isTextModel,
  requestInputSpec,
  checkModelInput,
  TOKEN_WINDOW_OP,
  type Model,
  type ModelSpec,
  type ModelMetadata,
  type QuantParams,
  type Descriptor,
} from "./model.ts";
export { stateHash, initialState, NodesTree, buildTrace, traceProof, claimProof, verifyClaim, type Trace, type ClaimProof } from "./state.ts";
export { KernelRuntime, KERNEL_ERRORS, ResidentInt8Tensor, type KernelRuntimeOptions, type MemTensor, type TensorSpec } from "./kernels.ts";
export { KERNEL_PATHS, kernelPathLabel, kernelPathUnavailable, kernelSelection, kernelsLogLine, parseKernelPath, simdSupported, type KernelPath, type KernelSelection } from "./wasm.ts";
export { configureNativeKernels, nativeKernels, NATIVE_ISAS, type NativeIsa, type NativeStatus } from "./native.ts";
export { Executor, type RunResult } from "./executor.ts";
export { quantizeInput, dequantize } from "./quant.ts";
export { buildGpt, gptParamCount, geluTable, GPT2_SMALL, GPT_TINY, type GptConfig } from "./gpt/gpt.ts";
