// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IAssayMarket} from "./interfaces/IAssayMarket.sol";
import {IArbiter, IArbiterMarket} from "./interfaces/IArbiter.sol";
import {IJobConsumer} from "./interfaces/IJobConsumer.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {JobSettlement} from "./libraries/JobSettlement.sol";

/// @title AssayMarket
/// @notice Escrow, assignment and settlement of Assay inference jobs; see `IAssayMarket`.
/// The owner tunes parameters within hard-coded bounds, allowlists tokens and may pause new
/// posts and new slot takes. It cannot touch escrow, stake, bonds or balances, and a pause
/// never blocks results, settlement or withdrawals.
contract AssayMarket is IAssayMarket, Ownable2Step, ReentrancyGuardTransient, Multicall {
    using SafeERC20 for IERC20;

    /// @notice Most workers per job.
    uint8 public constant MAX_REDUNDANCY = 8;
    /// @notice Highest protocol fee (10%).
    uint16 public constant MAX_FEE_BPS = 1_000;
    /// @notice Highest collateral ratio (5x the slot's reward).
    uint16 public constant MAX_COLLATERAL_BPS = 50_000;
    /// @notice Highest arbiter share of forfeited amounts (50%).
    uint16 public constant MAX_ARBITER_SHARE_BPS = 5_000;
    /// @notice Longest accept, reveal and challenge windows.
    uint32 public constant MAX_WINDOW = 7 days;
    /// @notice Longest time the arbiter may be given.
    uint32 public constant MAX_DISPUTE_WINDOW = 30 days;
    /// @notice Largest no-show penalty.
    uint64 public constant MAX_NO_SHOW_PENALTY = 1 ether;
    /// @notice Longest a job may run from posting to its result deadline.
    uint256 public constant MAX_JOB_DURATION = 30 days;
    /// @notice Longest input carried inline; larger inputs go by URI.
    uint256 public constant MAX_INLINE_INPUT = 16_384;
    /// @notice Longest result carried inline (for consumer contracts).
    uint256 public constant MAX_INLINE_RESULT = 4_096;
    /// @notice Longest worker allowlist.
    uint256 public constant MAX_ALLOWLIST = 16;
    /// @notice Most gas a consumer callback may be promised.
    uint32 public constant MAX_CALLBACK_GAS = 2_000_000;
    /// @notice Most jobs in one batch call.
    uint256 public constant MAX_BATCH = 100;

    // draws per slot before a slot stays empty for the round: a worker never holds two slots
    uint256 private constant DRAW_ATTEMPTS = 4;

    /// @notice Worker stake, models served and draws.
    IWorkerRegistry public immutable registry;
    /// @notice Registered models.
    IModelRegistry public immutable models;
    /// @notice Decides disputes.
    IArbiter public immutable arbiter;

    // jobs posted so far, and the pause flag in the same slot: a post reads both for one cold read
    uint64 private _jobCount;
    bool private _paused;

    mapping(address token => TokenConfig) private _tokens;

    /// @param registry_ the worker registry, deployed first with this market's precomputed address
    /// @param models_ the model registry
    /// @param arbiter_ the arbiter
    /// @param treasury_ receiver of protocol fees
    /// @param params_ initial parameters, within their bounds
    /// @param owner_ the first owner
    constructor(
        IWorkerRegistry registry_,
        IModelRegistry models_,
        IArbiter arbiter_,
        address treasury_,
        Params memory params_,
        address owner_
    ) Ownable(owner_) {
        if (registry_.market() != address(this) || registry_.arbiter() != address(arbiter_)) {
            revert MarketBadParams();
        }
        if (address(models_) == address(0) || treasury_ == address(0)) revert MarketBadParams();
        // a delegatecall to an address without code succeeds doing nothing: settlement calls
        // forwarded to an unlinked JobSettlement would return as if they had run
        if (address(JobSettlement).code.length == 0) revert MarketBadParams();
        registry = registry_;
        models = models_;
        arbiter = arbiter_;
        emit MarketDeployed(address(registry_), address(models_), address(arbiter_));
        _setTreasury(treasury_);
        _setParams(params_);
    }

    /// @notice Accepts slashed stake and penalties from the worker registry only.
    receive() external payable {
        if (msg.sender != address(registry)) revert MarketUnexpectedETH(msg.sender);
    }

    // ---------------------------------------------------------------- posting

    /// @inheritdoc IAssayMarket
    function postJob(JobRequest calldata request, bytes calldata input, string calldata inputURI)
        external
        payable
        whenNotPaused
        nonReentrant
        returns (uint256 jobId)
    {
        uint256 ethNeeded;
        (jobId, ethNeeded) = _post(request, input, inputURI);
        if (msg.value != ethNeeded) revert MarketWrongValue(msg.value, ethNeeded);
    }

    /// @inheritdoc IAssayMarket
    function postJobs(JobRequest[] calldata requests, bytes[] calldata inputs, string[] calldata inputURIs)
        external
        payable
        whenNotPaused
        nonReentrant
        returns (uint256 firstJobId)
    {
        uint256 n = requests.length;
        if (n == 0 || n > MAX_BATCH || inputs.length != n || inputURIs.length != n) revert MarketBadBatch();
        uint256 ethNeeded;
        firstJobId = _jobCount + 1;
        for (uint256 i; i < n; ++i) {
            (, uint256 eth) = _post(requests[i], inputs[i], inputURIs[i]);
            ethNeeded += eth;
        }
        if (msg.value != ethNeeded) revert MarketWrongValue(msg.value, ethNeeded);
    }

    /// @inheritdoc IAssayMarket
    function cancel(uint256 jobId, JobTerms calldata terms) external nonReentrant {
        JobState memory s = JobSettlement.load(_books(), jobId, terms, JobSettlement.none());
        if (s.status != Status.Open) revert MarketWrongStatus(jobId, s.status, Status.Open);
        if (msg.sender != terms.requester) revert MarketNotRequester(jobId, msg.sender);
        if (s.filled != 0) revert MarketNotCancellable(jobId);
        delete _books().jobs[jobId];
        _books().balances[terms.token][terms.requester] += terms.reward;
        emit JobCancelled(jobId, terms.requester, terms.reward);
    }

    // ---------------------------------------------------------------- working

    /// @inheritdoc IAssayMarket
    function accept(uint256 jobId, JobTerms calldata terms, uint256 slot) public {
        JobState memory s = JobSettlement.load(_books(), jobId, terms, JobSettlement.none());
        if (s.status != Status.Open) revert MarketWrongStatus(jobId, s.status, Status.Open);
        if (terms.redundancy == 1) {
            if (slot != 0) revert MarketBadSlot(jobId, slot);
            _checkTake(jobId, terms, 0);
            s.status = Status.Accepted;
            s.digest = JobSettlement.digest(terms, Outcome(msg.sender, 0, address(0)));
        } else {
            _takeSlot(jobId, terms, slot);
            ++s.filled;
        }
        _books().jobs[jobId] = s;
        _lockTake(jobId, terms, slot);
    }

    /// @inheritdoc IAssayMarket
    function submitResult(
        uint256 jobId,
        JobTerms calldata terms,
        bytes32 resultHash,
        string calldata resultURI,
        bytes calldata result
    ) public {
        if (terms.redundancy != 1) revert MarketBadSlot(jobId, 1);
        JobState memory s = _books().jobs[jobId];
        bool taking = s.status == Status.Open;
        if (taking) {
            JobSettlement.check(jobId, s, terms, JobSettlement.none());
            _checkTake(jobId, terms, 0);
        } else if (s.status == Status.Accepted) {
            JobSettlement.check(jobId, s, terms, Outcome(msg.sender, 0, address(0)));
        } else {
            revert MarketWrongStatus(jobId, s.status, Status.Accepted);
        }
        if (block.timestamp > terms.resultDeadline) revert MarketTooLate(jobId, terms.resultDeadline);
        JobSettlement.checkResult(resultHash, result);
        uint64 challengeEnd = uint64(block.timestamp) + terms.challengeWindow;
        s.status = Status.Submitted;
        s.digest = JobSettlement.digest(terms, Outcome(msg.sender, resultHash, address(0)));
        s.time = uint32(challengeEnd);
        s.blockNumber = uint32(block.number);
        _books().jobs[jobId] = s;
        emit ResultSubmitted(jobId, msg.sender, resultHash, resultURI, result, challengeEnd);
        if (taking) _lockTake(jobId, terms, 0);
    }

    /// @inheritdoc IAssayMarket
    function commit(uint256 jobId, JobTerms calldata terms, uint256 slot, bytes32 commitment) public {
        JobState memory s = JobSettlement.load(_books(), jobId, terms, JobSettlement.none());
        if (s.status != Status.Open || terms.redundancy == 1) revert MarketWrongStatus(jobId, s.status, Status.Open);
        if (block.timestamp > terms.resultDeadline) revert MarketTooLate(jobId, terms.resultDeadline);
        if (commitment == 0) revert MarketZeroHash();
        if (slot >= terms.redundancy) revert MarketBadSlot(jobId, slot);
        bool taking = _books().slots[jobId][slot].stage == SlotStage.Empty;
        if (taking) {
            _takeSlot(jobId, terms, slot);
            ++s.filled;
        }
        Slot storage held = _books().slots[jobId][slot];
        if (held.worker != msg.sender || held.stage != SlotStage.Accepted) revert MarketNotWorker(jobId, msg.sender);
        held.stage = SlotStage.Committed;
        _books().hashes[jobId][slot] = commitment;
        if (++s.committed == terms.redundancy) s.time = uint32(block.timestamp + terms.revealWindow);
        _books().jobs[jobId] = s;
        emit ResultCommitted(jobId, slot, msg.sender, commitment);
        if (taking) _lockTake(jobId, terms, slot);
    }

    /// @inheritdoc IAssayMarket
    function reveal(uint256, JobTerms calldata, uint256, bytes32, bytes32, string calldata, bytes calldata) external {
        _forward(JobSettlement.reveal.selector);
    }

    /// @inheritdoc IAssayMarket
    function challenge(uint256, JobTerms calldata, Outcome calldata) external payable nonReentrant {
        _forward(JobSettlement.challenge.selector);
    }

    // ---------------------------------------------------------------- settling

    /// @inheritdoc IAssayMarket
    function settle(uint256 jobId, JobTerms calldata terms, Outcome calldata outcome, bytes calldata result)
        external
        nonReentrant
    {
        // the common case, an unchallenged single-slot result past its window, is paid here;
        // every other way a job ends runs in JobSettlement
        JobState memory s = _books().jobs[jobId];
        if (
            terms.redundancy == 1 && s.status == Status.Submitted && block.timestamp >= s.time
                && !JobSettlement.audited(jobId, terms, s.blockNumber)
        ) {
            JobSettlement.check(jobId, s, terms, outcome);
            JobSettlement.paySingle(_books(), _deps(), jobId, terms, outcome, result);
        } else {
            _forward(JobSettlement.settle.selector);
        }
    }

    /// @inheritdoc IArbiterMarket
    function rule(uint256 jobId, uint256 validMask) external nonReentrant returns (uint256 reward) {
        if (msg.sender != address(arbiter)) revert MarketNotArbiter(msg.sender);
        return JobSettlement.rule(_deps(), jobId, validMask);
    }

    /// @inheritdoc IAssayMarket
    function withdraw(address token) external nonReentrant {
        uint256 amount = _books().balances[token][msg.sender];
        if (amount == 0) revert MarketNothingToWithdraw(msg.sender, token);
        _books().balances[token][msg.sender] = 0;
        emit Withdrawn(msg.sender, token, amount);
        if (token == address(0)) Address.sendValue(payable(msg.sender), amount);
        else IERC20(token).safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- admin

    /// @inheritdoc IAssayMarket
    function setParams(Params calldata params_) external onlyOwner {
        _setParams(params_);
    }

    /// @inheritdoc IAssayMarket
    function setTreasury(address treasury_) external onlyOwner {
        if (treasury_ == address(0)) revert MarketBadParams();
        _setTreasury(treasury_);
    }

    /// @inheritdoc IAssayMarket
    function configureToken(address token, bool allowed, uint128 collateralRate) external onlyOwner {
        if (token == address(0) || token.code.length == 0) revert MarketBadParams();
        _tokens[token] = TokenConfig(allowed, collateralRate);
        emit TokenConfigured(token, allowed, collateralRate);
    }

    /// @inheritdoc IAssayMarket
    function pause() external onlyOwner {
        if (_paused) revert EnforcedPause();
        _paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IAssayMarket
    function unpause() external onlyOwner {
        if (!_paused) revert ExpectedPause();
        _paused = false;
        emit Unpaused(msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAssayMarket
    function jobCount() external view returns (uint256) {
        return _jobCount;
    }

    /// @inheritdoc IAssayMarket
    function paused() external view returns (bool) {
        return _paused;
    }

    /// @inheritdoc IAssayMarket
    function treasury() external view returns (address) {
        return _books().treasury;
    }

    /// @inheritdoc IAssayMarket
    function params() external view returns (Params memory) {
        return _books().params;
    }

    /// @inheritdoc IAssayMarket
    function tokenConfig(address token) external view returns (TokenConfig memory) {
        return _tokens[token];
    }

    /// @inheritdoc IAssayMarket
    function jobState(uint256 jobId) external view returns (JobState memory) {
        return _books().jobs[jobId];
    }

    /// @inheritdoc IAssayMarket
    function slotOf(uint256 jobId, uint256 slot) external view returns (Slot memory, bytes32 hash) {
        return (_books().slots[jobId][slot], _books().hashes[jobId][slot]);
    }

    /// @inheritdoc IAssayMarket
    function disputeOf(uint256 jobId) external view returns (Dispute memory) {
        return _books().disputes[jobId];
    }

    /// @inheritdoc IAssayMarket
    function balanceOf(address token, address account) external view returns (uint256) {
        return _books().balances[token][account];
    }

    /// @inheritdoc IAssayMarket
    function termsHash(JobTerms calldata terms) external pure returns (bytes32) {
        return JobSettlement.termsHash(terms);
    }

    /// @inheritdoc IAssayMarket
    function phaseOf(uint256 jobId, JobTerms calldata terms) external view returns (Phase) {
        return JobSettlement.phase(jobId, _jobCount, terms);
    }

    /// @inheritdoc IAssayMarket
    function eligible(uint256 jobId, JobTerms calldata terms, uint256 slot, address worker)
        external
        view
        returns (bool)
    {
        return block.timestamp <= terms.claimDeadline && _eligible(jobId, terms, slot, worker);
    }

    /// @inheritdoc IAssayMarket
    function collateralFor(address token, uint256 slotReward, uint256 modelFloor) public view returns (uint256) {
        uint256 rate = token == address(0) ? 1e18 : _tokens[token].collateralRate;
        uint256 collateral = Math.mulDiv(slotReward * _books().params.collateralBps, rate, 1e18 * 10_000);
        return collateral < modelFloor ? modelFloor : collateral;
    }

    // ---------------------------------------------------------------- internals: posting

    function _post(JobRequest calldata request, bytes calldata input, string calldata inputURI)
        private
        returns (uint256 jobId, uint256 ethNeeded)
    {
        bytes32 inputHash = _checkInput(request, input, inputURI);
        _checkRequest(request);
        jobId = ++_jobCount;
        JobTerms memory terms = _terms(jobId, request, inputHash);
        _books().jobs[jobId] = JobState(
            uint160(uint256(keccak256(abi.encode(keccak256(abi.encode(terms)), JobSettlement.none())))),
            Status.Open,
            0,
            0,
            0,
            0,
            0
        );
        emit JobPosted(jobId, msg.sender, request.modelId, terms, input, inputURI);
        if (request.token == address(0)) return (jobId, request.reward);
        // pull the reward and refuse tokens that deliver less than asked (fee-on-transfer)
        IERC20 token = IERC20(request.token);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), request.reward);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != request.reward) revert MarketTokenShortfall(request.token, received, request.reward);
    }

    function _checkInput(JobRequest calldata request, bytes calldata input, string calldata inputURI)
        private
        pure
        returns (bytes32)
    {
        bool inlined = input.length != 0;
        bool byURI = bytes(inputURI).length != 0;
        if (inlined == byURI) revert MarketBadInput();
        if (!inlined) {
            if (request.inputHash == 0) revert MarketBadInput();
            return request.inputHash;
        }
        if (input.length > MAX_INLINE_INPUT) revert MarketInputTooLarge(input.length, MAX_INLINE_INPUT);
        return keccak256(input);
    }

    function _checkRequest(JobRequest calldata request) private view {
        if (request.redundancy == 0 || request.redundancy > MAX_REDUNDANCY) {
            revert MarketBadRedundancy(request.redundancy);
        }
        if (request.reward < request.redundancy) revert MarketZeroReward();
        if (
            request.claimDeadline <= block.timestamp || request.resultDeadline <= request.claimDeadline
                || request.resultDeadline > block.timestamp + MAX_JOB_DURATION
        ) revert MarketBadDeadlines(request.claimDeadline, request.resultDeadline, block.timestamp);
        if (request.token != address(0) && !_tokens[request.token].allowed) {
            revert MarketTokenNotAllowed(request.token);
        }
        if (
            request.consumer != address(0)
                && (request.consumer.code.length == 0 || request.callbackGas > MAX_CALLBACK_GAS)
        ) revert MarketBadConsumer(request.consumer, request.callbackGas);
        uint256 n = request.allowlist.length;
        if (n > MAX_ALLOWLIST) revert MarketBadAllowlist();
        for (uint256 i; i < n; ++i) {
            if (request.allowlist[i] == address(0)) revert MarketBadAllowlist();
        }
    }

    function _terms(uint256 jobId, JobRequest calldata request, bytes32 inputHash)
        private
        view
        returns (JobTerms memory terms)
    {
        (IModelRegistry.VerificationMode mode, uint16 auditBps, uint128 minCollateral) = models.termsOf(request.modelId);
        Params memory p = _books().params;
        terms.requester = msg.sender;
        terms.token = request.token;
        terms.reward = request.reward;
        terms.collateral = uint128(collateralFor(request.token, request.reward / request.redundancy, minCollateral));
        terms.modelId = request.modelId;
        terms.inputHash = inputHash;
        // unknown to the requester when it signs: only the proposer of this block knows it beforehand
        terms.seed = keccak256(abi.encode(block.prevrandao, jobId));
        terms.consumer = request.consumer;
        terms.callbackGas = request.consumer == address(0) ? 0 : request.callbackGas;
        terms.redundancy = request.redundancy;
        terms.mode = mode;
        terms.auditBps = auditBps;
        terms.feeBps = p.feeBps;
        terms.arbiterShareBps = p.arbiterShareBps;
        terms.postedAt = uint40(block.timestamp);
        terms.claimDeadline = request.claimDeadline;
        terms.resultDeadline = request.resultDeadline;
        terms.acceptWindow = p.acceptWindow;
        terms.revealWindow = p.revealWindow;
        terms.challengeWindow = p.challengeWindow;
        terms.disputeWindow = p.disputeWindow;
        terms.noShowPenalty = p.noShowPenalty;
        terms.allowlist = request.allowlist;
        terms.assignees = request.allowlist.length == 0 ? _assign(terms) : new address[](0);
    }

    /// @dev round-0 draws, one distinct worker per slot where the pool allows
    function _assign(JobTerms memory terms) private view returns (address[] memory assignees) {
        assignees = new address[](terms.redundancy);
        for (uint256 slot; slot < terms.redundancy; ++slot) {
            for (uint256 attempt; attempt < DRAW_ATTEMPTS; ++attempt) {
                address drawn = registry.draw(terms.modelId, _drawSeed(terms.seed, slot, 0, attempt));
                if (drawn == address(0)) return assignees;
                if (!_contains(assignees, drawn)) {
                    assignees[slot] = drawn;
                    break;
                }
            }
        }
    }

    // ---------------------------------------------------------------- internals: slots

    /// @dev checks a take; callers record it, then call `_lockTake` last (checks-effects-interactions)
    function _checkTake(uint256 jobId, JobTerms calldata terms, uint256 slot) private view {
        _requireNotPaused();
        if (block.timestamp > terms.claimDeadline) revert MarketClaimClosed(jobId, terms.claimDeadline);
        if (!_eligible(jobId, terms, slot, msg.sender)) revert MarketNotEligible(jobId, slot, msg.sender);
    }

    function _lockTake(uint256 jobId, JobTerms calldata terms, uint256 slot) private {
        emit SlotAccepted(jobId, slot, msg.sender, terms.collateral);
        if (terms.collateral != 0) registry.lock(msg.sender, terms.collateral);
        if (terms.assignees.length != 0 && terms.assignees[slot] != msg.sender) {
            JobSettlement.penalizeNoShow(_books(), _deps(), jobId, terms, slot);
        }
    }

    function _takeSlot(uint256 jobId, JobTerms calldata terms, uint256 slot) private {
        if (slot >= terms.redundancy) revert MarketBadSlot(jobId, slot);
        if (_books().slots[jobId][slot].stage != SlotStage.Empty) revert MarketSlotTaken(jobId, slot);
        _checkTake(jobId, terms, slot);
        _books().slots[jobId][slot] = Slot(msg.sender, SlotStage.Accepted);
    }

    function _eligible(uint256 jobId, JobTerms calldata terms, uint256 slot, address worker)
        private
        view
        returns (bool)
    {
        if (slot >= terms.redundancy) return false;
        if (terms.redundancy > 1) {
            for (uint256 i; i < terms.redundancy; ++i) {
                if (_books().slots[jobId][i].worker == worker) return false;
            }
        }
        if (terms.allowlist.length != 0) return _contains(terms.allowlist, worker);
        uint256 round = (block.timestamp - terms.postedAt) / terms.acceptWindow;
        if (round == 0) return worker != address(0) && terms.assignees[slot] == worker;
        if (round == 1) return registry.draw(terms.modelId, _drawSeed(terms.seed, slot, 1, 0)) == worker;
        return registry.weightOf(terms.modelId, worker) != 0;
    }

    // ---------------------------------------------------------------- internals: helpers

    function _drawSeed(bytes32 seed, uint256 slot, uint256 round, uint256 attempt) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, slot, round, attempt)));
    }

    function _contains(address[] memory list, address who) private pure returns (bool) {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == who) return true;
        }
        return false;
    }

    function _setParams(Params memory p) private {
        if (
            p.feeBps > MAX_FEE_BPS || p.collateralBps > MAX_COLLATERAL_BPS || p.arbiterShareBps > MAX_ARBITER_SHARE_BPS
                || p.acceptWindow == 0 || p.acceptWindow > MAX_WINDOW || p.revealWindow == 0
                || p.revealWindow > MAX_WINDOW || p.challengeWindow == 0 || p.challengeWindow > MAX_WINDOW
                || p.disputeWindow == 0 || p.disputeWindow > MAX_DISPUTE_WINDOW || p.noShowPenalty > MAX_NO_SHOW_PENALTY
        ) revert MarketBadParams();
        emit ParamsUpdated(_books().params, p);
        _books().params = p;
    }

    function _deps() private view returns (JobSettlement.Deps memory) {
        return JobSettlement.Deps(registry, arbiter);
    }

    modifier whenNotPaused() {
        _requireNotPaused();
        _;
    }

    function _requireNotPaused() private view {
        if (_paused) revert EnforcedPause();
    }

    function _books() private pure returns (JobSettlement.Books storage) {
        return JobSettlement.books();
    }

    /// @dev runs this call's `JobSettlement` twin (same parameters) on the market's storage,
    /// forwarding the calldata as it came with the collaborators appended: re-encoding the
    /// terms for a library call would cost more gas than the settlement logic it runs
    function _forward(bytes4 selector) private {
        address settlement = address(JobSettlement);
        address registry_ = address(registry);
        address arbiter_ = address(arbiter);
        assembly ("memory-safe") {
            let p := mload(0x40)
            let n := calldatasize()
            calldatacopy(p, 0, n)
            mstore(p, or(and(mload(p), shr(32, not(0))), selector))
            mstore(add(p, n), registry_)
            mstore(add(p, add(n, 0x20)), arbiter_)
            if iszero(delegatecall(gas(), settlement, p, add(n, 0x40), 0, 0)) {
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
        }
    }

    function _setTreasury(address treasury_) private {
        emit TreasuryUpdated(_books().treasury, treasury_);
        _books().treasury = treasury_;
    }
}
