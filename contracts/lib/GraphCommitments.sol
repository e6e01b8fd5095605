// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/**
 * @title GraphCommitments
 * @notice The on-chain checks of docs/protocol.md §3: tensor hashes, the model descriptor, graph
 * states and claims. Mirrors keeper/graph (tensor.ts, merkle.ts, model.ts, state.ts) one for one;
 * a differential test (keeper/graph/solidity.test.ts) keeps them equal.
 *
 * Trees (§3.1): fixed depth `depthFor(count) = ceil(log2(max(count, 1)))`, leaves used as is,
 * inner node = keccak256(left ‖ right), proofs are siblings bottom-up.
 * State (§3.4): keccak256(inputHash ‖ weightsRoot ‖ nodesRoot); State_0 has nodesRoot = zero[depthFor(n)].
 * Trace (§3.5): depth depthFor(n + 1) over [State_0 … State_n], padded with State_n.
 */
library GraphCommitments {
    /// @dev Chunk size of the tensor hash (§3.2).
    uint256 internal constant CHUNK_BYTES = 4096;
    /// @dev Largest request input of a fixed-input model: 8 chunks (docs/protocol.md §1.3, §3.4). A text model's
    /// context stays within one chunk (CHUNK_BYTES).
    uint256 internal constant MAX_INPUT_BYTES = 8 * CHUNK_BYTES;
    uint256 internal constant MAX_RANK = 6;
    uint256 internal constant MAX_DIM = 1 << 24;
    uint256 internal constant MAX_TENSOR_BYTES = 1 << 31;
    uint32 internal constant MODEL_MAGIC = 0x4F414F4D; // "OAOM"
    uint32 internal constant MODEL_VERSION = 1;
    /// @dev Version 2 = version 1's layout followed by one `inputMode` byte (§3.3).
    uint32 internal constant MODEL_VERSION_INPUT_MODE = 2;
    /// @dev inputMode 0: the request input is exactly the input header's tensor (every version-1 model).
    uint8 internal constant INPUT_MODE_FIXED = 0;
    /// @dev inputMode 1: a text model; the input header is int8 [C] and a request's input is int8 [L], 1 <= L <= C.
    uint8 internal constant INPUT_MODE_TEXT = 1;
    uint8 internal constant DTYPE_INT8 = 1;
    uint8 internal constant DTYPE_INT32 = 2;

    /// @notice A tensor header that is not `dtype u8 ‖ rank u8 ‖ dims u32[rank]` with valid values.
    error InvalidTensorHeader(bytes header);
    /// @notice Tensor bytes whose length does not match the header's dtype and shape.
    error TensorLengthMismatch(uint256 expected, uint256 actual);
    /// @notice A Merkle proof of the wrong length for its tree.
    error InvalidProofLength(uint256 expected, uint256 actual);
    /// @notice A leaf index outside a tree of the given depth.
    error LeafIndexOutOfRange(uint256 index, uint256 depth);
    /// @notice A model descriptor that is malformed (§3.3).
    error InvalidModelDescriptor(uint256 length);
    /// @notice A model with no nodes.
    error InvalidNodeCount(uint256 nodeCount);
    /// @notice A version-2 descriptor whose trailing inputMode byte is neither 0 (fixed) nor 1 (text).
    error InvalidInputMode(uint256 inputMode);
    /// @notice Leaf 0 of the claim's traceRoot is not State_0 of the request (§3.5 check 1).
    error InitialStateMismatch(bytes32 traceRoot, bytes32 initialState);
    /// @notice The output is not leaf n-1 of the claimed final nodesRoot (§3.5 check 2).
    error OutputNotInFinalState(bytes32 outputHash, bytes32 finalNodesRoot);
    /// @notice Leaf n of the claim's traceRoot is not the claimed State_n (§3.5 check 2).
    error FinalStateMismatch(bytes32 traceRoot, bytes32 finalState);

    /// @notice The values a registry keeps from a model descriptor (§3.3).
    struct ModelCommitment {
        bytes32 modelRoot;
        uint32 nodeCount;
        uint32 weightCount;
        /// @dev INPUT_MODE_FIXED or INPUT_MODE_TEXT (fixed for a version-1 descriptor); stored with the counts.
        uint8 inputMode;
        bytes32 graphRoot;
        bytes32 weightsRoot;
        bytes32 metadataHash;
        bytes inputHeader;
        bytes outputHeader;
    }

    /// @notice The part of a model's commitment the §3.5 checks of a claim read (IModelRegistry.getClaimModel):
    /// `inputHeader` is empty for a text model, whose input header comes from the request (§3.4).
    struct ClaimModel {
        uint32 nodeCount;
        uint8 inputMode;
        bytes32 weightsRoot;
        bytes inputHeader;
        bytes outputHeader;
    }

    /// @notice What a claim poster supplies for the §3.5 checks.
    struct ClaimProof {
        bytes32 traceRoot;
        bytes32[] leaf0Proof;
        bytes32 finalNodesRoot;
        bytes32[] outputProof;
        bytes32[] leafNProof;
    }

    // ---------------------------------------------------------------- trees (§3.1)

    function depthFor(uint256 count) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < count) d++;
    }

    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            mstore(0x20, b)
            h := keccak256(0x00, 0x40)
        }
    }

    /// @notice Root of an all-zero subtree of the given height.
    function zeroHash(uint256 height) internal pure returns (bytes32 z) {
        for (uint256 h = 0; h < height; h++) z = hashPair(z, z);
    }

    /// @notice The root that `leaf` at `index` opens to with `proof` (siblings bottom-up).
    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] calldata proof) internal pure returns (bytes32 node) {
        if (proof.length < 256 && index >> proof.length != 0) revert LeafIndexOutOfRange(index, proof.length);
        node = leaf;
        for (uint256 h = 0; h < proof.length; h++) {
            node = (index >> h) & 1 == 0 ? hashPair(node, proof[h]) : hashPair(proof[h], node);
        }
    }

    // ---------------------------------------------------------------- tensors (§3.2)

    /// @notice Byte length of the tensor a header describes; reverts on an invalid header.
    function tensorByteLength(bytes memory header) internal pure returns (uint256 length) {
        if (header.length < 2) revert InvalidTensorHeader(header);
        uint256 dtype = uint8(header[0]);
        uint256 rank = uint8(header[1]);
        if ((dtype != DTYPE_INT8 && dtype != DTYPE_INT32) || rank == 0 || rank > MAX_RANK || header.length != 2 + 4 * rank) {
            revert InvalidTensorHeader(header);
        }
        length = dtype == DTYPE_INT8 ? 1 : 4;
        for (uint256 i = 0; i < rank; i++) {
            uint256 dim = (uint256(uint8(header[2 + 4 * i])) << 24) | (uint256(uint8(header[3 + 4 * i])) << 16)
                | (uint256(uint8(header[4 + 4 * i])) << 8) | uint256(uint8(header[5 + 4 * i]));
            if (dim == 0 || dim > MAX_DIM) revert InvalidTensorHeader(header);
            length *= dim; // at most 4 · (2^24)^6 < 2^256: no overflow
        }
        if (length > MAX_TENSOR_BYTES) revert InvalidTensorHeader(header);
    }

    /// @notice Root of the chunk tree over `data` (4096-byte chunks, last one short, zero padding): keccak256(data)
    /// for 1..4096 bytes, bytes32(0) for none.
    function chunkRoot(bytes memory data) internal pure returns (bytes32) {
        if (data.length == 0) return bytes32(0);
        if (data.length <= CHUNK_BYTES) return keccak256(data); // one chunk: the root is its leaf
        uint256 chunks = (data.length + CHUNK_BYTES - 1) / CHUNK_BYTES;
        bytes32[] memory level = new bytes32[](chunks);
        for (uint256 j = 0; j < chunks; j++) {
            uint256 start = j * CHUNK_BYTES;
            uint256 len = data.length - start < CHUNK_BYTES ? data.length - start : CHUNK_BYTES;
            bytes32 leaf;
            assembly ("memory-safe") {
                leaf := keccak256(add(add(data, 0x20), start), len)
            }
            level[j] = leaf;
        }
        uint256 width = chunks;
        bytes32 pad; // zero[h] at height h
        uint256 depth = depthFor(chunks);
        for (uint256 h = 0; h < depth; h++) {
            uint256 next = (width + 1) / 2;
            for (uint256 i = 0; i < next; i++) {
                bytes32 right = 2 * i + 1 < width ? level[2 * i + 1] : pad;
                level[i] = hashPair(level[2 * i], right);
            }
            width = next;
            pad = hashPair(pad, pad);
        }
        return level[0];
    }

    /// @notice tensorHash = keccak256(header ‖ chunkRoot(data)), after checking data fits the header.
    function tensorHash(bytes memory header, bytes memory data) internal pure returns (bytes32) {
        uint256 expected = tensorByteLength(header);
        if (data.length != expected) revert TensorLengthMismatch(expected, data.length);
        return keccak256(abi.encodePacked(header, chunkRoot(data)));
    }

    // ---------------------------------------------------------------- models (§3.3)

    /// @notice Decodes and checks a model descriptor (version 1, or 2 with its trailing inputMode byte);
    /// modelRoot = keccak256(descriptor).
    function decodeModelDescriptor(bytes memory d) internal pure returns (ModelCommitment memory m) {
        if (d.length < 114) revert InvalidModelDescriptor(d.length);
        uint256 magic;
        uint256 version;
        uint256 nodeCount;
        uint256 weightCount;
        bytes32 graphRoot;
        bytes32 weightsRoot;
        bytes32 metadataHash;
        assembly ("memory-safe") {
            let p := add(d, 0x20)
            let w := mload(p)
            magic := shr(224, w)
            version := and(shr(192, w), 0xffffffff)
            nodeCount := and(shr(160, w), 0xffffffff)
            weightCount := and(shr(128, w), 0xffffffff)
            graphRoot := mload(add(p, 16))
            weightsRoot := mload(add(p, 48))
            metadataHash := mload(add(p, 80))
        }
        if (magic != MODEL_MAGIC || (version != MODEL_VERSION && version != MODEL_VERSION_INPUT_MODE)) {
            revert InvalidModelDescriptor(d.length);
        }
        if (nodeCount == 0) revert InvalidNodeCount(nodeCount);
        uint256 inLen = uint8(d[112]);
        if (d.length < 114 + inLen) revert InvalidModelDescriptor(d.length);
        uint256 outLen = uint8(d[113 + inLen]);
        uint256 trailer = version == MODEL_VERSION_INPUT_MODE ? 1 : 0;
        if (d.length != 114 + inLen + outLen + trailer) revert InvalidModelDescriptor(d.length);
        if (trailer == 1) {
            uint256 mode = uint8(d[d.length - 1]);
            if (mode != INPUT_MODE_FIXED && mode != INPUT_MODE_TEXT) revert InvalidInputMode(mode);
            m.inputMode = uint8(mode);
        }
        m.inputHeader = _slice(d, 113, inLen);
        m.outputHeader = _slice(d, 114 + inLen, outLen);
        tensorByteLength(m.inputHeader);
        tensorByteLength(m.outputHeader);
        m.modelRoot = keccak256(d);
        m.nodeCount = uint32(nodeCount);
        m.weightCount = uint32(weightCount);
        m.graphRoot = graphRoot;
        m.weightsRoot = weightsRoot;
        m.metadataHash = metadataHash;
    }

    // ---------------------------------------------------------------- states and claims (§3.4, §3.5)

    /**
     * @notice A request's inputHash (§3.4): the input tensor's tensorHash, keccak256(header ‖ chunkRoot(input)), from
     * the chunk root the oracle stored for the request (`Request.inputHash`, which is keccak256(input) for an input
     * of one chunk). The header is the model's input header for a fixed model and int8 [inputLength] for a text
     * model (§3.3).
     */
    function requestInputHash(uint8 inputMode, bytes memory inputHeader, bytes32 inputChunkRoot, uint256 inputLength)
        internal
        pure
        returns (bytes32)
    {
        if (inputMode == INPUT_MODE_TEXT) {
            return keccak256(abi.encodePacked(DTYPE_INT8, uint8(1), uint32(inputLength), inputChunkRoot));
        }
        return keccak256(abi.encodePacked(inputHeader, inputChunkRoot));
    }

    function stateHash(bytes32 inputHash, bytes32 weightsRoot, bytes32 nodesRoot) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, inputHash)
            mstore(add(p, 0x20), weightsRoot)
            mstore(add(p, 0x40), nodesRoot)
            h := keccak256(p, 0x60)
        }
    }

    /// @notice State_0 of a request: every node slot empty.
    function initialState(bytes32 inputHash, bytes32 weightsRoot, uint256 nodeCount) internal pure returns (bytes32) {
        if (nodeCount == 0) revert InvalidNodeCount(nodeCount);
        return stateHash(inputHash, weightsRoot, zeroHash(depthFor(nodeCount)));
    }

    /// @notice Depth of the trace tree of an n-node model.
    function traceDepth(uint256 nodeCount) internal pure returns (uint256) {
        return depthFor(nodeCount + 1);
    }

    /// @notice Whether `leaf` is leaf `index` of `traceRoot` for an n-node model (proof length checked).
    function verifyTraceLeaf(bytes32 traceRoot, uint256 nodeCount, uint256 index, bytes32 leaf, bytes32[] calldata proof)
        internal
        pure
        returns (bool)
    {
        uint256 depth = traceDepth(nodeCount);
        if (proof.length != depth) revert InvalidProofLength(depth, proof.length);
        return rootFromProof(leaf, index, proof) == traceRoot;
    }

    /**
     * @notice The checks when a claim is posted (§3.5): leaf 0 of traceRoot is State_0; outputHash
     * is leaf n-1 of finalNodesRoot; leaf n of traceRoot is keccak256(inputHash ‖ weightsRoot ‖
     * finalNodesRoot). Reverts with the failing check.
     */
    function verifyClaim(bytes32 inputHash, bytes32 weightsRoot, uint256 nodeCount, bytes32 outputHash, ClaimProof calldata p)
        internal
        pure
    {
        bytes32 s0 = initialState(inputHash, weightsRoot, nodeCount);
        if (!verifyTraceLeaf(p.traceRoot, nodeCount, 0, s0, p.leaf0Proof)) revert InitialStateMismatch(p.traceRoot, s0);
        uint256 dN = depthFor(nodeCount);
        if (p.outputProof.length != dN) revert InvalidProofLength(dN, p.outputProof.length);
        if (rootFromProof(outputHash, nodeCount - 1, p.outputProof) != p.finalNodesRoot) {
            revert OutputNotInFinalState(outputHash, p.finalNodesRoot);
        }
        bytes32 sn = stateHash(inputHash, weightsRoot, p.finalNodesRoot);
        if (!verifyTraceLeaf(p.traceRoot, nodeCount, nodeCount, sn, p.leafNProof)) revert FinalStateMismatch(p.traceRoot, sn);
    }

    function _slice(bytes memory d, uint256 start, uint256 len) private pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i = 0; i < len; i++) out[i] = d[start + i];
    }
}
