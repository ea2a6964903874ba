// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IArbiterMarket} from "./IArbiter.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IAssayMarket
/// @notice Escrow and state machine for Assay inference jobs.
///
/// A requester posts a job (model, input, reward in ETH or an allowlisted token, redundancy
/// `r`, deadlines, optional consumer callback and worker allowlist). Its full terms are emitted
/// in `JobPosted` and only their hash is stored: every later call passes the terms back
/// (take them from the event) and the market checks them against the hash. Slots are assigned
/// at posting, drawn by stake among the model's workers with the posting block's randomness;
/// a slot not taken within `acceptWindow` is drawn again, and after a second window any worker
/// serving the model may take it until `claimDeadline`.
///
/// `r = 1` (optimistic): the worker submits its result (accepting the slot in the same call if
/// it has not yet), a challenge window follows, then anyone settles. `r >= 2`: each worker
/// commits `keccak256(abi.encode(jobId, worker, resultHash, salt))`, then reveals; the majority
/// of identical hashes wins. Challenges, random audits and disagreements go to the arbiter.
/// Every state has a timeout exit through `settle`. All payouts are pull payments (`withdraw`).
interface IAssayMarket is IArbiterMarket {
    /// @notice The stored status of a job. Closed jobs are deleted (status `None`, id at most
    /// `jobCount`); their outcome is in `JobSettled`.
    enum Status {
        None,
        Open,
        Accepted,
        Submitted,
        Disputed,
        Ruled
    }

    /// @notice A job's phase including time, as `phaseOf` derives it for clients.
    enum Phase {
        None,
        Assigning,
        Working,
        Revealing,
        Challengeable,
        Disputed,
        Settleable,
        Closed
    }

    /// @notice The stage of one slot of a redundant (`r >= 2`) job.
    enum SlotStage {
        Empty,
        Accepted,
        Committed,
        Revealed,
        Slashed
    }

    /// @notice What a requester asks for.
    /// @param modelId a model registered in the model registry
    /// @param token the reward token, address(0) for native ETH
    /// @param reward the total reward, split equally among the `redundancy` slots
    /// @param redundancy how many workers run the job, 1 to `MAX_REDUNDANCY`
    /// @param claimDeadline timestamp after which empty slots can no longer be taken
    /// @param resultDeadline timestamp by which results (r = 1) or commitments (r >= 2) are due
    /// @param consumer contract whose `IJobConsumer.onJobSettled` receives the outcome, or zero
    /// @param callbackGas gas given to the consumer's callback, at most `MAX_CALLBACK_GAS`
    /// @param inputHash keccak256 of the input when it lives at a URI (ignored for inline input)
    /// @param allowlist when not empty, only these workers may take slots (first come) instead of draws
    struct JobRequest {
        bytes32 modelId;
        address token;
        uint128 reward;
        uint8 redundancy;
        uint40 claimDeadline;
        uint40 resultDeadline;
        address consumer;
        uint32 callbackGas;
        bytes32 inputHash;
        address[] allowlist;
    }

    /// @notice A job's terms, fixed at posting; the market stores only their hash.
    /// Market parameters are copied in, so later parameter changes never touch a posted job.
    struct JobTerms {
        address requester;
        address token;
        uint128 reward;
        uint128 collateral;
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 seed;
        address consumer;
        uint32 callbackGas;
        uint8 redundancy;
        IModelRegistry.VerificationMode mode;
        uint16 auditBps;
        uint16 feeBps;
        uint16 arbiterShareBps;
        uint40 postedAt;
        uint40 claimDeadline;
        uint40 resultDeadline;
        uint32 acceptWindow;
        uint32 revealWindow;
        uint32 challengeWindow;
        uint32 disputeWindow;
        uint64 noShowPenalty;
        address[] assignees;
        address[] allowlist;
    }

    /// @notice The state of a single-slot (`r = 1`) job beyond its terms, also covered by the
    /// stored hash: pass zeros for fields not reached yet.
    struct Outcome {
        address worker;
        bytes32 resultHash;
        address challenger;
    }

    /// @notice A job's stored state: one slot.
    /// @param digest low 160 bits of the hash of the terms (and, for r = 1, the outcome)
    /// @param status the stored status
    /// @param filled slots taken (r >= 2)
    /// @param committed slots committed (r >= 2)
    /// @param revealed slots revealed (r >= 2); after a ruling, the ruling's valid mask
    /// @param time challenge end (r = 1 submitted), reveal deadline once all committed (r >= 2),
    /// or the dispute deadline (disputed)
    /// @param blockNumber block of the result submission or last reveal (its hash seeds the audit draw)
    struct JobState {
        uint160 digest;
        Status status;
        uint8 filled;
        uint8 committed;
        uint8 revealed;
        uint32 time;
        uint32 blockNumber;
    }

