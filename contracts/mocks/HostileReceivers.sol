// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAIOracleCallbackReceiver} from "../interfaces/IAIOracleCallbackReceiver.sol";
import {IAIOracleExtended} from "../interfaces/IAIOracleExtended.sol";
import {ITaskManager} from "../interfaces/ITaskManager.sol";
import {GraphCommitments} from "../lib/GraphCommitments.sol";
import {ClaimOpening, GameWinner} from "../lib/Types.sol";

// Test-only callback contracts that misbehave in every way a callback can; the tests prove each harmless.

/// @notice Reverts every callback with a message.
contract RevertingReceiver is IAIOracleCallbackReceiver {
    function aiOracleCallback(uint256, bytes calldata, bytes calldata) external pure {
        revert("RevertingReceiver: no");
    }

    function aiOracleCallbackError(uint256, uint8, bytes calldata, bytes calldata) external pure {
        revert("RevertingReceiver: no");
    }
}

/// @notice Loops until it runs out of gas.
contract GasBurningReceiver is IAIOracleCallbackReceiver {
    uint256 public counter;

    function aiOracleCallback(uint256, bytes calldata, bytes calldata) external {
        while (true) counter++;
    }

    function aiOracleCallbackError(uint256, uint8, bytes calldata, bytes calldata) external {
        while (true) counter++;
    }
}

/// @notice Returns (or reverts with) `size` bytes of data, to make a careless caller copy it.
contract ReturnBombReceiver is IAIOracleCallbackReceiver {
    uint256 public immutable size;
    bool public immutable revertWithIt;

    constructor(uint256 size_, bool revertWithIt_) {
        size = size_;
        revertWithIt = revertWithIt_;
    }

    function aiOracleCallback(uint256, bytes calldata, bytes calldata) external view {
        _bomb();
    }

    function aiOracleCallbackError(uint256, uint8, bytes calldata, bytes calldata) external view {
        _bomb();
    }

    function _bomb() private view {
        uint256 n = size;
        bool r = revertWithIt;
        assembly {
            if r { revert(0, n) }
            return(0, n)
        }
    }
}

