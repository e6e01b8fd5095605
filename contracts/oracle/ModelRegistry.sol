// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {Model, ModelParams} from "../lib/Types.sol";
import {GraphCommitments} from "../lib/GraphCommitments.sol";
import {
    FeeShareTooHigh,
    FeeTokenNotContract,
    InvalidTextInputHeader,
    ModelInputTooLarge,
    ModelIsDeprecated,
    NotModelOwner,
    UnknownModel,
    ZeroAbsolutePrestate,
    ZeroAddress,
    ZeroFeeReceiver
} from "../lib/Errors.sol";

/// @title ModelRegistry
/// @notice Immutable models: registered by anyone, deprecated (never changed) by their owner.
abstract contract ModelRegistry is IModelRegistry {
    uint16 internal constant BPS = 10_000;

    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 modelId => GraphCommitments.ModelCommitment) private _commitments;
    mapping(uint256 modelId => address) private _feeTokens;
    uint256 private _modelCount;

    /// @inheritdoc IModelRegistry
    function registerModel(ModelParams calldata params) external returns (uint256 modelId) {
        return _register(params, address(0));
    }

    /// @inheritdoc IModelRegistry
    function registerModelWithFeeToken(ModelParams calldata params, address feeToken) external returns (uint256 modelId) {
        if (feeToken == address(0)) revert ZeroAddress();
        if (feeToken.code.length == 0) revert FeeTokenNotContract(feeToken);
        modelId = _register(params, feeToken);
    }

    /// @inheritdoc IModelRegistry
    function modelFeeToken(uint256 modelId) external view returns (address) {
        _existingModel(modelId);
        return _feeTokens[modelId];
    }

    function _register(ModelParams calldata params, address feeToken) private returns (uint256 modelId) {
        // Decoding checks the descriptor (magic, version, n >= 1, both tensor headers) and hashes it to modelRoot.
        GraphCommitments.ModelCommitment memory c = GraphCommitments.decodeModelDescriptor(params.descriptor);
        uint256 inputBytes = GraphCommitments.tensorByteLength(c.inputHeader);
        // A request's input is in its calldata and hashed on chain (docs/protocol.md §1.3): at most 8 chunks; a text
        // model's context (its longest prompt) at most one.
        uint256 maxInputBytes =
            c.inputMode == GraphCommitments.INPUT_MODE_TEXT ? GraphCommitments.CHUNK_BYTES : GraphCommitments.MAX_INPUT_BYTES;
        if (inputBytes > maxInputBytes) revert ModelInputTooLarge(inputBytes, maxInputBytes);
        // A text model's prompt is int8 [L], 1 <= L <= C: its header must be int8 [C] (docs/protocol.md §3.3).
        if (
            c.inputMode == GraphCommitments.INPUT_MODE_TEXT
                && (uint8(c.inputHeader[0]) != GraphCommitments.DTYPE_INT8 || uint8(c.inputHeader[1]) != 1)
        ) revert InvalidTextInputHeader(c.inputHeader);
        if (params.absolutePrestate == bytes32(0)) revert ZeroAbsolutePrestate();
        if (params.feeShareBps > BPS) revert FeeShareTooHigh(params.feeShareBps);
        if (params.feeShareBps != 0 && params.feeReceiver == address(0)) revert ZeroFeeReceiver(params.feeShareBps);

        modelId = ++_modelCount;
        _models[modelId] = Model({
            owner: msg.sender,
            nodeCount: c.nodeCount,
            feeShareBps: params.feeShareBps,
            deprecated: false,
            // inputBytes <= MAX_INPUT_BYTES = 32768 (checked above): fits.
            inputBytes: uint16(inputBytes),
            inputMode: c.inputMode,
            feeInToken: feeToken != address(0),
            feeReceiver: params.feeReceiver,
            fee: params.fee,
            modelRoot: c.modelRoot,
            absolutePrestate: params.absolutePrestate,
            metadataURI: params.metadataURI
        });
        _commitments[modelId] = c;
        emit ModelRegistered(
            modelId,
            msg.sender,
            c.modelRoot,
            params.absolutePrestate,
            c.nodeCount,
            params.fee,
            params.feeReceiver,
            params.feeShareBps,
            params.metadataURI
        );
        if (feeToken != address(0)) {
            _feeTokens[modelId] = feeToken;
            emit ModelFeeToken(modelId, feeToken);
        }
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
    function getModelCommitment(uint256 modelId) external view returns (GraphCommitments.ModelCommitment memory) {
        _existingModel(modelId);
        return _commitments[modelId];
    }

    /// @inheritdoc IModelRegistry
    function getClaimModel(uint256 modelId) external view returns (GraphCommitments.ClaimModel memory m) {
        GraphCommitments.ModelCommitment storage c = _commitments[modelId];
        m.nodeCount = c.nodeCount;
        // Every registered model has nodes (decodeModelDescriptor): the slot read anyway tells registered ids apart.
        if (m.nodeCount == 0) revert UnknownModel(modelId);
        m.inputMode = c.inputMode;
        m.weightsRoot = c.weightsRoot;
        if (m.inputMode != GraphCommitments.INPUT_MODE_TEXT) m.inputHeader = c.inputHeader;
        m.outputHeader = c.outputHeader;
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

    /// @dev The fee token of a token-priced model (address(0) otherwise).
    function _feeTokenOf(uint256 modelId) internal view returns (address) {
        return _feeTokens[modelId];
    }

    /// @dev The model if it takes new requests.
    function _activeModel(uint256 modelId) internal view returns (Model storage model) {
        model = _existingModel(modelId);
        if (model.deprecated) revert ModelIsDeprecated(modelId);
    }
}