    /// @notice One slot of a redundant job.
    struct Slot {
        address worker;
        SlotStage stage;
    }

    /// @notice A dispute's parties and the amounts at stake, stored when it opens.
    struct Dispute {
        address requester;
        address worker;
        address challenger;
        uint16 arbiterShareBps;
        uint128 collateral;
        uint128 bond;
    }

    /// @notice Market parameters that the owner may change within hard-coded bounds; each job
    /// keeps the values it was posted with.
    /// @param feeBps protocol fee on paid rewards, at most `MAX_FEE_BPS`
    /// @param collateralBps collateral per slot in basis points of the slot's reward (before the model's floor)
    /// @param arbiterShareBps the arbiter's share of what a dispute's loser forfeits
    /// @param acceptWindow seconds an assigned worker has to take its slot before it is drawn again
    /// @param revealWindow seconds for reveals once every slot has committed (or the result deadline passed)
    /// @param challengeWindow seconds a single-slot result can be challenged
    /// @param disputeWindow seconds the arbiter has to rule
    /// @param noShowPenalty wei taken from an assigned worker's free stake when it lets its slot lapse
    struct Params {
        uint16 feeBps;
        uint16 collateralBps;
        uint16 arbiterShareBps;
        uint32 acceptWindow;
        uint32 revealWindow;
        uint32 challengeWindow;
        uint32 disputeWindow;
        uint64 noShowPenalty;
    }

    /// @notice A token the market accepts, and how much ETH collateral one unit of reward needs.
    /// @param allowed whether new jobs may pay in it
    /// @param collateralRate wei of ETH per 1e18 token units, used to size ETH collateral for token rewards
    struct TokenConfig {
        bool allowed;
        uint128 collateralRate;
    }

    /// @notice Raised when job `jobId` is `current` but the call needs `expected`.
    error MarketWrongStatus(uint256 jobId, Status current, Status expected);
    /// @notice Raised when the terms (and outcome) passed do not hash to what job `jobId` stored.
    error MarketTermsMismatch(uint256 jobId);
    /// @notice Raised when a job asks for no reward, or less than one wei per slot.
    error MarketZeroReward();
    /// @notice Raised when `redundancy` is 0 or above `MAX_REDUNDANCY`.
    error MarketBadRedundancy(uint256 redundancy);
    /// @notice Raised unless now < claimDeadline < resultDeadline <= now + `MAX_JOB_DURATION`.
    error MarketBadDeadlines(uint256 claimDeadline, uint256 resultDeadline, uint256 timestamp);
    /// @notice Raised when a job has neither inline input nor an input URI with a hash, or both.
    error MarketBadInput();
    /// @notice Raised when inline input is longer than `max` bytes.
    error MarketInputTooLarge(uint256 size, uint256 max);
    /// @notice Raised when a reward token is not allowlisted.
    error MarketTokenNotAllowed(address token);
    /// @notice Raised when the ETH sent differs from the ETH rewards asked for.
    error MarketWrongValue(uint256 sent, uint256 expected);
    /// @notice Raised when a token transfer delivers `received` instead of `expected` (fee-on-transfer tokens).
    error MarketTokenShortfall(address token, uint256 received, uint256 expected);
    /// @notice Raised when a consumer has no code or asks for more than `MAX_CALLBACK_GAS`.
    error MarketBadConsumer(address consumer, uint256 callbackGas);
    /// @notice Raised when an allowlist is longer than `MAX_ALLOWLIST` or names address(0).
    error MarketBadAllowlist();
    /// @notice Raised when batch arrays differ in length or exceed `MAX_BATCH`.
    error MarketBadBatch();
    /// @notice Raised when `slot` is not below the job's redundancy.
    error MarketBadSlot(uint256 jobId, uint256 slot);
    /// @notice Raised when a slot is already taken.
    error MarketSlotTaken(uint256 jobId, uint256 slot);
    /// @notice Raised when `caller` may not take `slot` of `jobId` now (not drawn, not allowlisted,
    /// not serving the model, or holding another slot of the job).
    error MarketNotEligible(uint256 jobId, uint256 slot, address caller);
    /// @notice Raised when a slot is taken after the claim deadline.
    error MarketClaimClosed(uint256 jobId, uint256 claimDeadline);
    /// @notice Raised when a result or commitment arrives after `deadline`.
    error MarketTooLate(uint256 jobId, uint256 deadline);
    /// @notice Raised when an action comes before its window opens at `opensAt`.
    error MarketTooEarly(uint256 jobId, uint256 opensAt);
    /// @notice Raised when `caller` is not the worker of the slot it acts on.
    error MarketNotWorker(uint256 jobId, address caller);
    /// @notice Raised when `caller` is not the job's requester.
    error MarketNotRequester(uint256 jobId, address caller);
    /// @notice Raised when a result hash or commitment is zero.
    error MarketZeroHash();
    /// @notice Raised when inline result bytes do not hash to the result hash or exceed `MAX_INLINE_RESULT`.
    error MarketBadResult();
    /// @notice Raised when a reveal does not match its commitment.
    error MarketCommitmentMismatch(uint256 jobId, uint256 slot);
    /// @notice Raised when a challenge is not by a staked verifier of the model, or the bond is wrong.
    error MarketBadChallenge(uint256 jobId, address challenger, uint256 bond);
    /// @notice Raised when a job that has taken slots is cancelled.
    error MarketNotCancellable(uint256 jobId);
    /// @notice Raised when `caller` is not the arbiter.
    error MarketNotArbiter(address caller);
    /// @notice Raised when `account` withdraws `token` with a zero balance.
    error MarketNothingToWithdraw(address account, address token);
    /// @notice Raised when ETH arrives from anyone but the worker registry.
    error MarketUnexpectedETH(address sender);
    /// @notice Raised when `settle` gets less gas than the consumer callback is promised.
    error MarketInsufficientGas(uint256 available, uint256 needed);
    /// @notice Raised when a parameter is out of its hard-coded bounds.
    error MarketBadParams();
    /// @notice Raised when a post or a slot take arrives while the market is paused, or on `pause` when paused.
    error EnforcedPause();
    /// @notice Raised on `unpause` when the market is not paused.
    error ExpectedPause();

