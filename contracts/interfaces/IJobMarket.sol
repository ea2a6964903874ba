// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStakingRegistry} from "./IStakingRegistry.sol";

/// @title IJobMarket
/// @notice Escrow and state machine for Assay inference jobs paid in native ETH.
/// A requester posts a job with its reward; a staked worker claims it (locking collateral),
/// submits the hash and URI of its result, and is paid once the challenge window has passed.
/// A job nobody claimed, or whose worker missed its result deadline, is refunded to the
/// requester together with the worker's slashed collateral. All payouts are pull payments.
interface IJobMarket {
    /// @notice The stored lifecycle of a job. Time-based phases are derived by `phaseOf`.
    enum JobStatus {
        None,
        Open,
        Claimed,
        Submitted,
        Finalized,
        Refunded,
        Cancelled
    }

    /// @notice The lifecycle of a job including time-derived phases, for clients.
    /// `Expired` means refundable: unclaimed past its claim deadline, or claimed and past its
    /// result deadline without a result. `Finalizable` means submitted and past the challenge window.
    enum JobPhase {
        None,
        Open,
        Claimed,
        Submitted,
        Finalizable,
        Expired,
        Finalized,
        Refunded,
        Cancelled
    }

    /// @notice A job as stored; packed into five slots.
    struct Job {
        address requester;
        uint40 claimDeadline;
        uint40 resultDeadline;
        JobStatus status;
        address worker;
        uint40 challengeEnd;
        uint128 reward;
        uint128 collateral;
        bytes32 modelId;
        bytes32 resultHash;
    }

    /// @notice Raised when `jobId` is in `current` but the call needs `expected`.
    error MarketWrongStatus(uint256 jobId, JobStatus current, JobStatus expected);
    /// @notice Raised when a job is posted without reward.
    error MarketZeroReward();
    /// @notice Raised when a reward does not fit in 128 bits.
    error MarketRewardTooLarge(uint256 reward);
    /// @notice Raised unless now < claimDeadline < resultDeadline (and both fit in 40 bits).
    error MarketBadDeadlines(uint256 claimDeadline, uint256 resultDeadline, uint256 timestamp);
    /// @notice Raised when a job has neither inline input nor an input URI, or a zero input hash.
    error MarketMissingInput();
    /// @notice Raised when inline input is longer than `max` bytes.
    error MarketInputTooLarge(uint256 size, uint256 max);
    /// @notice Raised when a job is claimed after its claim deadline.
    error MarketClaimClosed(uint256 jobId, uint256 claimDeadline);
    /// @notice Raised when a result arrives after the result deadline.
    error MarketResultLate(uint256 jobId, uint256 resultDeadline);
    /// @notice Raised when a result hash is zero.
    error MarketZeroResultHash();
    /// @notice Raised when `caller` is not the job's worker.
    error MarketNotWorker(uint256 jobId, address caller);
    /// @notice Raised when `caller` is not the job's requester.
    error MarketNotRequester(uint256 jobId, address caller);
    /// @notice Raised when finalizing before the challenge window ends at `challengeEnd`.
    error MarketChallengeWindowOpen(uint256 jobId, uint256 challengeEnd);
    /// @notice Raised when refunding a job before `refundableAfter` (its pending deadline).
    error MarketNotRefundable(uint256 jobId, JobStatus status, uint256 refundableAfter);
    /// @notice Raised when `account` withdraws with a zero balance.
    error MarketNothingToWithdraw(address account);
    /// @notice Raised when ETH arrives from anyone but the staking registry.
    error MarketUnexpectedETH(address sender);
    /// @notice Raised by the constructor when a parameter is out of its hard-coded bounds.
    error MarketBadConfig();

