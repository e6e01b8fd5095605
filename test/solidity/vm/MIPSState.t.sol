// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MIPSTestBase } from "./MIPSTestBase.sol";
import { MIPSState } from "../../../contracts/vm/lib/MIPSState.sol";
import { InvalidState } from "../../../contracts/vm/lib/MIPSErrors.sol";

/// @notice Decoding for tests: MIPSState.decodeState takes calldata.
contract StateCodec {
    function roundTrip(bytes calldata data) external pure returns (bytes memory packed, bytes32 hash) {
        MIPSState.State memory s = MIPSState.decodeState(data);
        return (MIPSState.encodeState(s), MIPSState.stateHash(s));
    }
}

contract MIPSStateTest is MIPSTestBase {
    StateCodec internal codec;

    function setUp() public override {
        super.setUp();
        codec = new StateCodec();
    }

    /// @notice A packed state written byte by byte, independent of MIPSState.encodeState.
    function handPacked(uint8 exited, uint8 exitCode) internal pure returns (bytes memory p) {
        p = abi.encodePacked(
            bytes32(uint256(0xaa)), // memRoot
            bytes32(uint256(0xbb)), // preimageKey
            bytes4(0x00000010), // preimageOffset
            bytes4(0x00400000), // pc
            bytes4(0x00400004), // nextPC
            bytes4(0x11111111), // lo
            bytes4(0x22222222), // hi
            bytes4(0x20000000), // heap
            bytes1(exitCode),
            bytes1(exited),
            bytes8(0x0000000000000007) // step
        );
        for (uint256 i = 0; i < 32; i++) {
            p = bytes.concat(p, bytes4(uint32(i == 0 ? 0 : 0x01000000 + i)));
        }
    }

    function test_decodeState_roundTripsHandPackedState() public view {
        bytes memory p = handPacked(0, 0);
        assertEq(p.length, 226);
        (bytes memory packed, bytes32 hash) = codec.roundTrip(p);
        assertEq(packed, p);
        bytes32 expected = (keccak256(p) & ~bytes32(uint256(0xff) << 248)) | bytes32(uint256(3) << 248);
        assertEq(hash, expected);
    }

    function test_stateHash_statusByte() public view {
        bytes32 raw;
        bytes32 h;
        (, h) = codec.roundTrip(handPacked(1, 0));
        raw = keccak256(handPacked(1, 0));
        assertEq(uint8(uint256(h) >> 248), 0, "valid");
        assertEq(uint256(h) << 8, uint256(raw) << 8, "low 31 bytes are the keccak");
        (, h) = codec.roundTrip(handPacked(1, 1));
        assertEq(uint8(uint256(h) >> 248), 1, "invalid");
        (, h) = codec.roundTrip(handPacked(1, 2));
        assertEq(uint8(uint256(h) >> 248), 2, "panic");
        (, h) = codec.roundTrip(handPacked(1, 255));
        assertEq(uint8(uint256(h) >> 248), 2, "panic 255");
        (, h) = codec.roundTrip(handPacked(0, 1));
        assertEq(uint8(uint256(h) >> 248), 3, "unfinished");
    }

    function test_step_revertsOnShortState() public {
        bytes memory p = handPacked(0, 0);
        bytes memory short = new bytes(225);
        for (uint256 i = 0; i < 225; i++) short[i] = p[i];
        vm.expectRevert(InvalidState.selector);
        mips.step(short, "", CONTEXT);
    }

    function test_step_revertsOnLongState() public {
        vm.expectRevert(InvalidState.selector);
        mips.step(bytes.concat(handPacked(0, 0), hex"00"), "", CONTEXT);
    }

    function test_step_revertsOnExitedByteAboveOne() public {
        vm.expectRevert(InvalidState.selector);
        mips.step(handPacked(2, 0), "", CONTEXT);
    }

    function test_step_revertsOnNonZeroR0() public {
        bytes memory p = handPacked(1, 0);
        p[101] = 0x01; // registers[0] occupies bytes 98..101
        vm.expectRevert(InvalidState.selector);
        mips.step(p, "", CONTEXT);
    }

    function test_step_exitedStateStepsToItself() public view {
        bytes memory p = handPacked(1, 3);
        (, bytes32 h) = codec.roundTrip(p);
        // No proof needed, step not incremented.
        assertEq(mips.step(p, "", CONTEXT), h);
    }

    function testFuzz_decodeState_roundTrips(bytes32 a, bytes32 b, bytes32 c, bytes32 d, bytes32 e, bytes32 f, bytes32 g, bool exited) public view {
        bytes memory p = bytes.concat(a, b, c, d, e, f, g, bytes2(0));
        p = bytes.concat(p, new bytes(0));
        bytes memory q = new bytes(226);
        for (uint256 i = 0; i < 226; i++) q[i] = p[i];
        q[89] = exited ? bytes1(0x01) : bytes1(0x00);
        for (uint256 i = 98; i < 102; i++) q[i] = 0;
        (bytes memory packed, bytes32 hash) = codec.roundTrip(q);
        assertEq(packed, q);
        assertEq(uint256(hash) << 8, uint256(keccak256(q)) << 8);
    }
}
