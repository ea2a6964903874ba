// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IModelRegistry
/// @notice Models that jobs may name. A model's id is the hash of its on-chain terms, which
/// include the hash of its full manifest (weights digest, runtime, tokenizer, tolerance), so a
/// worker cannot silently swap weights and nobody can change a model's terms after the fact.
/// Registration is open to anyone: the id commits to everything, so there is nothing to squat.
interface IModelRegistry {
    /// @notice How verifiers compare a claimed result with their own run of the model.
    /// `Exact`: hashes must match. The others tolerate hardware nondeterminism: `Embedding`
    /// (cosine similarity above the manifest's threshold), `LlmGreedy` (teacher-forced token
    /// check), `Classifier` (label equal, probabilities within tolerance).
    enum VerificationMode {
        Exact,
        Embedding,
        LlmGreedy,
        Classifier
    }

    /// @notice A model's on-chain terms; `modelId = keccak256(abi.encode(model))`.
    /// @param manifestHash keccak256 of the canonical manifest document
    /// @param mode how results are verified
    /// @param auditBps probability, in basis points, that a revealed result is audited
    /// @param minCollateral the least collateral per slot a job of this model locks, in wei
    struct Model {
        bytes32 manifestHash;
        VerificationMode mode;
        uint16 auditBps;
        uint128 minCollateral;
    }

    /// @notice Raised when a model's manifest hash is zero or its URI empty.
    error ModelMissingManifest();
    /// @notice Raised when `auditBps` exceeds 10,000.
    error ModelBadAuditRate(uint256 auditBps);
    /// @notice Raised when `modelId` is registered already.
    error ModelAlreadyRegistered(bytes32 modelId);
    /// @notice Raised when `modelId` is not registered.
    error ModelUnknown(bytes32 modelId);

    /// @notice Emitted when a model is registered; `manifestURI` is where its manifest is published.
    event ModelRegistered(
        bytes32 indexed modelId,
        address indexed registrant,
        bytes32 manifestHash,
        VerificationMode mode,
        uint16 auditBps,
        uint128 minCollateral,
        string manifestURI
    );

    /// @notice Registers `model`, publishing where its manifest can be fetched.
    /// @param model the model's on-chain terms
    /// @param manifestURI where the manifest document (whose keccak256 is `manifestHash`) lives
    /// @return modelId `keccak256(abi.encode(model))`
    function registerModel(Model calldata model, string calldata manifestURI) external returns (bytes32 modelId);

    /// @notice The terms of a registered model; reverts with `ModelUnknown` otherwise.
    /// @param modelId the model's id
    /// @return the model's terms
    function modelOf(bytes32 modelId) external view returns (Model memory);

    /// @notice What a job of a registered model copies into its terms (one storage read, for the
    /// market's post); reverts with `ModelUnknown` otherwise.
    /// @param modelId the model's id
    /// @return mode how results are compared
    /// @return auditBps the audit probability in basis points
    /// @return minCollateral the collateral floor per slot, in wei
    function termsOf(bytes32 modelId)
        external
        view
        returns (VerificationMode mode, uint16 auditBps, uint128 minCollateral);

    /// @notice Whether `modelId` is registered.
    /// @param modelId the model's id
    /// @return true when registered
    function isRegistered(bytes32 modelId) external view returns (bool);

    /// @notice The id a model with these terms has (or would have once registered).
    /// @param model the model's on-chain terms
    /// @return the model's id
    function idOf(Model calldata model) external pure returns (bytes32);
}