    /// @notice Emitted once by the constructor with the market's fixed configuration.
    event MarketConfigured(
        address indexed staking,
        address indexed treasury,
        uint16 feeBps,
        uint16 collateralBps,
        uint128 minCollateral,
        uint64 challengeWindow
    );
    /// @notice Emitted when a job is posted. `input` is empty when the input lives at `inputURI`.
    event JobPosted(
        uint256 indexed jobId,
        address indexed requester,
        bytes32 indexed modelId,
        uint256 reward,
        uint64 claimDeadline,
        uint64 resultDeadline,
        bytes32 inputHash,
        bytes input,
        string inputURI
    );
    /// @notice Emitted when `worker` claims a job, locking `collateral` of its stake.
    event JobClaimed(uint256 indexed jobId, address indexed worker, uint256 collateral);
    /// @notice Emitted when the worker submits its result; it can be finalized after `challengeEnd`.
    event ResultSubmitted(
        uint256 indexed jobId, address indexed worker, bytes32 resultHash, string resultURI, uint64 challengeEnd
    );
    /// @notice Emitted when a job is paid out: `workerPay` to the worker, `fee` to the treasury.
    event JobFinalized(uint256 indexed jobId, address indexed worker, uint256 workerPay, uint256 fee);
    /// @notice Emitted when a job is refunded: `amount` credited to the requester, of which `slashed`
    /// came from the worker's collateral.
    event JobRefunded(uint256 indexed jobId, address indexed requester, uint256 amount, uint256 slashed);
    /// @notice Emitted when the requester cancels an unclaimed job; its reward is credited back.
    event JobCancelled(uint256 indexed jobId, address indexed requester, uint256 amount);
    /// @notice Emitted when `account` withdraws its balance.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice Posts a job whose input is carried inline (calldata and event).
    /// @param modelId the manifest hash of the model to run
    /// @param input the input bytes, at most `MAX_INLINE_INPUT` long
    /// @param claimDeadline timestamp after which the job can no longer be claimed
    /// @param resultDeadline timestamp after which a claimed job without result is refundable
    /// @return jobId the new job's id; `msg.value` is its reward
    function postJob(bytes32 modelId, bytes calldata input, uint64 claimDeadline, uint64 resultDeadline)
        external
        payable
        returns (uint256 jobId);

    /// @notice Posts a job whose input is stored off chain at `inputURI` with content hash `inputHash`.
    /// @param modelId the manifest hash of the model to run
    /// @param inputHash keccak256 of the input bytes
    /// @param inputURI where workers fetch the input
    /// @param claimDeadline timestamp after which the job can no longer be claimed
    /// @param resultDeadline timestamp after which a claimed job without result is refundable
    /// @return jobId the new job's id; `msg.value` is its reward
    function postJobByURI(
        bytes32 modelId,
        bytes32 inputHash,
        string calldata inputURI,
        uint64 claimDeadline,
        uint64 resultDeadline
    ) external payable returns (uint256 jobId);

    /// @notice Claims an open job for the caller, locking `collateralFor(reward)` of its free stake.
    /// @param jobId the job to claim
    function claim(uint256 jobId) external;

    /// @notice Submits the result of a claimed job; starts the challenge window.
    /// @param jobId the job
    /// @param resultHash keccak256 of the result payload
    /// @param resultURI where the requester fetches the payload
    function submitResult(uint256 jobId, bytes32 resultHash, string calldata resultURI) external;

    /// @notice Pays a submitted job whose challenge window has passed. Anyone may call; pays once.
    /// @param jobId the job
    function finalize(uint256 jobId) external;

    /// @notice Refunds an unclaimed job past its claim deadline, or a claimed job past its result
    /// deadline (slashing the worker's collateral to the requester). Anyone may call.
    /// @param jobId the job
    function refund(uint256 jobId) external;

    /// @notice Cancels the caller's own job while it is unclaimed; the reward is credited back.
    /// @param jobId the job
    function cancel(uint256 jobId) external;

    /// @notice Sends the caller its whole balance (payouts, fees, refunds).
    function withdraw() external;

    /// @notice The job `jobId` as stored.
    /// @param jobId the job
    /// @return the job record (status None for unknown ids)
    function getJob(uint256 jobId) external view returns (Job memory);

    /// @notice The job's phase, deriving deadline-driven phases from the current time.
    /// @param jobId the job
    /// @return the phase
    function phaseOf(uint256 jobId) external view returns (JobPhase);

    /// @notice The collateral a worker locks to claim a job paying `reward`.
    /// @param reward the job's reward in wei
    /// @return the collateral in wei
    function collateralFor(uint256 reward) external view returns (uint256);

    /// @notice Wei that `account` can withdraw.
    /// @param account the account
    /// @return its balance
    function balanceOf(address account) external view returns (uint256);

    /// @notice Number of jobs posted so far; ids run from 1 to this number.
    /// @return the count
    function jobCount() external view returns (uint256);

    /// @notice The staking registry holding worker collateral.
    /// @return the registry
    function staking() external view returns (IStakingRegistry);
}
