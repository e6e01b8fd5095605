// SPDX-License-Identifier: MIT
pragma solidity ^0.8.9;

/// @dev ORA's published OAO interface as an ORA consumer declares it (ORA's `IAIOracle`: the two events, the three
/// functions a consumer calls), and ORA's two receiver bases (`AIOracleCallbackReceiver`, and the payable one of
/// ORA's interaction template), written here from their published shapes. Renamed (Ora…) only so that their
/// artifact names do not collide with this project's own `IAIOracle` and `AIOracleCallbackReceiver`; nothing from
/// this project is imported. Used by test/e2e/ora-consumers-devnet.test.ts against `oao devnet`.
interface OraIAIOracle {
    event AICallbackRequest(
        address indexed account,
        uint256 indexed requestId,
        uint256 modelId,
        bytes input,
        address callbackContract,
        uint64 gasLimit,
        bytes callbackData
    );

    event AICallbackResult(address indexed account, uint256 indexed requestId, address invoker, bytes output);

    function requestCallback(
        uint256 modelId,
        bytes memory input,
        address callbackContract,
        uint64 gasLimit,
        bytes memory callbackData
    ) external payable returns (uint256);

    function estimateFee(uint256 modelId, uint256 gasLimit) external view returns (uint256);

    function isFinalized(uint256 requestId) external view returns (bool);
}

/// @dev ORA's `AIOracleCallbackReceiver`: binds the oracle, checks the callback's sender, declares the callback.
abstract contract OraCallbackReceiver {
    OraIAIOracle public immutable aiOracle;

    error UnauthorizedCallbackSource(OraIAIOracle expected, OraIAIOracle found);

    constructor(OraIAIOracle _aiOracle) {
        aiOracle = _aiOracle;
    }

    modifier onlyAIOracleCallback() {
        if (OraIAIOracle(msg.sender) != aiOracle) revert UnauthorizedCallbackSource(aiOracle, OraIAIOracle(msg.sender));
        _;
    }

    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata callbackData) external virtual;
}

/// @dev The payable receiver of ORA's interaction template (its nested-inference example inherits it): the same
/// check, a payable callback, and `isFinalized` forwarded to the oracle.
abstract contract OraCallbackReceiverPayable {
    OraIAIOracle public immutable aiOracle;

    error UnauthorizedCallbackSource(OraIAIOracle expected, OraIAIOracle found);

    constructor(OraIAIOracle _aiOracle) {
        aiOracle = _aiOracle;
    }

    modifier onlyAIOracleCallback() {
        if (OraIAIOracle(msg.sender) != aiOracle) revert UnauthorizedCallbackSource(aiOracle, OraIAIOracle(msg.sender));
        _;
    }

    function aiOracleCallback(uint256 requestId, bytes calldata output, bytes calldata callbackData)
        external
        payable
        virtual;

    function isFinalized(uint256 requestId) external view returns (bool) {
        return aiOracle.isFinalized(requestId);
    }
}
