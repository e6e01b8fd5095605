// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAIOracleCallbackReceiver} from "../interfaces/IAIOracleCallbackReceiver.sol";
import {IAIOracle} from "../interfaces/IAIOracle.sol";
import {ITaskManager} from "../interfaces/ITaskManager.sol";

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

/// @notice Tries to re-enter the oracle and the task manager from its callback and records what happened.
contract ReenteringReceiver is IAIOracleCallbackReceiver {
    IAIOracle public immutable oracle;
    ITaskManager public immutable taskManager;
    bool public requestReentered;
    bool public finalizeReentered;
    bool public deliverReentered;
    uint256 public calls;

    constructor(IAIOracle oracle_, ITaskManager taskManager_) payable {
        oracle = oracle_;
        taskManager = taskManager_;
    }

    function aiOracleCallback(uint256 requestId, bytes calldata, bytes calldata) external {
        calls++;
        // Each attempt must fail; if one succeeds the flag records it.
        try oracle.requestCallback{value: address(this).balance}(1, hex"01", address(this), 100_000, "") {
            requestReentered = true;
        } catch {}
        try taskManager.finalize(requestId) {
            finalizeReentered = true;
        } catch {}
        try taskManager.deliver(requestId) {
            deliverReentered = true;
        } catch {}
    }

    function aiOracleCallbackError(uint256 requestId, uint8, bytes calldata, bytes calldata) external {
        calls++;
        try taskManager.expire(requestId) {
            deliverReentered = true;
        } catch {}
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
