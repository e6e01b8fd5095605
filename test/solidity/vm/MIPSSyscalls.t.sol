// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MIPSTestBase } from "./MIPSTestBase.sol";
import { MIPSState } from "../../../contracts/vm/lib/MIPSState.sol";
import { InvalidProofLength, InvalidSyscall } from "../../../contracts/vm/lib/MIPSErrors.sol";
import { IPreimageOracle } from "../../../contracts/vm/interfaces/IPreimageOracle.sol";

/// @notice The syscall instruction (docs/protocol.md §4.6), including preimage reads through the oracle
///         and the localization of local keys to the calling game.
contract MIPSSyscallsTest is MIPSTestBase {
    uint32 internal constant BUF = 0x00003000;
    address internal constant GAME_A = address(0xa11ce);
    address internal constant GAME_B = address(0xb0b);

    function sysState(uint32 number, uint32 a0, uint32 a1, uint32 a2) internal pure returns (MIPSState.State memory s) {
        s = newState();
        s.registers[2] = number;
        s.registers[4] = a0;
        s.registers[5] = a1;
        s.registers[6] = a2;
        s.registers[7] = 0x77777777; // a3 is overwritten by every returning syscall
    }

    function returned(MIPSState.State memory s, uint32 v0, uint32 a3) internal pure returns (MIPSState.State memory e) {
        e = advanced(s);
        e.registers[2] = v0;
        e.registers[7] = a3;
    }

    function checkSys(MIPSState.State memory s, MIPSState.State memory e) internal {
        bytes memory proof = prepare(s, syscallInsn(), false, 0);
        e.memRoot = s.memRoot;
        assertEq(runStep(s, proof), hashOf(e));
    }

    function test_step_mmap() public {
        MIPSState.State memory s = sysState(4090, 0, 5000, 0);
        MIPSState.State memory e = returned(s, HEAP_START, 0);
        e.heap = HEAP_START + 8192;
        checkSys(s, e);
        s = sysState(4090, 0, 4096, 0);
        e = returned(s, HEAP_START, 0);
        e.heap = HEAP_START + 4096;
        checkSys(s, e);
        s = sysState(4090, 0, 0, 0);
        checkSys(s, returned(s, HEAP_START, 0));
        s = sysState(4090, 0x12340000, 4096, 0); // addr given: returned, heap unchanged
        checkSys(s, returned(s, 0x12340000, 0));
        s = sysState(4090, 0, 0xffffffff, 0); // roundUp wraps to 0
        checkSys(s, returned(s, HEAP_START, 0));
        s = sysState(4090, 0, 0xe0000001, 0); // heap wraps
        e = returned(s, HEAP_START, 0);
        e.heap = 0x00001000;
        checkSys(s, e);
    }

    function test_step_brk() public {
        MIPSState.State memory s = sysState(4045, 0, 0, 0);
        checkSys(s, returned(s, 0x40000000, 0));
    }

    function test_step_exitGroupAndExit() public {
        uint32[2] memory numbers = [uint32(4246), 4001];
        for (uint256 i = 0; i < 2; i++) {
            MIPSState.State memory s = sysState(numbers[i], 0x101, 0, 0);
            MIPSState.State memory e = copyState(s); // no pc advance, no register write
            e.exited = true;
            e.exitCode = 1; // code & 0xff
            e.step = 1;
            bytes memory proof = prepare(s, syscallInsn(), false, 0);
            e.memRoot = s.memRoot;
            bytes32 post = runStep(s, proof);
            assertEq(post, hashOf(e));
            assertEq(uint8(uint256(post) >> 248), 1, "status invalid");
        }
        MIPSState.State memory ok = sysState(4246, 0, 0, 0);
        bytes memory okProof = prepare(ok, syscallInsn(), false, 0);
        assertEq(uint8(uint256(runStep(ok, okProof)) >> 248), 0, "status valid");
        MIPSState.State memory panic = sysState(4246, 2, 0, 0);
        bytes memory panicProof = prepare(panic, syscallInsn(), false, 0);
        assertEq(uint8(uint256(runStep(panic, panicProof)) >> 248), 2, "status panic");
    }

    function test_step_readWriteWithoutMemory() public {
        MIPSState.State memory s = sysState(4003, 0, BUF, 10); // stdin: EOF
        checkSys(s, returned(s, 0, 0));
        s = sysState(4003, 3, BUF, 10); // hint read
        checkSys(s, returned(s, 10, 0));
        s = sysState(4003, 1, BUF, 10); // read on stdout
        checkSys(s, returned(s, 0xffffffff, 9));
        s = sysState(4003, 6, BUF, 10);
        checkSys(s, returned(s, 0xffffffff, 9));
        s = sysState(4004, 1, BUF, 10); // stdout
        checkSys(s, returned(s, 10, 0));
        s = sysState(4004, 2, BUF, 11); // stderr
        checkSys(s, returned(s, 11, 0));
        s = sysState(4004, 4, BUF, 12); // hint write
        checkSys(s, returned(s, 12, 0));
        s = sysState(4004, 5, BUF, 10); // write on preimage read fd
        checkSys(s, returned(s, 0xffffffff, 9));
        s = sysState(4004, 0, BUF, 10);
        checkSys(s, returned(s, 0xffffffff, 9));
    }

    function test_step_fcntl() public {
        uint32[8] memory fds = [uint32(0), 1, 2, 3, 4, 5, 6, 7];
        uint32[8] memory v0s = [uint32(0), 1, 1, 0, 1, 0, 1, 0xffffffff];
        for (uint256 i = 0; i < fds.length; i++) {
            MIPSState.State memory s = sysState(4055, fds[i], 3, 0);
            checkSys(s, returned(s, v0s[i], fds[i] == 7 ? 9 : 0));
        }
        MIPSState.State memory bad = sysState(4055, 0, 1, 0);
        checkSys(bad, returned(bad, 0xffffffff, 22));
    }

    function test_step_revertsOnUnknownSyscall() public {
        MIPSState.State memory s = sysState(4020, 0, 0, 0); // getpid
        bytes memory proof = prepare(s, syscallInsn(), false, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidSyscall.selector, 4020));
        runStep(s, proof);
    }

    // ------------------------------------------------------------ preimage key write (fd 6)

    function test_step_preimageKeyWrite() public {
        writeWord(BUF, 0x01020304);
        MIPSState.State memory s = sysState(4004, 6, BUF + 1, 100);
        s.preimageKey = bytes32(uint256(0xaabb));
        s.preimageOffset = 99;
        bytes memory proof = prepare(s, syscallInsn(), true, BUF + 1);
        MIPSState.State memory e = returned(s, 3, 0);
        e.preimageKey = bytes32(uint256(0xaabb020304));
        e.preimageOffset = 0;
        assertEq(runStep(s, proof), hashOf(e));

        s = sysState(4004, 6, BUF + 2, 1); // count limits n
        proof = prepare(s, syscallInsn(), true, BUF + 2);
        e = returned(s, 1, 0);
        e.preimageKey = bytes32(uint256(0x03));
        assertEq(runStep(s, proof), hashOf(e));
    }

    function test_step_preimageSyscallsNeedDataProof() public {
        MIPSState.State memory s = sysState(4004, 6, BUF, 4);
        bytes memory proof = prepare(s, syscallInsn(), false, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidProofLength.selector, 1792, 896));
        runStep(s, proof);
        s = sysState(4003, 5, BUF, 4);
        proof = prepare(s, syscallInsn(), false, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidProofLength.selector, 1792, 896));
        runStep(s, proof);
    }

    // ------------------------------------------------------------ preimage read (fd 5)

    function keccakKey(bytes memory data) internal pure returns (bytes32) {
        return (keccak256(data) & ~bytes32(uint256(0xff) << 248)) | bytes32(uint256(2) << 248);
    }

    function readState(bytes32 key, uint32 offset, uint32 addr, uint32 count)
        internal
        pure
        returns (MIPSState.State memory s)
    {
        s = sysState(4003, 5, addr, count);
        s.preimageKey = key;
        s.preimageOffset = offset;
    }

    function test_step_preimageReadKeccak() public {
        bytes memory data = hex"deadbeefcafe";
        bytes32 key = keccakKey(data);
        oracle.loadKeccak256PreimagePart(0, data);
        oracle.loadKeccak256PreimagePart(6, data);
        oracle.loadKeccak256PreimagePart(14, data);
        writeWord(BUF, 0x11223344);

        // Offset 0, aligned, 4 bytes: the first 4 bytes of the length prefix (zeros).
        MIPSState.State memory s = readState(key, 0, BUF, 4);
        bytes memory proof = prepare(s, syscallInsn(), true, BUF);
        writeWord(BUF, 0x00000000);
        MIPSState.State memory e = returned(s, 4, 0);
        e.memRoot = memRoot();
        e.preimageOffset = 4;
        assertEq(runStep(s, proof), hashOf(e));

        // Offset 6, at addr & 3 == 1, count 10: n = 3 bytes (00 06 de) into bytes 1..3.
        writeWord(BUF, 0x11223344);
        s = readState(key, 6, BUF + 1, 10);
        proof = prepare(s, syscallInsn(), true, BUF + 1);
        writeWord(BUF, 0x110006de);
        e = returned(s, 3, 0);
        e.memRoot = memRoot();
        e.preimageOffset = 9;
        assertEq(runStep(s, proof), hashOf(e));

        // End of data: offset 14 == framedLength: n = 0, memory and offset unchanged.
        writeWord(BUF, 0x11223344);
        s = readState(key, 14, BUF, 4);
        proof = prepare(s, syscallInsn(), true, BUF);
        e = returned(s, 0, 0);
        assertEq(runStep(s, proof), hashOf(e));
    }

    function test_step_preimageReadRevertsWhenNotLoaded() public {
        bytes32 key = keccakKey("never loaded");
        MIPSState.State memory s = readState(key, 8, BUF, 4);
        bytes memory proof = prepare(s, syscallInsn(), true, BUF);
        vm.expectRevert(abi.encodeWithSelector(IPreimageOracle.PreimageNotLoaded.selector, key, 8));
        runStep(s, proof);
    }

    function test_step_preimageReadLocalIsLocalizedToCaller() public {
        bytes32 localKey = bytes32((uint256(1) << 248) | 2);
        vm.prank(GAME_A);
        bytes32 localizedA = oracle.loadLocalData(2, CONTEXT, bytes32(hex"0a0b0c0d"), 4, 8);

        MIPSState.State memory s = readState(localKey, 8, BUF, 4);
        bytes memory proof = prepare(s, syscallInsn(), true, BUF);
        bytes memory packed = encode(s);
        writeWord(BUF, 0x0a0b0c0d);
        MIPSState.State memory e = returned(s, 4, 0);
        e.memRoot = memRoot();
        e.preimageOffset = 12;

        // Game A reads its own datum.
        vm.prank(GAME_A);
        assertEq(mips.step(packed, proof, CONTEXT), hashOf(e));

        // Game B, same key and context, reads under its own localized key: not loaded.
        bytes32 localizedB = keccak256(abi.encode(localKey, GAME_B, CONTEXT));
        localizedB = (localizedB & ~bytes32(uint256(0xff) << 248)) | bytes32(uint256(1) << 248);
        assertTrue(localizedA != localizedB);
        vm.prank(GAME_B);
        vm.expectRevert(abi.encodeWithSelector(IPreimageOracle.PreimageNotLoaded.selector, localizedB, 8));
        mips.step(packed, proof, CONTEXT);

        // Game A under another context: also not loaded.
        vm.prank(GAME_A);
        vm.expectRevert();
        mips.step(packed, proof, keccak256("other context"));
    }

    function testFuzz_step_preimageReadMatchesFrame(bytes memory data, uint256 offset, uint8 a, uint8 count) public {
        vm.assume(data.length <= 200);
        offset = bound(offset, 0, data.length + 8);
        uint32 addr = BUF + (a % 4);
        oracle.loadKeccak256PreimagePart(offset, data);
        writeWord(BUF, 0x99999999);
        MIPSState.State memory s = readState(keccakKey(data), uint32(offset), addr, count);
        bytes memory proof = prepare(s, syscallInsn(), true, addr);

        bytes memory framed = bytes.concat(bytes8(uint64(data.length)), data);
        uint256 n = 4 - (a % 4);
        if (count < n) n = count;
        if (framed.length - offset < n) n = framed.length - offset;
        uint32 word = 0x99999999;
        for (uint256 i = 0; i < n; i++) {
            uint256 shift = 8 * (3 - (a % 4) - i);
            word = uint32((uint256(word) & ~(uint256(0xff) << shift)) | (uint256(uint8(framed[offset + i])) << shift));
        }
        writeWord(BUF, word);
        MIPSState.State memory e = returned(s, uint32(n), 0);
        e.memRoot = memRoot();
        e.preimageOffset = uint32(offset + n);
        assertEq(runStep(s, proof), hashOf(e));
    }
}
