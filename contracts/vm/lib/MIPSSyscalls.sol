// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MIPSState } from "./MIPSState.sol";
import { MIPSMemory } from "./MIPSMemory.sol";
import { MIPSInstructions } from "./MIPSInstructions.sol";
import { PreimageKeyLib } from "./PreimageKeyLib.sol";
import { InvalidSyscall } from "./MIPSErrors.sol";
import { IPreimageOracle } from "../interfaces/IPreimageOracle.sol";

/// @title MIPSSyscalls
/// @notice The `syscall` instruction (docs/protocol.md §4.6): Linux o32 numbers and registers. The
///         function names match keeper/vm/syscalls.ts one for one.
library MIPSSyscalls {
    uint32 internal constant SYS_MMAP = 4090;
    uint32 internal constant SYS_BRK = 4045;
    uint32 internal constant SYS_EXIT_GROUP = 4246;
    uint32 internal constant SYS_EXIT = 4001;
    uint32 internal constant SYS_READ = 4003;
    uint32 internal constant SYS_WRITE = 4004;
    uint32 internal constant SYS_FCNTL = 4055;

    uint32 internal constant FD_STDIN = 0;
    uint32 internal constant FD_STDOUT = 1;
    uint32 internal constant FD_STDERR = 2;
    uint32 internal constant FD_HINT_READ = 3;
    uint32 internal constant FD_HINT_WRITE = 4;
    uint32 internal constant FD_PREIMAGE_READ = 5;
    uint32 internal constant FD_PREIMAGE_WRITE = 6;

    uint32 internal constant F_GETFL = 3;
    uint32 internal constant EBADF = 9;
    uint32 internal constant EINVAL = 22;
    uint32 internal constant SYSCALL_ERROR = 0xffffffff;

    /// @notice What `brk` returns: there is no brk heap, programs allocate with mmap.
    uint32 internal constant BRK_START = 0x40000000;
    uint32 internal constant PAGE_SIZE = 4096;

    uint32 internal constant REG_V0 = 2;
    uint32 internal constant REG_A0 = 4;
    uint32 internal constant REG_A1 = 5;
    uint32 internal constant REG_A2 = 6;
    uint32 internal constant REG_A3 = 7;

    /// @notice Proof index of the data word touched by `read`/`write` on fds 5/6.
    uint256 internal constant DATA_PROOF = 1;

    /// @notice What a preimage read needs beyond the state: the oracle and the localization inputs.
    struct PreimageContext {
        IPreimageOracle oracle;
        address caller;
        bytes32 localContext;
    }

    /// @notice Executes `syscall`: number in `$v0`, arguments in `$a0..$a2`, result in `$v0`, errno in `$a3`.
    function handleSyscall(
        MIPSState.State memory state,
        bytes calldata proof,
        PreimageContext memory ctx
    )
        internal
        view
    {
        uint32 number = state.registers[REG_V0];
        uint32 a0 = state.registers[REG_A0];
        uint32 a1 = state.registers[REG_A1];
        uint32 a2 = state.registers[REG_A2];
        uint32 v0;
        uint32 a3;
        if (number == SYS_MMAP) {
            (v0, a3) = handleSysMmap(state, a0, a1);
        } else if (number == SYS_BRK) {
            v0 = BRK_START;
        } else if (number == SYS_EXIT_GROUP || number == SYS_EXIT) {
            // exit changes nothing but exited, exitCode (and step, in MIPS.step): no pc advance (§4.6).
            state.exited = true;
            state.exitCode = uint8(a0);
            return;
        } else if (number == SYS_READ) {
            (v0, a3) = handleSysRead(state, a0, a1, a2, proof, ctx);
        } else if (number == SYS_WRITE) {
            (v0, a3) = handleSysWrite(state, a0, a1, a2, proof);
        } else if (number == SYS_FCNTL) {
            (v0, a3) = handleSysFcntl(a0, a1);
        } else {
            revert InvalidSyscall(number);
        }
        state.registers[REG_V0] = v0;
        state.registers[REG_A3] = a3;
        MIPSInstructions.handleRd(state, 0, 0, false);
    }

    /// @notice `mmap(addr, len)`: a bump allocator. `addr == 0` returns the heap pointer and advances it
    ///         by `len` rounded up to a page; any other `addr` is returned as is.
    function handleSysMmap(MIPSState.State memory state, uint32 addr, uint32 len) internal pure returns (uint32 v0, uint32 a3) {
        if (addr != 0) return (addr, 0);
        v0 = state.heap;
        // unchecked: roundUp and heap + size wrap modulo 2^32 by specification (§4.6).
        unchecked {
            uint32 size = len;
            if (size & (PAGE_SIZE - 1) != 0) size += PAGE_SIZE - (size & (PAGE_SIZE - 1));
            state.heap = state.heap + size;
        }
    }

    /// @notice `read(fd, addr, count)`: stdin is at EOF, hint reads succeed without effect, fd 5 reads
    ///         the preimage under `preimageKey` at `preimageOffset` into the word at `addr & ~3`.
    function handleSysRead(
        MIPSState.State memory state,
        uint32 fd,
        uint32 addr,
        uint32 count,
        bytes calldata proof,
        PreimageContext memory ctx
    )
        internal
        view
        returns (uint32 v0, uint32 a3)
    {
        if (fd == FD_STDIN) return (0, 0);
        if (fd == FD_HINT_READ) return (count, 0);
        if (fd != FD_PREIMAGE_READ) return (SYSCALL_ERROR, EBADF);
        return (_readPreimageIntoMem(state, addr, count, proof, ctx), 0);
    }

    /// @notice Reads up to `count` bytes (at most to the end of the word at `addr`) of the preimage under
    ///         `preimageKey` at `preimageOffset` into memory at `addr`; returns the number of bytes read.
    function _readPreimageIntoMem(
        MIPSState.State memory state,
        uint32 addr,
        uint32 count,
        bytes calldata proof,
        PreimageContext memory ctx
    )
        private
        view
        returns (uint32)
    {
        // Read-modify-write: writeMem checks the proof wordFromProof reads; with n == 0 nothing is
        // written, so the proof is checked by readMem instead.
        uint32 mem = MIPSMemory.wordFromProof(addr & ~uint32(3), proof, DATA_PROOF);
        (bytes32 part, uint256 partLen) = _readPart(state, ctx);
        // unchecked: addr & 3 <= 3, so 4 - (addr & 3) >= 1; preimageOffset + n cannot overflow (offsets
        // are bounded by the 32 KiB preimage limit).
        unchecked {
            uint256 n = _min(_min(count, 4 - (addr & 3)), partLen);
            if (n == 0) {
                MIPSMemory.readMem(state.memRoot, addr & ~uint32(3), proof, DATA_PROOF);
                return 0;
            }
            uint32 newMem = _insertBytes(mem, addr & 3, n, part);
            state.memRoot = MIPSMemory.writeMem(state.memRoot, addr & ~uint32(3), proof, DATA_PROOF, newMem);
            state.preimageOffset += uint32(n);
            return uint32(n);
        }
    }

    /// @notice The oracle's part at `preimageOffset` of the preimage under `preimageKey`, localized first
    ///         if it is a local key.
    function _readPart(
        MIPSState.State memory state,
        PreimageContext memory ctx
    )
        private
        view
        returns (bytes32 part, uint256 partLen)
    {
        bytes32 key = state.preimageKey;
        if (uint8(uint256(key) >> 248) == PreimageKeyLib.LOCAL_KEY_TYPE) {
            key = PreimageKeyLib.localize(key, ctx.caller, ctx.localContext);
        }
        return ctx.oracle.readPreimage(key, state.preimageOffset);
    }

    /// @notice `mem` with its bytes [a, a + n) replaced by the first n bytes of `part` (big-endian).
    function _insertBytes(uint32 mem, uint256 a, uint256 n, bytes32 part) private pure returns (uint32) {
        // unchecked: callers guarantee 1 <= n and a + n <= 4, so every shift is in range.
        unchecked {
            uint256 shift = 8 * (4 - a - n);
            uint256 mask = ((uint256(1) << (8 * n)) - 1) << shift;
            uint256 dat = (uint256(part) >> (256 - 8 * n)) << shift;
            return uint32((uint256(mem) & ~mask) | dat);
        }
    }

    /// @notice `write(fd, addr, count)`: stdout/stderr/hints succeed without effect on chain, fd 6
    ///         shifts up to the rest of the word at `addr` into `preimageKey`.
    function handleSysWrite(
        MIPSState.State memory state,
        uint32 fd,
        uint32 addr,
        uint32 count,
        bytes calldata proof
    )
        internal
        pure
        returns (uint32 v0, uint32 a3)
    {
        if (fd == FD_STDOUT || fd == FD_STDERR || fd == FD_HINT_WRITE) return (count, 0);
        if (fd != FD_PREIMAGE_WRITE) return (SYSCALL_ERROR, EBADF);

        uint32 mem = MIPSMemory.readMem(state.memRoot, addr & ~uint32(3), proof, DATA_PROOF);
        // unchecked: a <= 3 and n <= 4 - a, so every shift is in range; the key shift drops the oldest
        // bytes by design (the key is the last 32 bytes written).
        unchecked {
            uint32 a = addr & 3;
            uint256 n = _min(count, 4 - a);
            uint256 bytesIn = (uint256(mem) >> (8 * (4 - a - n))) & ((uint256(1) << (8 * n)) - 1);
            state.preimageKey = bytes32((uint256(state.preimageKey) << (8 * n)) | bytesIn);
            state.preimageOffset = 0;
            return (uint32(n), 0);
        }
    }

    /// @notice `fcntl(fd, cmd)`: only F_GETFL, answering the access mode of the known descriptors.
    function handleSysFcntl(uint32 fd, uint32 cmd) internal pure returns (uint32 v0, uint32 a3) {
        if (cmd != F_GETFL) return (SYSCALL_ERROR, EINVAL);
        if (fd == FD_STDIN || fd == FD_HINT_READ || fd == FD_PREIMAGE_READ) return (0, 0);
        if (fd == FD_STDOUT || fd == FD_STDERR || fd == FD_HINT_WRITE || fd == FD_PREIMAGE_WRITE) return (1, 0);
        return (SYSCALL_ERROR, EBADF);
    }

    function _min(uint256 x, uint256 y) private pure returns (uint256) {
        return x < y ? x : y;
    }
}