/// @notice Tries every lifecycle re-entry from inside its callbacks (result and error) and records what happened:
/// commit, challenge, releaseChallenge, resolveGame, finalize, deliver (a second delivery of the same request),
/// expire on the task manager, and withdraw, deliver, settle, refund on the oracle. Each must fail; `reentered`
/// counts the ones that did not, and each attempt is logged with its revert data (`ReentryAttempt`; events, not
/// storage, so that the whole round fits an ordinary 200k callback).
/// Optionally it also makes a new request from the callback (allowed: ORA's nested inference), to show that the
/// one thing a callback may do does not open any of the others.
contract ReenteringReceiver is IAIOracleCallbackReceiver {
    IAIOracleExtended public immutable oracle;
    ITaskManager public immutable taskManager;
    uint256 public calls;
    /// @notice Attempts that went through (must stay 0).
    uint256 public reentered;
    /// @notice Ids of the requests this receiver made from inside a callback.
    uint256[] public nestedRequests;

    event ReentryAttempt(string name, bool succeeded, bytes returnData);

    uint256 public nestedModelId;
    bytes public nestedInput;

    constructor(IAIOracleExtended oracle_, ITaskManager taskManager_) payable {
        oracle = oracle_;
        taskManager = taskManager_;
    }

    /// @notice From now on, every callback first makes a request for `modelId` with `input` (0: none).
    function setNestedRequest(uint256 modelId, bytes calldata input) external {
        nestedModelId = modelId;
        nestedInput = input;
    }

    /// @notice The names of the attempts each callback makes, in order.
    function attempted() external pure returns (string[12] memory) {
        return [
            "commit",
            "challenge",
            "releaseChallenge",
            "resolveGame",
            "finalize",
            "deliver",
            "expire",
            "expireNewest",
            "withdraw",
            "oracleDeliver",
            "oracleSettle",
            "oracleRefund"
        ];
    }

    function nestedRequestCount() external view returns (uint256) {
        return nestedRequests.length;
    }

    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata) external {
        calls++;
        _nested();
        _attemptAll(requestId, output);
    }

    function aiOracleCallbackError(uint256 requestId, uint8, bytes calldata, bytes calldata) external {
        calls++;
        _nested();
        _attemptAll(requestId, hex"01");
    }

    function _nested() private {
        if (nestedModelId == 0) return;
        uint256 fee = oracle.estimateFee(nestedModelId, 1_000_000);
        nestedRequests.push(oracle.requestCallback{value: fee}(nestedModelId, nestedInput, address(this), 1_000_000, ""));
    }

    function _attemptAll(uint256 requestId, bytes memory output) private {
        GraphCommitments.ClaimProof memory proof;
        proof.traceRoot = keccak256("hostile");
        // The newest request (the nested one if made here): committing to it from inside a callback is forbidden too.
        uint256 newest = oracle.requestCount();
        _try("commit", address(taskManager), abi.encodeCall(ITaskManager.commit, (newest, output, proof)));
        _try("challenge", address(taskManager), abi.encodeCall(ITaskManager.challenge, (requestId, hex"99", proof, ClaimOpening(bytes32(0), bytes32(0)))));
        _try("releaseChallenge", address(taskManager), abi.encodeCall(ITaskManager.releaseChallenge, (1)));
        _try("resolveGame", address(taskManager), abi.encodeCall(ITaskManager.resolveGame, (GameWinner.Challenger)));
        _try("finalize", address(taskManager), abi.encodeCall(ITaskManager.finalize, (requestId)));
        _try("deliver", address(taskManager), abi.encodeCall(ITaskManager.deliver, (requestId)));
        _try("expire", address(taskManager), abi.encodeCall(ITaskManager.expire, (requestId)));
        _try("expireNewest", address(taskManager), abi.encodeCall(ITaskManager.expire, (newest)));
        _try("withdraw", address(oracle), abi.encodeCall(IAIOracleExtended.withdraw, (payable(address(this)))));
        _try("oracleDeliver", address(oracle), abi.encodeCall(IAIOracleExtended.deliver, (requestId, output, address(this))));
        _try("oracleSettle", address(oracle), abi.encodeCall(IAIOracleExtended.settle, (requestId, address(this), address(this))));
        _try("oracleRefund", address(oracle), abi.encodeCall(IAIOracleExtended.refund, (requestId, address(this), uint8(2))));
    }

    function _try(string memory name, address target, bytes memory data) private {
        (bool ok, bytes memory ret) = target.call(data);
        if (ok) reentered++;
        emit ReentryAttempt(name, ok, ret);
    }

    receive() external payable {}
}

/// @notice Records the gas it was given, then burns all of it (a griefer that also makes the executor pay for
/// its whole gas limit).
contract GasGriefingReceiver is IAIOracleCallbackReceiver {
    uint256 public gasAtEntry;
    bool public burn;

    function setBurn(bool burn_) external {
        burn = burn_;
    }

    function aiOracleCallback(uint256, bytes calldata, bytes calldata) external {
        gasAtEntry = gasleft();
        if (burn) {
            assembly {
                invalid()
            }
        }
    }

    function aiOracleCallbackError(uint256, uint8, bytes calldata, bytes calldata) external {
        gasAtEntry = gasleft();
    }
}

/// @notice From its callback, tries {ITaskManager.finalizeMany} and {ITaskManager.finalize} of a target request (set
/// with `setTarget`) and counts the ones that went through: both must fail, and the batch it runs in must go on.
contract BatchReenteringReceiver is IAIOracleCallbackReceiver {
    ITaskManager public immutable taskManager;
    uint256 public target;
    uint256 public calls;
    /// @notice Re-entries that went through (must stay 0).
    uint256 public reentered;

    constructor(ITaskManager taskManager_) {
        taskManager = taskManager_;
    }

    function setTarget(uint256 requestId) external {
        target = requestId;
    }

    function aiOracleCallback(uint256, bytes calldata, bytes calldata) external {
        calls++;
        uint256[] memory ids = new uint256[](1);
        ids[0] = target;
        (bool ok,) = address(taskManager).call(abi.encodeCall(ITaskManager.finalizeMany, (ids)));
        if (ok) reentered++;
        (ok,) = address(taskManager).call(abi.encodeCall(ITaskManager.finalize, (target)));
        if (ok) reentered++;
    }

    function aiOracleCallbackError(uint256, uint8, bytes calldata, bytes calldata) external {}
}
