// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Failures of one VM step (docs/protocol.md §4). A failing step reverts; a valid trace never contains one.

/// @notice The packed state is not 226 bytes, `exited` is not 0/1, or `registers[0]` is not 0.
error InvalidState();
/// @notice `proof` holds fewer bytes than the step needs (896 per memory proof).
error InvalidProofLength(uint256 expected, uint256 actual);
/// @notice A memory proof does not open to the pre-state's memory root.
error InvalidMemoryProof();
/// @notice An instruction fetch or an aligned-only access at a misaligned address.
error UnalignedAccess(uint32 addr);
/// @notice An encoding outside the supported instruction set (§4.4).
error InvalidInstruction(uint32 insn);
/// @notice A syscall number outside §4.6.
error InvalidSyscall(uint32 number);
/// @notice `div`/`divu` by zero.
error DivisionByZero();
/// @notice `teq`/`tne` whose condition holds.
error Trap();
/// @notice A branch or jump in a delay slot (`nextPC != pc + 4`).
error JumpInDelaySlot();