    /// @notice Emitted once by the constructor with the market's fixed collaborators.
    event MarketDeployed(address indexed registry, address indexed models, address indexed arbiter);
    /// @notice Emitted when the parameters change (and by the constructor), with old and new values.
    event ParamsUpdated(Params oldParams, Params newParams);
    /// @notice Emitted when `account` (the owner) pauses new posts and slot takes.
    event Paused(address account);
    /// @notice Emitted when `account` (the owner) lifts the pause.
    event Unpaused(address account);
    /// @notice Emitted when the fee receiver changes.
    event TreasuryUpdated(address oldTreasury, address newTreasury);
    /// @notice Emitted when a token's allowlisting or collateral rate changes.
    event TokenConfigured(address indexed token, bool allowed, uint128 collateralRate);
    /// @notice Emitted when a job is posted, with everything later calls must pass back.
    /// `input` is empty when the input lives at `inputURI`.
    event JobPosted(
        uint256 indexed jobId,
        address indexed requester,
        bytes32 indexed modelId,
        JobTerms terms,
        bytes input,
        string inputURI
    );
    /// @notice Emitted when `worker` takes `slot`, locking `collateral` of its stake.
    event SlotAccepted(uint256 indexed jobId, uint256 slot, address indexed worker, uint256 collateral);
    /// @notice Emitted when an assigned worker lets its slot lapse and loses `penalty` (to the requester).
    event NoShowPenalized(uint256 indexed jobId, uint256 slot, address indexed worker, uint256 penalty);
    /// @notice Emitted when a single-slot job's result arrives; it can be challenged until `challengeEnd`.
    event ResultSubmitted(
        uint256 indexed jobId,
        address indexed worker,
        bytes32 resultHash,
        string resultURI,
        bytes result,
        uint64 challengeEnd
    );
    /// @notice Emitted when a slot's worker commits to a result.
    event ResultCommitted(uint256 indexed jobId, uint256 slot, address indexed worker, bytes32 commitment);
    /// @notice Emitted when a slot's worker reveals its result.
    event ResultRevealed(
        uint256 indexed jobId, uint256 slot, address indexed worker, bytes32 resultHash, string resultURI, bytes result
    );
    /// @notice Emitted when a staked verifier challenges a single-slot result with `bond`.
    event JobChallenged(uint256 indexed jobId, address indexed challenger, uint256 bond, uint64 deadline);
    /// @notice Emitted when a job goes to the arbiter; `audit` is true for a random audit.
    event JobDisputed(uint256 indexed jobId, bool audit, uint64 deadline);
    /// @notice Emitted when the arbiter rules; `reward` is the arbiter's share of what losers forfeited.
    event JobRuled(uint256 indexed jobId, uint256 validMask, uint256 reward);
    /// @notice Emitted when `worker`'s collateral is slashed; `to` receives what the arbiter does not.
    event WorkerSlashed(uint256 indexed jobId, address indexed worker, uint256 amount, address to);
    /// @notice Emitted when a job closes. `paid` is the total paid to workers, `fee` the protocol fee,
    /// `refunded` what returned to the requester (unpaid reward; slashed collateral is in `WorkerSlashed`).
    event JobSettled(
        uint256 indexed jobId, bool success, bytes32 resultHash, uint256 paid, uint256 fee, uint256 refunded
    );
    /// @notice Emitted when a worker of a settled job is paid.
    event WorkerPaid(uint256 indexed jobId, address indexed worker, uint256 amount);
    /// @notice Emitted when the requester cancels a job before any slot is taken.
    event JobCancelled(uint256 indexed jobId, address indexed requester, uint256 refunded);
    /// @notice Emitted when the consumer callback reverts or runs out of gas (the job settles anyway).
    event CallbackFailed(uint256 indexed jobId, address indexed consumer);
    /// @notice Emitted when `account` withdraws `amount` of `token`.
    event Withdrawn(address indexed account, address indexed token, uint256 amount);

