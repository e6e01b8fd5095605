// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {Model, ModelParams} from "../lib/Types.sol";
import {
    FeeShareTooHigh,
    ModelIsDeprecated,
    NotModelOwner,
    UnknownModel,
    ZeroAbsolutePrestate,
    ZeroFeeReceiver,
    ZeroModelRoot,
    ZeroNodeCount
} from "../lib/Errors.sol";

/// @title ModelRegistry
/// @notice Immutable models: registered by anyone, deprecated (never changed) by their owner.
abstract contract ModelRegistry is IModelRegistry {
    uint16 internal constant BPS = 10_000;

    mapping(uint256 modelId => Model) private _models;
    uint256 private _modelCount;

    /// @inheritdoc IModelRegistry
    function registerModel(ModelParams calldata params) external returns (uint256 modelId) {
        if (params.modelRoot == bytes32(0)) revert ZeroModelRoot();
        if (params.absolutePrestate == bytes32(0)) revert ZeroAbsolutePrestate();
        if (params.nodeCount == 0) revert ZeroNodeCount();
        if (params.feeShareBps > BPS) revert FeeShareTooHigh(params.feeShareBps);
        if (params.feeShareBps != 0 && params.feeReceiver == address(0)) revert ZeroFeeReceiver(params.feeShareBps);

        modelId = ++_modelCount;
        _models[modelId] = Model({
            owner: msg.sender,
            nodeCount: params.nodeCount,
            feeShareBps: params.feeShareBps,
            deprecated: false,
            feeReceiver: params.feeReceiver,
            fee: params.fee,
            modelRoot: params.modelRoot,
            absolutePrestate: params.absolutePrestate,
            metadataURI: params.metadataURI
        });
        emit ModelRegistered(
            modelId,
            msg.sender,
            params.modelRoot,
            params.absolutePrestate,
            params.nodeCount,
            params.fee,
            params.feeReceiver,
            params.feeShareBps,
            params.metadataURI
        );
    }

    /// @inheritdoc IModelRegistry
    function deprecateModel(uint256 modelId) external {
        Model storage model = _existingModel(modelId);
        if (model.owner != msg.sender) revert NotModelOwner(modelId, msg.sender, model.owner);
        if (model.deprecated) revert ModelIsDeprecated(modelId);
        model.deprecated = true;
        emit ModelDeprecated(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getModel(uint256 modelId) external view returns (Model memory) {
        return _existingModel(modelId);
    }

    /// @inheritdoc IModelRegistry
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }

    /// @dev The model, reverting UnknownModel for ids never registered.
    function _existingModel(uint256 modelId) internal view returns (Model storage model) {
        model = _models[modelId];
        if (model.owner == address(0)) revert UnknownModel(modelId);
    }

    /// @dev The model if it takes new requests.
    function _activeModel(uint256 modelId) internal view returns (Model storage model) {
        model = _existingModel(modelId);
        if (model.deprecated) revert ModelIsDeprecated(modelId);
    }
}
