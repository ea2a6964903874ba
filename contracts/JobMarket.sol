// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IStakingRegistry} from "./interfaces/IStakingRegistry.sol";

/// @title JobMarket
/// @notice Native-ETH escrow for single-worker inference jobs. It has no owner: fee, treasury,
/// collateral ratio and challenge window are fixed at deployment within hard-coded bounds.
contract JobMarket is IJobMarket, ReentrancyGuard {
    using SafeCast for uint256;

    /// @notice Highest protocol fee a deployment may choose (10%).
    uint16 public constant MAX_FEE_BPS = 1_000;
    /// @notice Highest collateral ratio a deployment may choose (5x the reward).
    uint16 public constant MAX_COLLATERAL_BPS = 50_000;
    /// @notice Longest challenge window a deployment may choose.
    uint64 public constant MAX_CHALLENGE_WINDOW = 7 days;
    /// @notice Longest input carried inline; larger inputs go through `postJobByURI`.
    uint256 public constant MAX_INLINE_INPUT = 16_384;

    /// @inheritdoc IJobMarket
    IStakingRegistry public immutable staking;
    /// @notice Receives the protocol fee of every finalized job.
    address public immutable treasury;
    /// @notice Protocol fee in basis points of the reward.
    uint16 public immutable feeBps;
    /// @notice Collateral locked per claim, in basis points of the reward (before the floor).
    uint16 public immutable collateralBps;
    /// @notice Lowest collateral locked per claim, whatever the reward.
    uint128 public immutable minCollateral;
    /// @notice Seconds between a result's submission and its finalization.
    uint64 public immutable challengeWindow;

    /// @inheritdoc IJobMarket
    uint256 public jobCount;
    mapping(uint256 jobId => Job) private _jobs;
    mapping(address account => uint256) private _balances;

    /// @param staking_ the registry, deployed first with this market's precomputed address
    /// @param treasury_ receiver of protocol fees
    /// @param feeBps_ protocol fee, at most `MAX_FEE_BPS`
    /// @param collateralBps_ collateral ratio, at most `MAX_COLLATERAL_BPS`
    /// @param minCollateral_ collateral floor in wei
    /// @param challengeWindow_ seconds, at most `MAX_CHALLENGE_WINDOW`
    constructor(
        IStakingRegistry staking_,
        address treasury_,
        uint16 feeBps_,
        uint16 collateralBps_,
        uint128 minCollateral_,
        uint64 challengeWindow_
    ) {
        if (
            staking_.market() != address(this) || treasury_ == address(0) || feeBps_ > MAX_FEE_BPS
                || collateralBps_ > MAX_COLLATERAL_BPS || challengeWindow_ > MAX_CHALLENGE_WINDOW
        ) revert MarketBadConfig();
        staking = staking_;
        treasury = treasury_;
        feeBps = feeBps_;
        collateralBps = collateralBps_;
        minCollateral = minCollateral_;
        challengeWindow = challengeWindow_;
        emit MarketConfigured(address(staking_), treasury_, feeBps_, collateralBps_, minCollateral_, challengeWindow_);
    }

    /// @notice Accepts slashed collateral from the staking registry only.
    receive() external payable {
        if (msg.sender != address(staking)) revert MarketUnexpectedETH(msg.sender);
    }

    /// @inheritdoc IJobMarket
    function postJob(bytes32 modelId, bytes calldata input, uint64 claimDeadline, uint64 resultDeadline)
        external
        payable
        returns (uint256 jobId)
    {
        if (input.length == 0) revert MarketMissingInput();
        if (input.length > MAX_INLINE_INPUT) revert MarketInputTooLarge(input.length, MAX_INLINE_INPUT);
        jobId = _open(modelId, claimDeadline, resultDeadline);
        emit JobPosted(
            jobId, msg.sender, modelId, msg.value, claimDeadline, resultDeadline, keccak256(input), input, ""
        );
    }

    /// @inheritdoc IJobMarket
    function postJobByURI(
        bytes32 modelId,
        bytes32 inputHash,
        string calldata inputURI,
        uint64 claimDeadline,
        uint64 resultDeadline
    ) external payable returns (uint256 jobId) {
        if (inputHash == bytes32(0) || bytes(inputURI).length == 0) revert MarketMissingInput();
        jobId = _open(modelId, claimDeadline, resultDeadline);
        emit JobPosted(jobId, msg.sender, modelId, msg.value, claimDeadline, resultDeadline, inputHash, "", inputURI);
    }

    /// @inheritdoc IJobMarket
    function claim(uint256 jobId) external {
        Job storage job = _jobAt(jobId, JobStatus.Open);
        if (block.timestamp > job.claimDeadline) revert MarketClaimClosed(jobId, job.claimDeadline);
        uint256 collateral = collateralFor(job.reward);
        job.status = JobStatus.Claimed;
        job.worker = msg.sender;
        job.collateral = collateral.toUint128();
        emit JobClaimed(jobId, msg.sender, collateral);
        // a deployment with no collateral floor locks nothing for small rewards (the registry rejects zero)
        if (collateral != 0) staking.lock(msg.sender, collateral);
    }

    /// @inheritdoc IJobMarket
    function submitResult(uint256 jobId, bytes32 resultHash, string calldata resultURI) external {
        Job storage job = _jobAt(jobId, JobStatus.Claimed);
        if (msg.sender != job.worker) revert MarketNotWorker(jobId, msg.sender);
        if (block.timestamp > job.resultDeadline) revert MarketResultLate(jobId, job.resultDeadline);
        if (resultHash == bytes32(0)) revert MarketZeroResultHash();
        uint64 challengeEnd = uint64(block.timestamp) + challengeWindow;
        job.status = JobStatus.Submitted;
        job.challengeEnd = uint40(challengeEnd);
        job.resultHash = resultHash;
        emit ResultSubmitted(jobId, msg.sender, resultHash, resultURI, challengeEnd);
    }

    /// @inheritdoc IJobMarket
    function finalize(uint256 jobId) external {
        Job storage job = _jobAt(jobId, JobStatus.Submitted);
        if (block.timestamp < job.challengeEnd) revert MarketChallengeWindowOpen(jobId, job.challengeEnd);
        uint256 fee = uint256(job.reward) * feeBps / 10_000;
        uint256 workerPay = job.reward - fee;
        address worker = job.worker;
        job.status = JobStatus.Finalized;
        _balances[worker] += workerPay;
        _balances[treasury] += fee;
        emit JobFinalized(jobId, worker, workerPay, fee);
        if (job.collateral != 0) staking.unlock(worker, job.collateral);
    }

    /// @inheritdoc IJobMarket
    function refund(uint256 jobId) external nonReentrant {
        Job storage job = _jobs[jobId];
        JobStatus status = job.status;
        uint256 slashed;
        if (status == JobStatus.Open) {
            if (block.timestamp <= job.claimDeadline) revert MarketNotRefundable(jobId, status, job.claimDeadline);
        } else if (status == JobStatus.Claimed) {
            if (block.timestamp <= job.resultDeadline) revert MarketNotRefundable(jobId, status, job.resultDeadline);
            slashed = job.collateral;
        } else {
            revert MarketWrongStatus(jobId, status, JobStatus.Open);
        }
        uint256 amount = job.reward + slashed;
        job.status = JobStatus.Refunded;
        _balances[job.requester] += amount;
        emit JobRefunded(jobId, job.requester, amount, slashed);
        // the registry sends the slashed collateral back to this contract through `receive`
        if (slashed != 0) staking.slash(job.worker, slashed);
    }

    /// @inheritdoc IJobMarket
    function cancel(uint256 jobId) external {
        Job storage job = _jobAt(jobId, JobStatus.Open);
        if (msg.sender != job.requester) revert MarketNotRequester(jobId, msg.sender);
        job.status = JobStatus.Cancelled;
        _balances[msg.sender] += job.reward;
        emit JobCancelled(jobId, msg.sender, job.reward);
    }

    /// @inheritdoc IJobMarket
    function withdraw() external nonReentrant {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert MarketNothingToWithdraw(msg.sender);
        _balances[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc IJobMarket
    function getJob(uint256 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    /// @inheritdoc IJobMarket
    function phaseOf(uint256 jobId) external view returns (JobPhase) {
        Job storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status == JobStatus.Open) {
            return block.timestamp > job.claimDeadline ? JobPhase.Expired : JobPhase.Open;
        }
        if (status == JobStatus.Claimed) {
            return block.timestamp > job.resultDeadline ? JobPhase.Expired : JobPhase.Claimed;
        }
        if (status == JobStatus.Submitted) {
            return block.timestamp >= job.challengeEnd ? JobPhase.Finalizable : JobPhase.Submitted;
        }
        if (status == JobStatus.Finalized) return JobPhase.Finalized;
        if (status == JobStatus.Refunded) return JobPhase.Refunded;
        if (status == JobStatus.Cancelled) return JobPhase.Cancelled;
        return JobPhase.None;
    }

    /// @inheritdoc IJobMarket
    function collateralFor(uint256 reward) public view returns (uint256) {
        uint256 collateral = reward * collateralBps / 10_000;
        return collateral < minCollateral ? minCollateral : collateral;
    }

    /// @inheritdoc IJobMarket
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    function _open(bytes32 modelId, uint64 claimDeadline, uint64 resultDeadline) private returns (uint256 jobId) {
        if (msg.value == 0) revert MarketZeroReward();
        if (msg.value > type(uint128).max) revert MarketRewardTooLarge(msg.value);
        if (claimDeadline <= block.timestamp || resultDeadline <= claimDeadline || resultDeadline > type(uint40).max) {
            revert MarketBadDeadlines(claimDeadline, resultDeadline, block.timestamp);
        }
        jobId = ++jobCount;
        Job storage job = _jobs[jobId];
        job.requester = msg.sender;
        job.claimDeadline = uint40(claimDeadline);
        job.resultDeadline = uint40(resultDeadline);
        job.status = JobStatus.Open;
        job.reward = uint128(msg.value);
        job.modelId = modelId;
    }

    function _jobAt(uint256 jobId, JobStatus expected) private view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.status != expected) revert MarketWrongStatus(jobId, job.status, expected);
    }
}