    /// @notice Posts a job and escrows its reward (`msg.value` for ETH; token rewards are pulled,
    /// so approve the market first). Exactly one of `input` (inline, at most `MAX_INLINE_INPUT`
    /// bytes) and `inputURI` (with `request.inputHash`) must be given.
    /// @param request what is asked for
    /// @param input the input bytes when carried inline, else empty
    /// @param inputURI where workers fetch the input when not inline, else empty
    /// @return jobId the new job's id; its terms are in `JobPosted`
    function postJob(JobRequest calldata request, bytes calldata input, string calldata inputURI)
        external
        payable
        returns (uint256 jobId);

    /// @notice Posts several jobs in one transaction; `msg.value` must cover all ETH rewards.
    /// @param requests what is asked for, one per job
    /// @param inputs inline inputs (empty where by URI)
    /// @param inputURIs input URIs (empty where inline)
    /// @return firstJobId the id of the first job; the others follow consecutively
    function postJobs(JobRequest[] calldata requests, bytes[] calldata inputs, string[] calldata inputURIs)
        external
        payable
        returns (uint256 firstJobId);

    /// @notice Cancels an open job before any slot is taken; the reward is credited back.
    /// @param jobId the job
    /// @param terms its terms, from `JobPosted`
    function cancel(uint256 jobId, JobTerms calldata terms) external;

    /// @notice Takes `slot` of an open job for the caller, locking `terms.collateral` of its free stake.
    /// The caller must be the slot's assignee (first accept window), the worker drawn for the second
    /// window, any worker serving the model afterwards, or on the job's allowlist.
    /// @param jobId the job
    /// @param terms its terms
    /// @param slot the slot, below the job's redundancy
    function accept(uint256 jobId, JobTerms calldata terms, uint256 slot) external;

    /// @notice Submits the result of a single-slot job, taking the slot first if the caller has not yet.
    /// @param jobId the job
    /// @param terms its terms
    /// @param resultHash keccak256 of the result bytes
    /// @param resultURI where the result can be fetched (may be empty when `result` is given)
    /// @param result the result bytes inline (at most `MAX_INLINE_RESULT`), or empty
    function submitResult(
        uint256 jobId,
        JobTerms calldata terms,
        bytes32 resultHash,
        string calldata resultURI,
        bytes calldata result
    ) external;

    /// @notice Commits to a result for `slot` of a redundant job, taking the slot first if it is empty.
    /// @param jobId the job
    /// @param terms its terms
    /// @param slot the caller's slot
    /// @param commitment `keccak256(abi.encode(jobId, worker, resultHash, salt))`
    function commit(uint256 jobId, JobTerms calldata terms, uint256 slot, bytes32 commitment) external;

    /// @notice Reveals a committed result, once every slot has committed or the result deadline passed.
    /// @param jobId the job
    /// @param terms its terms
    /// @param slot the caller's slot
    /// @param resultHash the committed result hash
    /// @param salt the committed salt
    /// @param resultURI where the result can be fetched
    /// @param result the result bytes inline, or empty
    function reveal(
        uint256 jobId,
        JobTerms calldata terms,
        uint256 slot,
        bytes32 resultHash,
        bytes32 salt,
        string calldata resultURI,
        bytes calldata result
    ) external;

