// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Model, ModelParams} from "../lib/Types.sol";
import {GraphCommitments} from "../lib/GraphCommitments.sol";

/// @title IModelRegistry
/// @notice Anyone registers an immutable model and gets its id. A model is never changed; a new version is a
/// new model id. Its owner may deprecate it (no new requests).
interface IModelRegistry {
    event ModelRegistered(
        uint256 indexed modelId,
        address indexed owner,
        bytes32 modelRoot,
        bytes32 absolutePrestate,
        uint32 nodeCount,
        uint96 fee,
        address feeReceiver,
        uint16 feeShareBps,
        string metadataURI
    );
    event ModelDeprecated(uint256 indexed modelId);
    /// @notice The model's fee is paid in `token` (emitted right after its ModelRegistered).
    event ModelFeeToken(uint256 indexed modelId, address indexed token);

    /// @notice Register a model from its descriptor (docs/protocol.md §3.3); the caller becomes its owner. Ids
    /// start at 1. `modelRoot = keccak256(descriptor)`; the node count, weights root and tensor headers are
    /// decoded from it and kept for the claim checks (§3.5) and the dispute game.
    /// @dev Reverts with InvalidModelDescriptor, InvalidNodeCount, InvalidTensorHeader (GraphCommitments),
    /// ModelInputTooLarge (an input above MAX_INPUT_BYTES = 32768 bytes, 8 chunks; a text model's context above 4096), ZeroAbsolutePrestate, FeeShareTooHigh or
    /// ZeroFeeReceiver.
    function registerModel(ModelParams calldata params) external returns (uint256 modelId);

    /// @notice {registerModel} for a model whose `params.fee` is paid in the ERC20 `feeToken` (ORA's token-priced
    /// models): requests pull it with `transferFrom` from the requester, who approves the oracle first; callback
    /// and protocol fees stay in wei (docs/protocol.md §1.5). Reverts ZeroAddress, FeeTokenNotContract(token).
    function registerModelWithFeeToken(ModelParams calldata params, address feeToken) external returns (uint256 modelId);

    /// @notice The ERC20 a model's fee is paid in; address(0) for a model priced in wei. Reverts UnknownModel.
    function modelFeeToken(uint256 modelId) external view returns (address);

    /// @notice Stop new requests to a model. Only its owner; irreversible.
    function deprecateModel(uint256 modelId) external;

    /// @notice A registered model. Reverts UnknownModel for an id never registered.
    function getModel(uint256 modelId) external view returns (Model memory);

    /// @notice What the chain keeps from a model's descriptor (modelRoot, n, W, graphRoot, weightsRoot,
    /// metadataHash, input and output tensor headers). Reverts UnknownModel.
    function getModelCommitment(uint256 modelId) external view returns (GraphCommitments.ModelCommitment memory);

    /// @notice The part of a model's commitment that the §3.5 checks of a claim read (its node count, input mode,
    /// weights root and tensor headers; no input header for a text model): fewer storage reads than
    /// {getModelCommitment} on every commit and challenge. Reverts UnknownModel.
    function getClaimModel(uint256 modelId) external view returns (GraphCommitments.ClaimModel memory);

    /// @notice Number of models registered (the highest id).
    function modelCount() external view returns (uint256);
}
