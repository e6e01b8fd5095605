// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GraphCommitments} from "../../../contracts/lib/GraphCommitments.sol";
import {ClaimOpening} from "../../../contracts/lib/Types.sol";

/// @dev Builds docs/protocol.md §3 commitments in Solidity tests: model descriptors, graph-state traces and their
/// proofs (the same construction as keeper/graph/state.ts, which the vitest differential tests pin).
library GraphTrace {
    struct Trace {
        bytes32 inputHash;
        bytes32 weightsRoot;
        /// @dev Node output hashes, node k at index k - 1.
        bytes32[] outputs;
        /// @dev State_0 .. State_n.
        bytes32[] states;
        bytes32 traceRoot;
        bytes32 finalNodesRoot;
    }

    function descriptor(uint32 n, bytes32 weightsRoot, bytes memory inputHeader, bytes memory outputHeader)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(
            uint32(0x4F414F4D),
            uint32(1),
            n,
            uint32(0),
            keccak256("graphRoot"),
            weightsRoot,
            keccak256("metadata"),
            uint8(inputHeader.length),
            inputHeader,
            uint8(outputHeader.length),
            outputHeader
        );
    }

    /// @dev A version-2 descriptor (docs/protocol.md §3.3): version 1's layout and the trailing `inputMode` byte.
    function descriptorV2(
        uint32 n,
        bytes32 weightsRoot,
        bytes memory inputHeader,
        bytes memory outputHeader,
        uint8 inputMode
    ) internal pure returns (bytes memory d) {
        d = descriptor(n, weightsRoot, inputHeader, outputHeader);
        assembly ("memory-safe") {
            // version (bytes 4..7) = 2
            mstore8(add(d, 0x27), 2)
        }
        d = abi.encodePacked(d, inputMode);
    }

    /// @dev Header of an int8 tensor of shape [len].
    function int8Header(uint32 len) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(1), uint8(1), len);
    }

    function build(bytes32 inputHash, bytes32 weightsRoot, bytes32[] memory outputs)
        internal
        pure
        returns (Trace memory t)
    {
        uint256 n = outputs.length;
        t.inputHash = inputHash;
        t.weightsRoot = weightsRoot;
        t.outputs = outputs;
        t.states = new bytes32[](n + 1);
        uint256 dN = GraphCommitments.depthFor(n);
        bytes32[] memory leaves = new bytes32[](uint256(1) << dN);
        t.states[0] = GraphCommitments.stateHash(inputHash, weightsRoot, root(leaves));
        for (uint256 k = 1; k <= n; ++k) {
            leaves[k - 1] = outputs[k - 1];
            t.finalNodesRoot = root(leaves);
            t.states[k] = GraphCommitments.stateHash(inputHash, weightsRoot, t.finalNodesRoot);
        }
        t.traceRoot = root(_padded(t.states));
    }

    /// @dev Proof of trace leaf `index`.
    function traceProof(Trace memory t, uint256 index) internal pure returns (bytes32[] memory) {
        return proof(_padded(t.states), index);
    }

    /// @dev A claim's opening (trace root, State_n), as its event carries it.
    function opening(Trace memory t) internal pure returns (ClaimOpening memory) {
        return ClaimOpening({traceRoot: t.traceRoot, finalState: t.states[t.states.length - 1]});
    }

    function claimProof(Trace memory t) internal pure returns (GraphCommitments.ClaimProof memory p) {
        uint256 n = t.outputs.length;
        bytes32[] memory leaves = new bytes32[](uint256(1) << GraphCommitments.depthFor(n));
        for (uint256 k; k < n; ++k) leaves[k] = t.outputs[k];
        p.traceRoot = t.traceRoot;
        p.leaf0Proof = traceProof(t, 0);
        p.finalNodesRoot = t.finalNodesRoot;
        p.outputProof = proof(leaves, n - 1);
        p.leafNProof = traceProof(t, n);
    }

    /// @dev The trace leaves: the states padded with State_n to a power of two.
    function _padded(bytes32[] memory states) private pure returns (bytes32[] memory leaves) {
        uint256 n = states.length - 1;
        leaves = new bytes32[](uint256(1) << GraphCommitments.depthFor(n + 1));
        for (uint256 i; i < leaves.length; ++i) leaves[i] = i <= n ? states[i] : states[n];
    }

    /// @dev Root of a full tree (leaves.length a power of two).
    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32[] memory level = _copy(leaves);
        for (uint256 width = level.length; width > 1; width /= 2) {
            for (uint256 i; i < width / 2; ++i) level[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
        }
        return level[0];
    }

    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory siblings) {
        bytes32[] memory level = _copy(leaves);
        uint256 depth;
        while ((uint256(1) << depth) < level.length) ++depth;
        siblings = new bytes32[](depth);
        for (uint256 h; h < depth; ++h) {
            siblings[h] = level[index ^ 1];
            uint256 width = level.length >> (h + 1);
            for (uint256 i; i < width; ++i) level[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            index >>= 1;
        }
    }

    function _copy(bytes32[] memory a) private pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length);
        for (uint256 i; i < a.length; ++i) b[i] = a[i];
    }
}
