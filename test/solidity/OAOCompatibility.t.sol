// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IAIOracle} from "../../contracts/interfaces/IAIOracle.sol";
import {IAIOracleCallbackReceiver} from "../../contracts/interfaces/IAIOracleCallbackReceiver.sol";
import {AIOracle} from "../../contracts/oracle/AIOracle.sol";

/// @dev The OAO surface must be ORA's byte for byte: selectors and event topics as literals.
contract OAOCompatibilityTest is Test {
    function test_selectors_matchOAO() public pure {
        assertEq(IAIOracle.requestCallback.selector, bytes4(0x5b953806));
        assertEq(IAIOracle.estimateFee.selector, bytes4(0x00e1d8d0));
        assertEq(IAIOracle.isFinalized.selector, bytes4(0x33727c4d));
        assertEq(IAIOracleCallbackReceiver.aiOracleCallback.selector, bytes4(0xb0347814));
        assertEq(IAIOracleCallbackReceiver.aiOracleCallbackError.selector, bytes4(0x8e6fd006));
        // The implementation exposes the same selectors.
        assertEq(AIOracle.requestCallback.selector, bytes4(0x5b953806));
        assertEq(AIOracle.estimateFee.selector, bytes4(0x00e1d8d0));
        assertEq(AIOracle.isFinalized.selector, bytes4(0x33727c4d));
    }

    function test_eventTopics_matchOAO() public pure {
        assertEq(
            IAIOracle.AICallbackRequest.selector,
            bytes32(0x849aa5adc3bf6a75cb08afbf31d88d1528c274e5d84e3d4355d23d8e9ebd649b)
        );
        assertEq(
            IAIOracle.AICallbackResult.selector,
            bytes32(0xb7b413554c4e94c80cfbb175a0e4727f2f425d29b980195c49dac293c2914fc0)
        );
    }
}
