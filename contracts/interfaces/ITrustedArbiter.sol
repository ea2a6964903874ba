// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IArbiter} from "./IArbiter.sol";

/// @title ITrustedArbiter
/// @notice An arbiter run by one key (its owner), for early testnets: the owner re-runs the
/// disputed job off-chain and rules. It cannot move anyone's funds: it only chooses which
/// results are valid, before the market's dispute deadline; past it the market refunds the
/// requester and slashes nobody. Its share of forfeits is collected by the owner.
interface ITrustedArbiter is IArbiter {
    /// @notice Raised when `caller` is not the market.
    error ArbiterNotMarket(address caller);
    /// @notice Raised when the market opens a second dispute for `jobId`.
    error ArbiterDisputeExists(uint256 jobId);
    /// @notice Raised when `jobId` has no open dispute here.
    error ArbiterUnknownDispute(uint256 jobId);
    /// @notice Raised on a zero market address.
    error ArbiterBadConfig();

    /// @notice Emitted when the market opens a dispute; everything a verifier needs to re-run the job.
    event DisputeOpened(
        uint256 indexed jobId,
        bytes32 indexed modelId,
        bytes32 inputHash,
        address[] workers,
        bytes32[] resultHashes,
        uint64 deadline
    );
    /// @notice Emitted when the owner rules on `jobId`; `reward` is the share credited by the market.
    event DisputeRuled(uint256 indexed jobId, uint256 validMask, uint256 reward);
    /// @notice Emitted when the owner collects `amount` of rewards to `to`.
    event RewardsCollected(address indexed to, uint256 amount);

    /// @notice Rules on `jobId`: bit `i` of `validMask` set when slot `i`'s result is valid. Owner only.
    /// @param jobId the disputed job
    /// @param validMask one bit per slot
    function rule(uint256 jobId, uint256 validMask) external;

    /// @notice Withdraws this arbiter's market balance and sends it to `to`. Owner only.
    /// @param to the receiver
    function collect(address payable to) external;

    /// @notice The dispute deadline of `jobId` (zero when no dispute was opened).
    /// @param jobId the job
    /// @return the timestamp by which a ruling must reach the market
    function deadlineOf(uint256 jobId) external view returns (uint64);
}
