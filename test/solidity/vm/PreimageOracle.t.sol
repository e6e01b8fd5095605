// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Test } from "forge-std/Test.sol";
import { PreimageOracle } from "../../../contracts/vm/PreimageOracle.sol";
import { IPreimageOracle } from "../../../contracts/vm/interfaces/IPreimageOracle.sol";

contract PreimageOracleTest is Test {
    PreimageOracle internal oracle;
    address internal constant GAME_A = address(0xa11ce);
    address internal constant GAME_B = address(0xb0b);
    bytes32 internal constant CONTEXT = keccak256("ctx");

    function setUp() public {
        oracle = new PreimageOracle();
    }

    function keccakKey(bytes memory data) internal pure returns (bytes32) {
        return (keccak256(data) & ~bytes32(uint256(0xff) << 248)) | bytes32(uint256(2) << 248);
    }

    function localizedKey(uint256 ident, address caller, bytes32 ctx) internal pure returns (bytes32) {
        bytes32 key = bytes32((uint256(1) << 248) | ident);
        bytes32 h = keccak256(abi.encode(key, caller, ctx));
        return (h & ~bytes32(uint256(0xff) << 248)) | bytes32(uint256(1) << 248);
    }

    /// @notice 32 bytes of `uint64 BE length ‖ data` at `offset`, zero-padded.
    function framedPart(bytes memory data, uint256 offset) internal pure returns (bytes32 part, uint256 len) {
        bytes memory framed = bytes.concat(bytes8(uint64(data.length)), data, new bytes(32));
        for (uint256 i = 0; i < 32; i++) {
            part |= bytes32(framed[offset + i]) >> (8 * i);
        }
        uint256 remaining = data.length + 8 - offset;
        len = remaining < 32 ? remaining : 32;
    }

    function test_loadKeccak256PreimagePart_storesEveryPart() public {
        bytes memory data = new bytes(70);
        for (uint256 i = 0; i < data.length; i++) data[i] = bytes1(uint8(i + 1));
        bytes32 key = keccakKey(data);
        uint256[6] memory offsets = [uint256(0), 1, 8, 32, 64, 78];
        for (uint256 i = 0; i < offsets.length; i++) {
            oracle.loadKeccak256PreimagePart(offsets[i], data);
            (bytes32 part, uint256 len) = oracle.readPreimage(key, offsets[i]);
            (bytes32 ePart, uint256 eLen) = framedPart(data, offsets[i]);
            assertEq(part, ePart);
            assertEq(len, eLen);
        }
        // The length prefix: 70 as uint64 BE in the first 8 bytes.
        (bytes32 first,) = oracle.readPreimage(key, 0);
        assertEq(uint64(bytes8(first)), 70);
        // End of data: offset == framedLength gives partLen 0.
        (bytes32 endPart, uint256 endLen) = oracle.readPreimage(key, 78);
        assertEq(endPart, bytes32(0));
        assertEq(endLen, 0);
    }

    function test_loadKeccak256PreimagePart_emitsEvent() public {
        bytes memory data = "hello";
        vm.expectEmit(address(oracle));
        emit IPreimageOracle.PreimagePartLoaded(keccakKey(data), 0, 13);
        oracle.loadKeccak256PreimagePart(0, data);
    }

    function test_loadKeccak256PreimagePart_anyoneMayLoad() public {
        bytes memory data = "public data";
        vm.prank(address(0xdead));
        oracle.loadKeccak256PreimagePart(8, data);
        (bytes32 part,) = oracle.readPreimage(keccakKey(data), 8);
        assertEq(part, bytes32(bytes("public data")));
    }

    function test_loadKeccak256PreimagePart_revertsOnOffsetPastEnd() public {
        bytes memory data = "abc";
        vm.expectRevert(abi.encodeWithSelector(IPreimageOracle.PartOffsetOOB.selector, 12, 11));
        oracle.loadKeccak256PreimagePart(12, data);
    }

    function test_loadKeccak256PreimagePart_revertsOnTooLarge() public {
        bytes memory data = new bytes(32769);
        vm.expectRevert(abi.encodeWithSelector(IPreimageOracle.PreimageTooLarge.selector, 32769, 32768));
        oracle.loadKeccak256PreimagePart(0, data);
    }

    function test_loadKeccak256PreimagePart_acceptsMaxSize() public {
        bytes memory data = new bytes(32768);
        data[32767] = 0x7f;
        oracle.loadKeccak256PreimagePart(32768 + 8 - 1, data);
        (bytes32 part, uint256 len) = oracle.readPreimage(keccakKey(data), 32775);
        assertEq(len, 1);
        assertEq(part, bytes32(bytes1(0x7f)));
    }

    function test_loadKeccak256PreimagePart_emptyPreimage() public {
        oracle.loadKeccak256PreimagePart(0, "");
        (bytes32 part, uint256 len) = oracle.readPreimage(keccakKey(""), 0);
        assertEq(part, bytes32(0));
        assertEq(len, 8);
    }

    function test_readPreimage_revertsWhenNotLoaded() public {
        bytes memory data = "abc";
        oracle.loadKeccak256PreimagePart(0, data);
        bytes32 key = keccakKey(data);
        vm.expectRevert(abi.encodeWithSelector(IPreimageOracle.PreimageNotLoaded.selector, key, 1));
        oracle.readPreimage(key, 1);
    }

    function test_loadLocalData_storesUnderLocalizedKey() public {
        bytes32 word = bytes32(hex"0102030405ffffffffffffffffffffffffffffffffffffffffffffffffffffff");
        vm.prank(GAME_A);
        bytes32 key = oracle.loadLocalData(3, CONTEXT, word, 5, 0);
        assertEq(key, localizedKey(3, GAME_A, CONTEXT));
        assertEq(uint8(uint256(key) >> 248), 1);
        (bytes32 part, uint256 len) = oracle.readPreimage(key, 0);
        assertEq(len, 13);
        // uint64 BE 5, then the 5 data bytes; bytes past `size` are zeroed, not copied from `word`.
        assertEq(part, bytes32(hex"00000000000000050102030405"));
        vm.prank(GAME_A);
        oracle.loadLocalData(3, CONTEXT, word, 5, 8);
        (part, len) = oracle.readPreimage(key, 8);
        assertEq(len, 5);
        assertEq(part, bytes32(hex"0102030405"));
    }

    function test_loadLocalData_fullWordAndEnd() public {
        bytes32 word = keccak256("w");
        vm.startPrank(GAME_A);
        bytes32 key = oracle.loadLocalData(1, CONTEXT, word, 32, 8);
        oracle.loadLocalData(1, CONTEXT, word, 32, 40);
        vm.stopPrank();
        (bytes32 part, uint256 len) = oracle.readPreimage(key, 8);
        assertEq(part, word);
        assertEq(len, 32);
        (part, len) = oracle.readPreimage(key, 40);
        assertEq(len, 0);
        assertEq(part, bytes32(0));
    }

    function test_loadLocalData_isLocalizedToCallerAndContext() public {
        vm.prank(GAME_A);
        bytes32 keyA = oracle.loadLocalData(1, CONTEXT, bytes32(uint256(1)), 32, 8);
        vm.prank(GAME_B);
        bytes32 keyB = oracle.loadLocalData(1, CONTEXT, bytes32(uint256(2)), 32, 8);
        vm.prank(GAME_A);
        bytes32 keyA2 = oracle.loadLocalData(1, keccak256("other"), bytes32(uint256(3)), 32, 8);
        assertTrue(keyA != keyB && keyA != keyA2 && keyB != keyA2);
        // B's load did not overwrite A's datum.
        (bytes32 part,) = oracle.readPreimage(keyA, 8);
        assertEq(part, bytes32(uint256(1)));
        // A never loaded at offset 0: B cannot make it appear there either.
        vm.expectRevert(abi.encodeWithSelector(IPreimageOracle.PreimageNotLoaded.selector, keyA, 0));
        oracle.readPreimage(keyA, 0);
    }

    function test_loadLocalData_revertsOnTooLarge() public {
        vm.expectRevert(abi.encodeWithSelector(IPreimageOracle.LocalDataTooLarge.selector, 33));
        oracle.loadLocalData(1, CONTEXT, 0, 33, 0);
    }

    function test_loadLocalData_revertsOnOffsetPastEnd() public {
        vm.expectRevert(abi.encodeWithSelector(IPreimageOracle.PartOffsetOOB.selector, 13, 12));
        oracle.loadLocalData(1, CONTEXT, 0, 4, 13);
    }

    function test_loadLocalData_revertsOnIdentTooLarge() public {
        uint256 ident = uint256(1) << 248;
        vm.expectRevert(abi.encodeWithSelector(IPreimageOracle.InvalidLocalIdent.selector, ident));
        oracle.loadLocalData(ident, CONTEXT, 0, 4, 0);
    }

    function testFuzz_loadKeccak256PreimagePart_matchesFrame(bytes memory data, uint256 offset) public {
        vm.assume(data.length <= 2000);
        offset = bound(offset, 0, data.length + 8);
        oracle.loadKeccak256PreimagePart(offset, data);
        (bytes32 part, uint256 len) = oracle.readPreimage(keccakKey(data), offset);
        (bytes32 ePart, uint256 eLen) = framedPart(data, offset);
        assertEq(part, ePart);
        assertEq(len, eLen);
    }

    function testFuzz_loadLocalData_matchesFrame(bytes32 word, uint256 size, uint256 offset) public {
        size = bound(size, 0, 32);
        offset = bound(offset, 0, size + 8);
        vm.prank(GAME_A);
        bytes32 key = oracle.loadLocalData(7, CONTEXT, word, size, offset);
        bytes memory data = new bytes(size);
        for (uint256 i = 0; i < size; i++) data[i] = word[i];
        (bytes32 part, uint256 len) = oracle.readPreimage(key, offset);
        (bytes32 ePart, uint256 eLen) = framedPart(data, offset);
        assertEq(part, ePart);
        assertEq(len, eLen);
    }
}
