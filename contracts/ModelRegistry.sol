// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelRegistry} from "./interfaces/IModelRegistry.sol";

/// @title ModelRegistry
/// @notice Open registry of model terms, keyed by their hash. Nothing here has an owner.
contract ModelRegistry is IModelRegistry {
    // the fields the market reads at every post share one slot, with the registered flag
    struct Stored {
        VerificationMode mode;
        uint16 auditBps;
        uint128 minCollateral;
        bool registered;
        bytes32 manifestHash;
    }

    mapping(bytes32 modelId => Stored) private _models;

    /// @inheritdoc IModelRegistry
    function registerModel(Model calldata model, string calldata manifestURI) external returns (bytes32 modelId) {
        if (model.manifestHash == bytes32(0) || bytes(manifestURI).length == 0) revert ModelMissingManifest();
        if (model.auditBps > 10_000) revert ModelBadAuditRate(model.auditBps);
        modelId = idOf(model);
        if (_models[modelId].registered) revert ModelAlreadyRegistered(modelId);
        _models[modelId] = Stored(model.mode, model.auditBps, model.minCollateral, true, model.manifestHash);
        emit ModelRegistered(
            modelId, msg.sender, model.manifestHash, model.mode, model.auditBps, model.minCollateral, manifestURI
        );
    }

    /// @inheritdoc IModelRegistry
    function modelOf(bytes32 modelId) external view returns (Model memory) {
        Stored storage m = _models[modelId];
        if (!m.registered) revert ModelUnknown(modelId);
        return Model(m.manifestHash, m.mode, m.auditBps, m.minCollateral);
    }

    /// @inheritdoc IModelRegistry
    function termsOf(bytes32 modelId)
        external
        view
        returns (VerificationMode mode, uint16 auditBps, uint128 minCollateral)
    {
        Stored storage m = _models[modelId];
        if (!m.registered) revert ModelUnknown(modelId);
        return (m.mode, m.auditBps, m.minCollateral);
    }

    /// @inheritdoc IModelRegistry
    function isRegistered(bytes32 modelId) external view returns (bool) {
        return _models[modelId].registered;
    }

    /// @inheritdoc IModelRegistry
    function idOf(Model calldata model) public pure returns (bytes32) {
        return keccak256(abi.encode(model));
    }
}
