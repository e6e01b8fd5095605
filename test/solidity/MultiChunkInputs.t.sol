// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GraphTrace} from "./utils/GraphTrace.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";
import {GraphCommitments} from "../../contracts/lib/GraphCommitments.sol";
import {IAIOracleBatch} from "../../contracts/interfaces/IAIOracleBatch.sol";
import {DeliveryMode, ModelParams, Request, RequestParams} from "../../contracts/lib/Types.sol";
import {ModelInputTooLarge} from "../../contracts/lib/Errors.sol";

/// @dev Exposes the library's chunk root (memory) to the fuzzer.
contract ChunkRootCaller {
    function chunkRoot(bytes memory data) external pure returns (bytes32) {
        return GraphCommitments.chunkRoot(data);
    }
}

/// @dev Request inputs of more than one 4096-byte chunk (docs/protocol.md §1.3, §3.2, §3.4): the registry takes fixed
/// inputs up to MAX_INPUT_BYTES, every request path stores the input's chunk root, and a claim must open to State_0
/// built from keccak256(header ‖ chunkRoot). The expected roots are computed here by a recursive reference of §3.1,
/// not by the library.
contract MultiChunkInputsTest is CoreFixture {
    uint256 internal constant CHUNK = 4096;
    /// @dev 3 × 48 × 48 int8: the image that motivated multi-chunk inputs (two chunks, the second 2816 bytes).
    uint32 internal constant IMAGE_BYTES = 6912;

    ChunkRootCaller internal caller;

    function setUp() public override {
        super.setUp();
        caller = new ChunkRootCaller();
    }

    // ------------------------------------------------------------------ reference (§3.1, §3.2)

    function _slice(bytes memory b, uint256 start, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i; i < len; ++i) out[i] = b[start + i];
    }

    /// @dev Root of the subtree of height h whose first leaf is chunk `first` (leaves past the data are zero).
    function _refSubtree(bytes memory data, uint256 first, uint256 h) internal pure returns (bytes32) {
        uint256 chunks = (data.length + CHUNK - 1) / CHUNK;
        if (h == 0) {
            if (first >= chunks) return bytes32(0);
            uint256 start = first * CHUNK;
            uint256 len = data.length - start < CHUNK ? data.length - start : CHUNK;
            return keccak256(_slice(data, start, len));
        }
        bytes32 l = _refSubtree(data, first, h - 1);
        bytes32 r = _refSubtree(data, first + (1 << (h - 1)), h - 1);
        return keccak256(abi.encodePacked(l, r));
    }

    function _refChunkRoot(bytes memory data) internal pure returns (bytes32) {
        uint256 chunks = (data.length + CHUNK - 1) / CHUNK;
        uint256 depth;
        while ((1 << depth) < chunks) depth++;
        return _refSubtree(data, 0, depth);
    }

    function _bytes(uint256 len, uint256 seed) internal pure returns (bytes memory b) {
        b = new bytes(len);
        for (uint256 i; i < len; i += 32) {
            bytes32 w = keccak256(abi.encode(seed, i));
            for (uint256 j; j < 32 && i + j < len; ++j) b[i + j] = w[j];
        }
    }

    function _fixedModel(uint32 inputBytes) internal returns (uint256 id) {
        ModelParams memory p = _modelParams();
        p.descriptor = GraphTrace.descriptor(NODES, WEIGHTS_ROOT, GraphTrace.int8Header(inputBytes), GraphTrace.int8Header(1));
        vm.prank(modelOwner);
        id = oracle.registerModel(p);
    }

    // ------------------------------------------------------------------ registry (§1.3)

    function test_registerModel_acceptsFixedInputsUpToMaxInputBytes() public {
        assertEq(GraphCommitments.MAX_INPUT_BYTES, 32768);
        for (uint32 len = 4097; len <= 32768; len += 28671) {
            uint256 id = _fixedModel(len);
            assertEq(oracle.getModel(id).inputBytes, len);
        }
        // int32 [8192]: 32768 bytes, the limit exactly
        ModelParams memory p = _modelParams();
        p.descriptor = GraphTrace.descriptor(NODES, WEIGHTS_ROOT, abi.encodePacked(uint8(2), uint8(1), uint32(8192)), GraphTrace.int8Header(1));
        assertEq(oracle.getModel(oracle.registerModel(p)).inputBytes, 32768);
    }

    function test_registerModel_refusesAboveMaxInputBytes_withValues() public {
        ModelParams memory p = _modelParams();
        p.descriptor = GraphTrace.descriptor(NODES, WEIGHTS_ROOT, GraphTrace.int8Header(32769), GraphTrace.int8Header(1));
        vm.expectRevert(abi.encodeWithSelector(ModelInputTooLarge.selector, uint256(32769), uint256(32768)));
        oracle.registerModel(p);
        // int32 [8193] = 32772 bytes: the limit is on bytes, not elements
        p.descriptor = GraphTrace.descriptor(NODES, WEIGHTS_ROOT, abi.encodePacked(uint8(2), uint8(1), uint32(8193)), GraphTrace.int8Header(1));
        vm.expectRevert(abi.encodeWithSelector(ModelInputTooLarge.selector, uint256(32772), uint256(32768)));
        oracle.registerModel(p);
        // a text model's context stays within one chunk
        p.descriptor = GraphTrace.descriptorV2(NODES, WEIGHTS_ROOT, GraphTrace.int8Header(4097), GraphTrace.int8Header(1), 1);
        vm.expectRevert(abi.encodeWithSelector(ModelInputTooLarge.selector, uint256(4097), uint256(4096)));
        oracle.registerModel(p);
    }

    // ------------------------------------------------------------------ the stored chunk root (§3.2, §3.4)

    function testFuzz_chunkRoot_matchesReference(uint256 len, uint256 seed) public view {
        len = bound(len, 1, GraphCommitments.MAX_INPUT_BYTES);
        bytes memory data = _bytes(len, seed);
        assertEq(caller.chunkRoot(data), _refChunkRoot(data));
    }

    function test_chunkRoot_atChunkBoundaries() public view {
        uint256[9] memory lens = [uint256(1), 4095, 4096, 4097, 8192, 8193, 12288, 20481, 32768];
        for (uint256 i; i < lens.length; ++i) {
            bytes memory data = _bytes(lens[i], i);
            bytes32 root = caller.chunkRoot(data);
            assertEq(root, _refChunkRoot(data));
            // one chunk: the root is keccak256 of the bytes, as before multi-chunk inputs
            if (lens[i] <= CHUNK) assertEq(root, keccak256(data));
            else assertTrue(root != keccak256(data));
        }
    }

    function test_requestCallback_storesTheInputsChunkRoot() public {
        uint256 id = _fixedModel(IMAGE_BYTES);
        bytes memory input = _bytes(IMAGE_BYTES, 7);
        uint256 fee = oracle.estimateFee(id, 0);
        vm.prank(user);
        uint256 requestId = oracle.requestCallback{value: fee}(id, input, address(0), 0, "");
        Request memory r = oracle.getRequest(requestId);
        bytes32 expected = keccak256(abi.encodePacked(keccak256(_slice(input, 0, 4096)), keccak256(_slice(input, 4096, 2816))));
        assertEq(r.inputHash, expected);
        assertEq(r.inputLength, IMAGE_BYTES);
        assertEq(oracle.getRequestHeader(requestId).inputHash, expected);
    }

    function test_requestWithOptions_storesTheInputsChunkRoot_eightChunks() public {
        uint256 id = _fixedModel(32768);
        bytes memory input = _bytes(32768, 8);
        uint256 fee = oracle.estimateFee(id, 0);
        vm.prank(user);
        uint256 requestId = oracle.requestWithOptions{value: fee}(
            RequestParams({
                modelId: id,
                input: input,
                callbackContract: address(0),
                gasLimit: 0,
                callbackData: "",
                deliveryMode: DeliveryMode.AtFinality,
                deadline: 0,
                maxFee: fee,
                refundRecipient: address(0)
            })
        );
        assertEq(oracle.getRequest(requestId).inputHash, _refChunkRoot(input));
        assertEq(oracle.getRequest(requestId).inputLength, 32768);
    }

    function test_requestBatchInference_storesEachItemsChunkRoot() public {
        uint256 id = _fixedModel(IMAGE_BYTES);
        bytes memory input = _bytes(3 * uint256(IMAGE_BYTES), 9);
        uint256 fee = oracle.estimateFeeBatch(id, 0, 3);
        vm.prank(user);
        uint256 first = oracle.requestBatchInference{value: fee}(
            3, id, input, address(0), 0, "", IAIOracleBatch.DA.Calldata, IAIOracleBatch.DA.Calldata
        );
        for (uint256 i; i < 3; ++i) {
            bytes memory item = _slice(input, i * IMAGE_BYTES, IMAGE_BYTES);
            assertEq(oracle.getRequest(first + i).inputHash, _refChunkRoot(item));
        }
    }

    // ------------------------------------------------------------------ claims open to State_0 of the tensorHash (§3.5)

    function _claim(bytes32 inputHash, bytes memory output) internal pure returns (GraphCommitments.ClaimProof memory) {
        bytes32[] memory outs = new bytes32[](NODES);
        for (uint256 k = 1; k < NODES; ++k) outs[k - 1] = keccak256(abi.encode("multi", k));
        outs[NODES - 1] = GraphCommitments.tensorHash(GraphTrace.int8Header(1), output);
        return GraphTrace.claimProof(GraphTrace.build(inputHash, WEIGHTS_ROOT, outs));
    }

    function test_commit_multiChunkInput_stateZeroIsOfHeaderAndChunkRoot() public {
        uint256 id = _fixedModel(IMAGE_BYTES);
        bytes memory input = _bytes(IMAGE_BYTES, 11);
        uint256 fee = oracle.estimateFee(id, 0);
        vm.prank(user);
        uint256 requestId = oracle.requestCallback{value: fee}(id, input, address(0), 0, "");
        bytes memory header = GraphTrace.int8Header(IMAGE_BYTES);

        // A claim whose State_0 hashes the bytes as one chunk (the pre-multi-chunk rule) does not open.
        bytes32 flatHash = keccak256(abi.encodePacked(header, keccak256(input)));
        GraphCommitments.ClaimProof memory flat = _claim(flatHash, OUTPUT_A);
        bytes32 s0 = GraphCommitments.initialState(keccak256(abi.encodePacked(header, _refChunkRoot(input))), WEIGHTS_ROOT, NODES);
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InitialStateMismatch.selector, flat.traceRoot, s0));
        vm.prank(alice);
        tm.commit(requestId, OUTPUT_A, flat);

        // The tensorHash of the input, header ‖ chunk root, does.
        GraphCommitments.ClaimProof memory p = _claim(keccak256(abi.encodePacked(header, _refChunkRoot(input))), OUTPUT_A);
        vm.prank(alice);
        uint256 claimId = tm.commit(requestId, OUTPUT_A, p);
        // The commit stores the hash of its opening (the trace root and the State_n it checked).
        bytes32 sn = GraphCommitments.stateHash(keccak256(abi.encodePacked(header, _refChunkRoot(input))), WEIGHTS_ROOT, p.finalNodesRoot);
        assertEq(tm.getClaimCommitment(claimId), keccak256(abi.encode(p.traceRoot, sn)));
    }
}
