// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {GraphCommitments} from "../lib/GraphCommitments.sol";

/// @dev Test-only: exposes GraphCommitments for the differential test against keeper/graph.
contract GraphCommitmentsHarness {
    function depthFor(uint256 count) external pure returns (uint256) {
        return GraphCommitments.depthFor(count);
    }

    function zeroHash(uint256 height) external pure returns (bytes32) {
        return GraphCommitments.zeroHash(height);
    }

    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] calldata proof) external pure returns (bytes32) {
        return GraphCommitments.rootFromProof(leaf, index, proof);
    }

    function tensorHash(bytes calldata header, bytes calldata data) external pure returns (bytes32) {
        return GraphCommitments.tensorHash(header, data);
    }

    function decodeModelDescriptor(bytes calldata d) external pure returns (GraphCommitments.ModelCommitment memory) {
        return GraphCommitments.decodeModelDescriptor(d);
    }

    function initialState(bytes32 inputHash, bytes32 weightsRoot, uint256 nodeCount) external pure returns (bytes32) {
        return GraphCommitments.initialState(inputHash, weightsRoot, nodeCount);
    }

    function stateHash(bytes32 inputHash, bytes32 weightsRoot, bytes32 nodesRoot) external pure returns (bytes32) {
        return GraphCommitments.stateHash(inputHash, weightsRoot, nodesRoot);
    }

    function verifyTraceLeaf(bytes32 traceRoot, uint256 nodeCount, uint256 index, bytes32 leaf, bytes32[] calldata proof)
        external
        pure
        returns (bool)
    {
        return GraphCommitments.verifyTraceLeaf(traceRoot, nodeCount, index, leaf, proof);
    }

    function verifyClaim(
        bytes32 inputHash,
        bytes32 weightsRoot,
        uint256 nodeCount,
        bytes32 outputHash,
        GraphCommitments.ClaimProof calldata proof
    ) external pure returns (bool) {
        GraphCommitments.verifyClaim(inputHash, weightsRoot, nodeCount, outputHash, proof);
        return true;
    }

    /// @dev Gas of the claim check, for docs/benchmarks.md.
    function verifyClaimGas(
        bytes32 inputHash,
        bytes32 weightsRoot,
        uint256 nodeCount,
        bytes32 outputHash,
        GraphCommitments.ClaimProof calldata proof
    ) external view returns (uint256 used) {
        used = gasleft();
        GraphCommitments.verifyClaim(inputHash, weightsRoot, nodeCount, outputHash, proof);
        used -= gasleft();
    }
}