    /// @notice Challenges a single-slot result during its challenge window, posting a bond equal to
    /// the job's collateral. The caller must serve the job's model and not be its worker.
    /// @param jobId the job
    /// @param terms its terms
    /// @param outcome the job's worker and result hash (challenger zero)
    function challenge(uint256 jobId, JobTerms calldata terms, Outcome calldata outcome) external payable;

    /// @notice Does whatever is due for a job now: refund it after a missed deadline (slashing a
    /// worker who took a slot and delivered nothing), pay it out after its window, send it to the
    /// arbiter when drawn for an audit or when redundant results disagree, apply a ruling, or close
    /// a dispute whose arbiter missed its deadline. Anyone may call it.
    /// @param jobId the job
    /// @param terms its terms
    /// @param outcome for single-slot jobs, the state beyond the terms (zeros otherwise)
    /// @param result the accepted result's bytes for the consumer callback, or empty
    function settle(uint256 jobId, JobTerms calldata terms, Outcome calldata outcome, bytes calldata result) external;

    /// @notice Sends the caller its whole balance of `token` (address(0) for ETH).
    /// @param token the token
    function withdraw(address token) external;

    /// @notice Sets the parameters new jobs are posted with. Owner only; every value within its bound.
    /// @param params the new parameters
    function setParams(Params calldata params) external;

    /// @notice Sets the fee receiver. Owner only.
    /// @param treasury the new receiver
    function setTreasury(address treasury) external;

    /// @notice Allowlists (or delists) a reward token and sets its collateral rate. Owner only.
    /// Delisting stops new jobs only; escrow and balances in the token stay withdrawable.
    /// @param token the ERC-20 token
    /// @param allowed whether new jobs may pay in it
    /// @param collateralRate wei of ETH collateral per 1e18 token units of reward
    function configureToken(address token, bool allowed, uint128 collateralRate) external;

    /// @notice Stops new posts and new slot takes. Owner only. Results, settlement and withdrawals go on.
    function pause() external;

    /// @notice Lifts a pause. Owner only.
    function unpause() external;

    /// @notice Jobs posted so far; ids run from 1 to `jobCount`.
    /// @return the number of jobs posted
    function jobCount() external view returns (uint256);

    /// @notice Whether new posts and slot takes are stopped.
    /// @return true while paused
    function paused() external view returns (bool);

    /// @notice Receives protocol fees.
    /// @return the treasury address
    function treasury() external view returns (address);

    /// @notice The parameters new jobs get.
    /// @return the current parameters
    function params() external view returns (Params memory);

    /// @notice A token's configuration.
    /// @param token the token
    /// @return its configuration
    function tokenConfig(address token) external view returns (TokenConfig memory);

    /// @notice A job's stored state.
    /// @param jobId the job
    /// @return its state (all zero once closed)
    function jobState(uint256 jobId) external view returns (JobState memory);

    /// @notice One slot of a redundant job.
    /// @param jobId the job
    /// @param slot the slot
    /// @return the slot and its commitment (before the reveal) or result hash (after)
    /// @return hash the slot's commitment or revealed result hash
    function slotOf(uint256 jobId, uint256 slot) external view returns (Slot memory, bytes32 hash);

    /// @notice The open dispute of a job.
    /// @param jobId the job
    /// @return the dispute (all zero when none)
    function disputeOf(uint256 jobId) external view returns (Dispute memory);

    /// @notice What `account` can withdraw of `token`.
    /// @param token the token, address(0) for ETH
    /// @param account the account
    /// @return the balance
    function balanceOf(address token, address account) external view returns (uint256);

    /// @notice The hash of a job's terms, as covered by its stored digest.
    /// @param terms the terms
    /// @return keccak256 of their ABI encoding
    function termsHash(JobTerms calldata terms) external pure returns (bytes32);

    /// @notice A job's phase now, derived from its state, its terms and the clock.
    /// @param jobId the job
    /// @param terms its terms (not checked against the digest: pass the posted ones)
    /// @return the phase
    function phaseOf(uint256 jobId, JobTerms calldata terms) external view returns (Phase);

    /// @notice Whether `worker` may take `slot` of job `jobId` now.
    /// @param jobId the job
    /// @param terms its terms
    /// @param slot the slot
    /// @param worker the worker
    /// @return true when the worker may take the slot
    function eligible(uint256 jobId, JobTerms calldata terms, uint256 slot, address worker) external view returns (bool);

    /// @notice The collateral per slot a new job would lock.
    /// @param token the reward token
    /// @param slotReward the reward of one slot
    /// @param modelFloor the model's minimum collateral
    /// @return wei of ETH stake
    function collateralFor(address token, uint256 slotReward, uint256 modelFloor) external view returns (uint256);
}
