// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IArbiter
/// @notice What the market asks of an arbiter. The market opens a dispute when a result is
/// challenged, drawn for a random audit, or when redundant workers disagree; the arbiter decides
/// which revealed results are valid and answers with `IArbiterMarket.rule` before
/// `deadline`. The market does not know how the arbiter decides (a committee of staked
/// verifiers, or a trusted key on early testnets). If no ruling arrives in time the market
/// settles without one: the requester is refunded and nobody is slashed.
interface IArbiter {
    /// @notice Opens a dispute over job `jobId`. Market only.
    /// @param jobId the disputed job
    /// @param modelId the job's model (verifiers re-run it, with its manifest's tolerance)
    /// @param inputHash keccak256 of the job's input
    /// @param workers the workers whose results are judged, one per slot (zero for empty slots)
    /// @param resultHashes their revealed result hashes (zero when a slot revealed nothing)
    /// @param deadline the timestamp by which the ruling must reach the market
    function openDispute(
        uint256 jobId,
        bytes32 modelId,
        bytes32 inputHash,
        address[] calldata workers,
        bytes32[] calldata resultHashes,
        uint64 deadline
    ) external;
}

/// @title IArbiterMarket
/// @notice The market's side of a dispute, called by the arbiter.
interface IArbiterMarket {
    /// @notice Delivers the ruling on `jobId`: bit `i` of `validMask` is set when slot `i`'s result
    /// is valid. Arbiter only, while the job is disputed and before its dispute deadline.
    /// @param jobId the disputed job
    /// @param validMask one bit per slot, set for valid results
    /// @return reward the wei credited to the arbiter's market balance (its share of what the
    /// losers forfeit); withdraw it with `withdraw(address(0))`
    function rule(uint256 jobId, uint256 validMask) external returns (uint256 reward);
}
