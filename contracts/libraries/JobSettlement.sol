// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAssayMarket} from "../interfaces/IAssayMarket.sol";
import {IArbiter} from "../interfaces/IArbiter.sol";
import {IJobConsumer} from "../interfaces/IJobConsumer.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IWorkerRegistry} from "../interfaces/IWorkerRegistry.sol";

/// @title JobSettlement
/// @notice How an Assay job ends: refunds after missed deadlines, payouts, audits and disputes,
/// rulings, slashing and the consumer callback. An external library, so the market stays under
/// the contract size limit; it runs by delegatecall on the market's storage.
library JobSettlement {
    /// @notice The market's per-job and per-account books.
    struct Books {
        mapping(uint256 jobId => IAssayMarket.JobState) jobs;
        mapping(uint256 jobId => mapping(uint256 slot => IAssayMarket.Slot)) slots;
        mapping(uint256 jobId => mapping(uint256 slot => bytes32)) hashes;
        mapping(uint256 jobId => IAssayMarket.Dispute) disputes;
        mapping(address token => mapping(address account => uint256)) balances;
        address treasury;
        IAssayMarket.Params params;
    }

    /// @notice The market's fixed collaborators.
    struct Deps {
        IWorkerRegistry registry;
        IArbiter arbiter;
    }

    // keccak256(abi.encode(uint256(keccak256("assay.market.books")) - 1)) & ~bytes32(uint256(0xff)) (ERC-7201)
    bytes32 private constant BOOKS_SLOT = 0x6b7b2681aaa8ed58d059c677cfab87b891dcd90fc8491b9de5dfc7bff8ad8200;

    uint256 private constant MAX_REDUNDANCY = 8;
    uint256 private constant MAX_INLINE_RESULT = 4_096;
    // gas kept back for the bookkeeping after a consumer callback
    uint256 private constant CALLBACK_RESERVE = 10_000;

    /// @notice The market's books, at a fixed slot that the market and this library share.
    function books() internal pure returns (Books storage b) {
        bytes32 slot = BOOKS_SLOT;
        assembly ("memory-safe") {
            b.slot := slot
        }
    }

    /// @notice `IAssayMarket.settle`, on the market's books. The market forwards its own calldata
    /// (see `AssayMarket._forward`), so this has the same parameters.
    function settle(
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        IAssayMarket.Outcome calldata outcome,
        bytes calldata result
    ) external {
        Books storage b = books();
        Deps memory c = forwardedDeps();
        IAssayMarket.JobState memory s = load(b, jobId, terms, outcome);
        if (terms.redundancy == 1) settleSingle(b, c, jobId, terms, outcome, result, s);
        else settleRedundant(b, c, jobId, terms, result, s);
    }

    /// @notice `IAssayMarket.challenge`, on the market's books (forwarded like `settle`); the bond
    /// is the ETH the market received.
    function challenge(uint256 jobId, IAssayMarket.JobTerms calldata terms, IAssayMarket.Outcome calldata outcome)
        external
    {
        Books storage b = books();
        Deps memory c = forwardedDeps();
        uint256 bond = msg.value;
        IAssayMarket.JobState memory s = load(b, jobId, terms, outcome);
        if (s.status != IAssayMarket.Status.Submitted) {
            revert IAssayMarket.MarketWrongStatus(jobId, s.status, IAssayMarket.Status.Submitted);
        }
        if (block.timestamp >= s.time) revert IAssayMarket.MarketTooLate(jobId, s.time);
        if (
            terms.collateral == 0 || bond != terms.collateral || msg.sender == outcome.worker
                || c.registry.weightOf(terms.modelId, msg.sender) == 0
        ) revert IAssayMarket.MarketBadChallenge(jobId, msg.sender, bond);
        b.disputes[jobId] = IAssayMarket.Dispute(
            terms.requester, outcome.worker, msg.sender, terms.arbiterShareBps, terms.collateral, uint128(bond)
        );
        s.digest = digest(terms, IAssayMarket.Outcome(outcome.worker, outcome.resultHash, msg.sender));
        uint64 deadline = openDispute(b, jobId, terms, s, false);
        emit IAssayMarket.JobChallenged(jobId, msg.sender, bond, deadline);
        askArbiter(c, jobId, terms, one(outcome.worker), one(outcome.resultHash), deadline);
    }

    /// @notice `IAssayMarket.reveal`, on the market's books (forwarded like `settle`).
    function reveal(
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        uint256 slot,
        bytes32 resultHash,
        bytes32 salt,
        string calldata resultURI,
        bytes calldata result
    ) external {
        Books storage b = books();
        IAssayMarket.JobState memory s = load(b, jobId, terms, none());
        if (s.status != IAssayMarket.Status.Open || terms.redundancy == 1) {
            revert IAssayMarket.MarketWrongStatus(jobId, s.status, IAssayMarket.Status.Open);
        }
        if (s.committed != terms.redundancy && block.timestamp <= terms.resultDeadline) {
            revert IAssayMarket.MarketTooEarly(jobId, terms.resultDeadline + 1);
        }
        uint256 deadline = revealDeadline(s, terms);
        if (block.timestamp > deadline) revert IAssayMarket.MarketTooLate(jobId, deadline);
        if (slot >= terms.redundancy) revert IAssayMarket.MarketBadSlot(jobId, slot);
        IAssayMarket.Slot storage held = b.slots[jobId][slot];
        if (held.worker != msg.sender || held.stage != IAssayMarket.SlotStage.Committed) {
            revert IAssayMarket.MarketNotWorker(jobId, msg.sender);
        }
        checkResult(resultHash, result);
        if (keccak256(abi.encode(jobId, msg.sender, resultHash, salt)) != b.hashes[jobId][slot]) {
            revert IAssayMarket.MarketCommitmentMismatch(jobId, slot);
        }
        held.stage = IAssayMarket.SlotStage.Revealed;
        b.hashes[jobId][slot] = resultHash;
        ++s.revealed;
        s.blockNumber = uint32(block.number);
        b.jobs[jobId] = s;
        emit IAssayMarket.ResultRevealed(jobId, slot, msg.sender, resultHash, resultURI, result);
    }

    /// @notice `IAssayMarket.phaseOf`, on the market's books.
    function phase(uint256 jobId, uint256 jobCount, IAssayMarket.JobTerms calldata terms)
        external
        view
        returns (IAssayMarket.Phase)
    {
        IAssayMarket.JobState memory s = books().jobs[jobId];
        IAssayMarket.Status status = s.status;
        if (status == IAssayMarket.Status.None) {
            return jobId != 0 && jobId <= jobCount ? IAssayMarket.Phase.Closed : IAssayMarket.Phase.None;
        }
        if (status == IAssayMarket.Status.Disputed) {
            return block.timestamp > s.time ? IAssayMarket.Phase.Settleable : IAssayMarket.Phase.Disputed;
        }
        if (status == IAssayMarket.Status.Ruled) return IAssayMarket.Phase.Settleable;
        if (status == IAssayMarket.Status.Submitted) {
            return block.timestamp >= s.time ? IAssayMarket.Phase.Settleable : IAssayMarket.Phase.Challengeable;
        }
        if (status == IAssayMarket.Status.Accepted) {
            return block.timestamp > terms.resultDeadline ? IAssayMarket.Phase.Settleable : IAssayMarket.Phase.Working;
        }
        if (s.filled < terms.redundancy) {
            if (block.timestamp > terms.claimDeadline) return IAssayMarket.Phase.Settleable;
            return s.filled == 0 ? IAssayMarket.Phase.Assigning : IAssayMarket.Phase.Working;
        }
        if (s.committed < terms.redundancy && block.timestamp <= terms.resultDeadline) {
            return IAssayMarket.Phase.Working;
        }
        if (s.revealed < terms.redundancy && block.timestamp <= revealDeadline(s, terms)) {
            return IAssayMarket.Phase.Revealing;
        }
        return IAssayMarket.Phase.Settleable;
    }

    /// @notice Checks a result hash and its optional inline bytes.
    function checkResult(bytes32 resultHash, bytes calldata result) internal pure {
        if (resultHash == 0) revert IAssayMarket.MarketZeroHash();
        if (result.length != 0 && (result.length > MAX_INLINE_RESULT || keccak256(result) != resultHash)) {
            revert IAssayMarket.MarketBadResult();
        }
    }

    /// @notice `IArbiterMarket.rule`, on the market's books (the market checks the caller).
    function rule(Deps memory c, uint256 jobId, uint256 validMask) external returns (uint256 reward) {
        Books storage b = books();
        IAssayMarket.JobState memory s = b.jobs[jobId];
        if (s.status != IAssayMarket.Status.Disputed) {
            revert IAssayMarket.MarketWrongStatus(jobId, s.status, IAssayMarket.Status.Disputed);
        }
        if (block.timestamp > s.time) revert IAssayMarket.MarketTooLate(jobId, s.time);
        IAssayMarket.Dispute memory d = b.disputes[jobId];
        reward = d.worker != address(0)
            ? ruleSingle(b, c, jobId, d, validMask & 1 == 1)
            : ruleRedundant(b, c, jobId, d, validMask);
        s.status = IAssayMarket.Status.Ruled;
        s.revealed = uint8(validMask);
        b.jobs[jobId] = s;
        if (reward != 0) b.balances[address(0)][address(c.arbiter)] += reward;
        emit IAssayMarket.JobRuled(jobId, validMask, reward);
    }

    function penalizeNoShow(
        Books storage b,
        Deps memory c,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        uint256 slot
    ) internal {
        address absent = terms.assignees[slot];
        if (absent == address(0) || terms.noShowPenalty == 0) return;
        uint256 taken = c.registry.penalize(absent, terms.noShowPenalty);
        if (taken == 0) return;
        b.balances[address(0)][terms.requester] += taken;
        emit IAssayMarket.NoShowPenalized(jobId, slot, absent, taken);
    }

    function settleSingle(
        Books storage b,
        Deps memory c,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        IAssayMarket.Outcome calldata outcome,
        bytes calldata result,
        IAssayMarket.JobState memory s
    ) internal {
        IAssayMarket.Status status = s.status;
        if (status == IAssayMarket.Status.Open) {
            requireAfter(jobId, terms.claimDeadline);
            if (terms.assignees.length != 0) penalizeNoShow(b, c, jobId, terms, 0);
            close(b, jobId, terms, false, 0, 0, 0, result);
        } else if (status == IAssayMarket.Status.Accepted) {
            requireAfter(jobId, terms.resultDeadline);
            slash(b, c, jobId, outcome.worker, terms.collateral, terms.requester, 0);
            close(b, jobId, terms, false, 0, 0, 0, result);
        } else if (status == IAssayMarket.Status.Submitted) {
            if (block.timestamp < s.time) revert IAssayMarket.MarketTooEarly(jobId, s.time);
            if (audited(jobId, terms, s.blockNumber)) {
                b.disputes[jobId] = IAssayMarket.Dispute(
                    terms.requester, outcome.worker, address(0), terms.arbiterShareBps, terms.collateral, 0
                );
                uint64 deadline = openDispute(b, jobId, terms, s, true);
                askArbiter(c, jobId, terms, one(outcome.worker), one(outcome.resultHash), deadline);
                return;
            }
            paySingle(b, c, jobId, terms, outcome, result);
        } else if (status == IAssayMarket.Status.Disputed) {
            // the arbiter let its deadline pass: nobody is slashed and the requester gets the reward back
            requireAfter(jobId, s.time);
            delete b.disputes[jobId];
            if (outcome.challenger != address(0)) b.balances[address(0)][outcome.challenger] += terms.collateral;
            unlock(c, outcome.worker, terms.collateral);
            close(b, jobId, terms, false, 0, 0, 0, result);
        } else if (status == IAssayMarket.Status.Ruled) {
            delete b.disputes[jobId];
            if (s.revealed & 1 == 1) paySingle(b, c, jobId, terms, outcome, result);
            else close(b, jobId, terms, false, 0, 0, 0, result);
        } else {
            revert IAssayMarket.MarketWrongStatus(jobId, status, IAssayMarket.Status.Submitted);
        }
    }

    function paySingle(
        Books storage b,
        Deps memory c,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        IAssayMarket.Outcome calldata outcome,
        bytes calldata result
    ) internal {
        uint256 fee = pay(b, jobId, terms, outcome.worker, terms.reward);
        unlock(c, outcome.worker, terms.collateral);
        close(b, jobId, terms, true, outcome.resultHash, terms.reward - fee, fee, result);
    }

    function settleRedundant(
        Books storage b,
        Deps memory c,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        bytes calldata result,
        IAssayMarket.JobState memory s
    ) internal {
        IAssayMarket.Status status = s.status;
        if (status == IAssayMarket.Status.Open) {
            if (s.filled < terms.redundancy) {
                // all slots or none: a partly staffed job is refunded and its workers released unharmed
                requireAfter(jobId, terms.claimDeadline);
                releaseUnfilled(b, c, jobId, terms);
                close(b, jobId, terms, false, 0, 0, 0, result);
                return;
            }
            if (s.revealed < terms.redundancy) requireAfter(jobId, revealDeadline(s, terms));
            if (terms.auditBps != 0 && block.number <= s.blockNumber) {
                revert IAssayMarket.MarketTooEarly(jobId, s.blockNumber);
            }
            (uint256 winners, bytes32 winningHash) = tally(b, jobId, terms);
            if (winners == 0 || audited(jobId, terms, s.blockNumber)) {
                disputeRedundant(b, c, jobId, terms, s);
                return;
            }
            closeRedundant(b, c, jobId, terms, winners, winningHash, true, result);
        } else if (status == IAssayMarket.Status.Disputed) {
            requireAfter(jobId, s.time);
            delete b.disputes[jobId];
            closeRedundant(b, c, jobId, terms, 0, 0, false, result);
        } else if (status == IAssayMarket.Status.Ruled) {
            delete b.disputes[jobId];
            uint256 mask = s.revealed;
            bytes32 winningHash;
            for (uint256 i; i < terms.redundancy; ++i) {
                if (mask >> i & 1 == 1 && b.slots[jobId][i].stage == IAssayMarket.SlotStage.Revealed) {
                    winningHash = b.hashes[jobId][i];
                    break;
                }
            }
            closeRedundant(b, c, jobId, terms, mask, winningHash, false, result);
        } else {
            revert IAssayMarket.MarketWrongStatus(jobId, status, IAssayMarket.Status.Open);
        }
    }

    /// @dev the slots holding the majority result (a bit mask), or zero when there is none;
    /// tolerant modes settle without the arbiter only when every revealed hash is identical
    function tally(Books storage b, uint256 jobId, IAssayMarket.JobTerms calldata terms)
        internal
        view
        returns (uint256 winners, bytes32 hash)
    {
        uint256 r = terms.redundancy;
        uint256 revealedCount;
        for (uint256 i; i < r; ++i) {
            if (b.slots[jobId][i].stage != IAssayMarket.SlotStage.Revealed) continue;
            ++revealedCount;
            bytes32 candidate = b.hashes[jobId][i];
            uint256 mask;
            uint256 count;
            for (uint256 j; j < r; ++j) {
                if (b.slots[jobId][j].stage == IAssayMarket.SlotStage.Revealed && b.hashes[jobId][j] == candidate) {
                    mask |= uint256(1) << j;
                    ++count;
                }
            }
            if (count * 2 > r) {
                winners = mask;
                hash = candidate;
            }
        }
        if (terms.mode != IModelRegistry.VerificationMode.Exact && popcount(winners) != revealedCount) {
            return (0, 0);
        }
    }

    function disputeRedundant(
        Books storage b,
        Deps memory c,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        IAssayMarket.JobState memory s
    ) internal {
        uint256 r = terms.redundancy;
        address[] memory workers = new address[](r);
        bytes32[] memory hashes = new bytes32[](r);
        for (uint256 i; i < r; ++i) {
            IAssayMarket.Slot memory held = b.slots[jobId][i];
            workers[i] = held.worker;
            if (held.stage == IAssayMarket.SlotStage.Revealed) hashes[i] = b.hashes[jobId][i];
        }
        b.disputes[jobId] =
            IAssayMarket.Dispute(terms.requester, address(0), address(0), terms.arbiterShareBps, terms.collateral, 0);
        uint64 deadline = openDispute(b, jobId, terms, s, true);
        askArbiter(c, jobId, terms, workers, hashes, deadline);
    }

    /// @dev pays the slots in `validMask`; slashes non-revealers, and the revealed minority when
    /// `slashInvalid` (an exact majority); releases everyone else; refunds unpaid reward
    function closeRedundant(
        Books storage b,
        Deps memory c,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        uint256 validMask,
        bytes32 winningHash,
        bool slashInvalid,
        bytes calldata result
    ) internal {
        (uint256 paid, uint256 fee) = closeSlots(b, c, jobId, terms, validMask, slashInvalid);
        close(b, jobId, terms, paid != 0, winningHash, paid, fee, result);
    }

    function closeSlots(
        Books storage b,
        Deps memory c,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        uint256 validMask,
        bool slashInvalid
    ) internal returns (uint256 paid, uint256 fee) {
        for (uint256 i; i < terms.redundancy; ++i) {
            (uint256 slotPaid, uint256 slotFee) =
                closeSlot(b, c, jobId, terms, i, validMask >> i & 1 == 1, slashInvalid);
            paid += slotPaid;
            fee += slotFee;
        }
    }

    function closeSlot(
        Books storage b,
        Deps memory c,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        uint256 i,
        bool valid,
        bool slashInvalid
    ) internal returns (uint256 paid, uint256 fee) {
        IAssayMarket.Slot memory held = b.slots[jobId][i];
        delete b.slots[jobId][i];
        delete b.hashes[jobId][i];
        if (held.stage == IAssayMarket.SlotStage.Slashed) return (0, 0);
        if (held.stage != IAssayMarket.SlotStage.Revealed) {
            slash(b, c, jobId, held.worker, terms.collateral, terms.requester, 0);
        } else if (valid) {
            uint256 share = terms.reward / terms.redundancy;
            fee = pay(b, jobId, terms, held.worker, share);
            paid = share - fee;
            unlock(c, held.worker, terms.collateral);
        } else if (slashInvalid) {
            slash(b, c, jobId, held.worker, terms.collateral, terms.requester, 0);
        } else {
            unlock(c, held.worker, terms.collateral);
        }
    }

    function releaseUnfilled(Books storage b, Deps memory c, uint256 jobId, IAssayMarket.JobTerms calldata terms)
        internal
    {
        for (uint256 i; i < terms.redundancy; ++i) {
            IAssayMarket.Slot memory held = b.slots[jobId][i];
            if (held.stage == IAssayMarket.SlotStage.Empty) {
                if (terms.assignees.length != 0) penalizeNoShow(b, c, jobId, terms, i);
            } else {
                unlock(c, held.worker, terms.collateral);
                delete b.slots[jobId][i];
                delete b.hashes[jobId][i];
            }
        }
    }

    function ruleSingle(Books storage b, Deps memory c, uint256 jobId, IAssayMarket.Dispute memory d, bool valid)
        internal
        returns (uint256 reward)
    {
        uint256 shareBps = d.arbiterShareBps;
        if (valid) {
            if (d.challenger == address(0)) return 0;
            // the challenger was wrong: its bond goes to the worker, less the arbiter's share
            reward = uint256(d.bond) * shareBps / 10_000;
            b.balances[address(0)][d.worker] += d.bond - reward;
            return reward;
        }
        address to = d.challenger == address(0) ? d.requester : d.challenger;
        if (d.challenger != address(0)) b.balances[address(0)][d.challenger] += d.bond;
        reward = slash(b, c, jobId, d.worker, d.collateral, to, shareBps);
    }

    function ruleRedundant(
        Books storage b,
        Deps memory c,
        uint256 jobId,
        IAssayMarket.Dispute memory d,
        uint256 validMask
    ) internal returns (uint256 reward) {
        uint256 shareBps = d.arbiterShareBps;
        for (uint256 i; i < MAX_REDUNDANCY; ++i) {
            IAssayMarket.Slot storage held = b.slots[jobId][i];
            if (held.stage != IAssayMarket.SlotStage.Revealed || validMask >> i & 1 == 1) continue;
            held.stage = IAssayMarket.SlotStage.Slashed;
            reward += slash(b, c, jobId, held.worker, d.collateral, d.requester, shareBps);
        }
    }

    function pay(Books storage b, uint256 jobId, IAssayMarket.JobTerms calldata terms, address worker, uint256 amount)
        internal
        returns (uint256 fee)
    {
        fee = amount * terms.feeBps / 10_000;
        b.balances[terms.token][worker] += amount - fee;
        emit IAssayMarket.WorkerPaid(jobId, worker, amount - fee);
    }

    /// @dev slashes `amount` of `worker`'s collateral into this contract; `shareBps` of it is the
    /// arbiter's (returned, for the caller to credit) and the rest is credited to `to`
    function slash(
        Books storage b,
        Deps memory c,
        uint256 jobId,
        address worker,
        uint256 amount,
        address to,
        uint256 shareBps
    ) internal returns (uint256 arbiterCut) {
        if (amount == 0) return 0;
        arbiterCut = amount * shareBps / 10_000;
        b.balances[address(0)][to] += amount - arbiterCut;
        emit IAssayMarket.WorkerSlashed(jobId, worker, amount, to);
        c.registry.slash(worker, amount);
    }

    function unlock(Deps memory c, address worker, uint256 amount) internal {
        if (amount != 0) c.registry.unlock(worker, amount);
    }

    /// @dev closes the job: credits the fee and the unpaid reward, deletes its state, tells the consumer
    function close(
        Books storage b,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        bool success,
        bytes32 resultHash,
        uint256 paid,
        uint256 fee,
        bytes calldata result
    ) internal {
        uint256 refunded = terms.reward - paid - fee;
        if (fee != 0) b.balances[terms.token][b.treasury] += fee;
        if (refunded != 0) b.balances[terms.token][terms.requester] += refunded;
        delete b.jobs[jobId];
        emit IAssayMarket.JobSettled(jobId, success, resultHash, paid, fee, refunded);
        if (terms.consumer != address(0)) callback(jobId, terms, success, resultHash, result);
    }

    /// @dev delivers the outcome with exactly `callbackGas`, never letting the consumer block settlement
    function callback(
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        bool success,
        bytes32 resultHash,
        bytes calldata result
    ) internal {
        if (result.length != 0 && keccak256(result) != resultHash) {
            revert IAssayMarket.MarketBadResult();
        }
        uint256 gasNeeded = uint256(terms.callbackGas) * 64 / 63 + CALLBACK_RESERVE;
        // a caller must not starve the callback to make it fail on purpose
        if (gasleft() < gasNeeded) revert IAssayMarket.MarketInsufficientGas(gasleft(), gasNeeded);
        bytes memory data = abi.encodeCall(IJobConsumer.onJobSettled, (jobId, success, resultHash, result));
        address consumer = terms.consumer;
        uint256 gasLimit = terms.callbackGas;
        bool ok;
        // no return data is copied: a consumer cannot make settlement pay for a huge revert reason
        assembly ("memory-safe") {
            ok := call(gasLimit, consumer, 0, add(data, 0x20), mload(data), 0, 0)
        }
        if (!ok) emit IAssayMarket.CallbackFailed(jobId, consumer);
    }

    function openDispute(
        Books storage b,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        IAssayMarket.JobState memory s,
        bool audit
    ) internal returns (uint64 deadline) {
        deadline = uint64(block.timestamp) + terms.disputeWindow;
        s.status = IAssayMarket.Status.Disputed;
        s.time = uint32(deadline);
        b.jobs[jobId] = s;
        emit IAssayMarket.JobDisputed(jobId, audit, deadline);
    }

    function askArbiter(
        Deps memory c,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        address[] memory workers,
        bytes32[] memory hashes,
        uint64 deadline
    ) internal {
        c.arbiter.openDispute(jobId, terms.modelId, terms.inputHash, workers, hashes, deadline);
    }

    /// @dev the audit draw uses the hash of the block holding the result, which its worker could not
    /// know when it sent the result; a hash out of reach (256 blocks later) means an audit
    function audited(uint256 jobId, IAssayMarket.JobTerms calldata terms, uint256 resultBlock)
        internal
        view
        returns (bool)
    {
        if (terms.auditBps == 0) return false;
        bytes32 h = blockhash(resultBlock);
        if (h == 0) return true;
        return uint256(keccak256(abi.encode(h, jobId))) % 10_000 < terms.auditBps;
    }

    function load(
        Books storage b,
        uint256 jobId,
        IAssayMarket.JobTerms calldata terms,
        IAssayMarket.Outcome memory outcome
    ) internal view returns (IAssayMarket.JobState memory s) {
        s = b.jobs[jobId];
        check(jobId, s, terms, outcome);
    }

    function check(
        uint256 jobId,
        IAssayMarket.JobState memory s,
        IAssayMarket.JobTerms calldata terms,
        IAssayMarket.Outcome memory outcome
    ) internal pure {
        if (s.status == IAssayMarket.Status.None) {
            revert IAssayMarket.MarketWrongStatus(jobId, IAssayMarket.Status.None, IAssayMarket.Status.Open);
        }
        if (s.digest != digest(terms, outcome)) revert IAssayMarket.MarketTermsMismatch(jobId);
    }

    function digest(IAssayMarket.JobTerms calldata terms, IAssayMarket.Outcome memory outcome)
        internal
        pure
        returns (uint160)
    {
        return uint160(uint256(keccak256(abi.encode(termsHash(terms), outcome))));
    }

    /// @notice keccak256(abi.encode(terms)), hashed straight from calldata: the canonical
    /// encoding is 24 head words, then each array as its length and items. Any other encoding
    /// of the same terms hashes differently and fails the digest check.
    function termsHash(IAssayMarket.JobTerms calldata terms) internal pure returns (bytes32 h) {
        uint256 size = (26 + terms.assignees.length + terms.allowlist.length) * 32;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, 0x20)
            calldatacopy(add(p, 0x20), terms, size)
            h := keccak256(p, add(size, 0x20))
        }
    }

    /// @dev the market's collaborators, appended by the market after the calldata it forwards
    function forwardedDeps() internal pure returns (Deps memory c) {
        IWorkerRegistry registry;
        IArbiter arbiter;
        assembly ("memory-safe") {
            registry := calldataload(sub(calldatasize(), 0x40))
            arbiter := calldataload(sub(calldatasize(), 0x20))
        }
        c = Deps(registry, arbiter);
    }

    function none() internal pure returns (IAssayMarket.Outcome memory) {
        return IAssayMarket.Outcome(address(0), 0, address(0));
    }

    function revealDeadline(IAssayMarket.JobState memory s, IAssayMarket.JobTerms calldata terms)
        internal
        pure
        returns (uint256)
    {
        return s.committed == terms.redundancy ? s.time : uint256(terms.resultDeadline) + terms.revealWindow;
    }

    function requireAfter(uint256 jobId, uint256 deadline) internal view {
        if (block.timestamp <= deadline) revert IAssayMarket.MarketTooEarly(jobId, deadline + 1);
    }

    function one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function one(bytes32 h) internal pure returns (bytes32[] memory list) {
        list = new bytes32[](1);
        list[0] = h;
    }

    function popcount(uint256 x) internal pure returns (uint256 n) {
        for (; x != 0; x &= x - 1) {
            ++n;
        }
    }
}
