// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelRegistry} from "./interfaces/IModelRegistry.sol";

/// @title ModelRegistry
/// @notice Open registry of model terms, keyed by their hash. Nothing here has an owner.
contract ModelRegistry is IModelRegistry {
    mapping(bytes32 modelId => Model) private _models;

    /// @inheritdoc IModelRegistry
    function registerModel(Model calldata model, string calldata manifestURI) external returns (bytes32 modelId) {
        if (model.manifestHash == bytes32(0) || bytes(manifestURI).length == 0) revert ModelMissingManifest();
        if (model.auditBps > 10_000) revert ModelBadAuditRate(model.auditBps);
        modelId = idOf(model);
        if (_models[modelId].manifestHash != bytes32(0)) revert ModelAlreadyRegistered(modelId);
        _models[modelId] = model;
        emit ModelRegistered(
            modelId, msg.sender, model.manifestHash, model.mode, model.auditBps, model.minCollateral, manifestURI
        );
    }

    /// @inheritdoc IModelRegistry
    function modelOf(bytes32 modelId) external view returns (Model memory model) {
        model = _models[modelId];
        if (model.manifestHash == bytes32(0)) revert ModelUnknown(modelId);
    }

    /// @inheritdoc IModelRegistry
    function isRegistered(bytes32 modelId) external view returns (bool) {
        return _models[modelId].manifestHash != bytes32(0);
    }

    /// @inheritdoc IModelRegistry
    function idOf(Model calldata model) public pure returns (bytes32) {
        return keccak256(abi.encode(model));
    }
}
