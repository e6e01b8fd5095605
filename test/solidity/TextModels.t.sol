// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GraphTrace} from "./utils/GraphTrace.sol";
import {GraphCommitments} from "../../contracts/lib/GraphCommitments.sol";
import {CoreFixture} from "./utils/CoreFixture.sol";
import {Model, ModelParams} from "../../contracts/lib/Types.sol";
import "../../contracts/lib/Errors.sol";

/// @dev Text models (docs/protocol.md §3.3 descriptor version 2, §1.4 prompts of 1..C bytes, §1.7 trimmed delivery).
contract TextModelsTest is CoreFixture {
    uint32 internal constant CONTEXT = 8;
    uint32 internal constant T = 4;

    function _textParams(bytes memory inputHeader, uint8 inputMode) internal pure returns (ModelParams memory p) {
        p = _modelParams();
        p.descriptor = GraphTrace.descriptorV2(NODES, WEIGHTS_ROOT, inputHeader, GraphTrace.int8Header(T), inputMode);
    }

    // ------------------------------------------------------------------ registry (§3.3)

    function test_register_textModel_recordsInputMode() public {
        ModelParams memory p = _textParams(GraphTrace.int8Header(CONTEXT), 1);
        vm.prank(bob);
        uint256 id = oracle.registerModel(p);
        Model memory m = oracle.getModel(id);
        assertEq(m.inputMode, 1);
        assertEq(m.inputBytes, CONTEXT);
        assertEq(m.modelRoot, keccak256(p.descriptor));
        GraphCommitments.ModelCommitment memory c = oracle.getModelCommitment(id);
        assertEq(c.inputMode, 1);
        assertEq(c.modelRoot, keccak256(p.descriptor));
        assertEq(c.inputHeader, GraphTrace.int8Header(CONTEXT));
        assertEq(c.outputHeader, GraphTrace.int8Header(T));
        // the fixture's version-1 model is fixed
        assertEq(oracle.getModel(modelId).inputMode, 0);
        assertEq(oracle.getModelCommitment(modelId).inputMode, 0);
    }

    function test_register_version2Fixed_isFixed() public {
        uint256 id = oracle.registerModel(_textParams(GraphTrace.int8Header(5), 0));
        assertEq(oracle.getModel(id).inputMode, 0);
        assertEq(oracle.getModel(id).inputBytes, 5);
    }

    function test_register_rejectsBadInputMode() public {
        ModelParams memory p = _textParams(GraphTrace.int8Header(CONTEXT), 2);
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidInputMode.selector, uint256(2)));
        oracle.registerModel(p);
        p = _textParams(GraphTrace.int8Header(CONTEXT), 0xff);
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidInputMode.selector, uint256(0xff)));
        oracle.registerModel(p);
    }

    function test_register_rejectsVersion2WithoutTrailer() public {
        // a version-2 descriptor must carry the inputMode byte: one byte short is malformed
        ModelParams memory p = _textParams(GraphTrace.int8Header(CONTEXT), 1);
        bytes memory d = p.descriptor;
        assembly ("memory-safe") {
            mstore(d, sub(mload(d), 1))
        }
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidModelDescriptor.selector, d.length));
        oracle.registerModel(p);
        // and a version-1 descriptor with a trailing byte is malformed too
        p = _modelParams();
        p.descriptor = bytes.concat(p.descriptor, hex"01");
        vm.expectRevert(abi.encodeWithSelector(GraphCommitments.InvalidModelDescriptor.selector, p.descriptor.length));
        oracle.registerModel(p);
    }

    function test_register_rejectsTextModelWhoseInputIsNotInt8Vector() public {
        // int32 [8]
        bytes memory int32Header = abi.encodePacked(uint8(2), uint8(1), uint32(CONTEXT));
        ModelParams memory p = _textParams(int32Header, 1);
        vm.expectRevert(abi.encodeWithSelector(InvalidTextInputHeader.selector, int32Header));
        oracle.registerModel(p);
        // int8 [1, 8]
        bytes memory rank2 = abi.encodePacked(uint8(1), uint8(2), uint32(1), uint32(CONTEXT));
        p = _textParams(rank2, 1);
        vm.expectRevert(abi.encodeWithSelector(InvalidTextInputHeader.selector, rank2));
        oracle.registerModel(p);
        // the same headers are fine for a fixed model
        oracle.registerModel(_textParams(rank2, 0));
        // and a text context above one chunk is refused as any input is
        p = _textParams(GraphTrace.int8Header(4097), 1);
        vm.expectRevert(abi.encodeWithSelector(ModelInputTooLarge.selector, uint256(4097), uint256(4096)));
        oracle.registerModel(p);
    }
}
