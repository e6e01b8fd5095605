// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IBigStepper } from "../interfaces/IBigStepper.sol";
import { IPreimageOracle } from "../interfaces/IPreimageOracle.sol";

/// @title MIPSStepBatch
/// @notice TEST ONLY (never deployed by ignition/): runs many witnesses through `IBigStepper.step` in one
///         call, so the differential tests can replay whole traces through one `eth_call` per batch.
///         It is the `msg.sender` of every step, so local data the witnesses read must be loaded through
///         `loadLocalData` here (the oracle localizes it to this contract).
contract MIPSStepBatch {
    /// @notice A witness of the batch reverted instead of returning a hash.
    error StepReverted(uint256 index, bytes reason);

    IBigStepper public immutable VM;

    constructor(IBigStepper vm) {
        VM = vm;
    }

    /// @notice Loads local data for this contract (the caller of every step).
    function loadLocalData(
        uint256 ident,
        bytes32 localContext,
        bytes32 word,
        uint256 size,
        uint256 partOffset
    )
        external
        returns (bytes32)
    {
        return VM.oracle().loadLocalData(ident, localContext, word, size, partOffset);
    }

    /// @notice A part of a keccak preimage to load (`loadKeccak256PreimagePart`).
    struct KeccakPart {
        uint256 partOffset;
        bytes preimage;
    }

    /// @notice A part of a local datum to load for this contract (`loadLocalData`).
    struct LocalPart {
        uint256 ident;
        bytes32 word;
        uint256 size;
        uint256 partOffset;
    }

    /// @notice Loads many preimage parts in one transaction: keccak parts (anyone may load them) and
    ///         local data for this contract under `localContext`.
    function loadParts(KeccakPart[] calldata keccakParts, LocalPart[] calldata localParts, bytes32 localContext) external {
        IPreimageOracle o = VM.oracle();
        for (uint256 i = 0; i < keccakParts.length; i++) {
            o.loadKeccak256PreimagePart(keccakParts[i].partOffset, keccakParts[i].preimage);
        }
        for (uint256 i = 0; i < localParts.length; i++) {
            LocalPart calldata l = localParts[i];
            o.loadLocalData(l.ident, localContext, l.word, l.size, l.partOffset);
        }
    }

    /// @notice Steps every `(states[i], proofs[i])` and compares with `expected[i]`.
    /// @return firstMismatch The index of the first witness whose post-state hash differs, or
    ///         `states.length` if all agree.
    /// @return got What `step` returned for that witness.
    /// @dev Reverts with `StepReverted(i, reason)` if a step reverts.
    function check(
        bytes[] calldata states,
        bytes[] calldata proofs,
        bytes32[] calldata expected,
        bytes32 localContext
    )
        external
        returns (uint256 firstMismatch, bytes32 got)
    {
        uint256 n = states.length;
        for (uint256 i = 0; i < n; i++) {
            try VM.step(states[i], proofs[i], localContext) returns (bytes32 post) {
                if (post != expected[i]) return (i, post);
            } catch (bytes memory reason) {
                revert StepReverted(i, reason);
            }
        }
        return (n, bytes32(0));
    }

    /// @notice Steps every `(states[i], proofs[i])` and reports each outcome, reverts included, so a
    ///         differential test can compare failures one for one (the random differential test).
    /// @return ok Whether step i returned.
    /// @return post What step i returned (zero when it reverted).
    /// @return reasons The revert data of step i (empty when it returned).
    function run(
        bytes[] calldata states,
        bytes[] calldata proofs,
        bytes32 localContext
    )
        external
        returns (bool[] memory ok, bytes32[] memory post, bytes[] memory reasons)
    {
        uint256 n = states.length;
        ok = new bool[](n);
        post = new bytes32[](n);
        reasons = new bytes[](n);
        for (uint256 i = 0; i < n; i++) {
            try VM.step(states[i], proofs[i], localContext) returns (bytes32 h) {
                ok[i] = true;
                post[i] = h;
            } catch (bytes memory reason) {
                reasons[i] = reason;
            }
        }
    }
}
