// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IArbiterMarket} from "./interfaces/IArbiter.sol";
import {IAssayMarket} from "./interfaces/IAssayMarket.sol";
import {ICommitteeArbiter} from "./interfaces/ICommitteeArbiter.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";

/// @title CommitteeArbiter
/// @notice Disputes decided by a committee of staked verifiers drawn at random; see
/// `ICommitteeArbiter`. Immutable: no owner, every parameter fixed at deployment.
contract CommitteeArbiter is ICommitteeArbiter, ReentrancyGuardTransient {
    /// @notice Largest committee (bounds the gas of opening and finalising a dispute).
    uint256 public constant MAX_COMMITTEE = 15;
    // draws per seat before the committee is left smaller
    uint256 private constant DRAW_ATTEMPTS = 4;

    /// @notice The market whose disputes this arbiter decides.
    address public immutable market;
    /// @notice Where verifiers are staked and drawn; this arbiter may lock and penalise there.
    IWorkerRegistry public immutable registry;
    /// @notice Receives penalties when no member revealed and nobody can be paid.
    address public immutable treasury;
    /// @notice Members drawn per dispute.
    uint8 public immutable committeeSize;
    /// @notice Free stake locked from each member while a dispute is open.
    uint128 public immutable deposit;
    /// @notice Stake taken from a member who does not reveal a vote.
    uint128 public immutable nonVoterPenalty;

    struct Dispute {
        uint64 commitEnd;
        uint64 revealEnd;
        uint64 deadline;
        uint8 committed;
        uint8 revealed;
        bool finalized;
        address[] members;
    }

    mapping(uint256 jobId => Dispute) private _disputes;
    mapping(uint256 jobId => mapping(address member => Vote)) private _votes;
    mapping(address account => uint256) private _owed;

    constructor(
        address market_,
        IWorkerRegistry registry_,
        address treasury_,
        uint8 committeeSize_,
        uint128 deposit_,
        uint128 nonVoterPenalty_
    ) {
        if (market_ == address(0) || address(registry_) == address(0) || treasury_ == address(0)) {
            revert ArbiterBadConfig();
        }
        if (committeeSize_ == 0 || committeeSize_ > MAX_COMMITTEE || nonVoterPenalty_ > deposit_) {
            revert ArbiterBadConfig();
        }
        market = market_;
        registry = registry_;
        treasury = treasury_;
        committeeSize = committeeSize_;
        deposit = deposit_;
        nonVoterPenalty = nonVoterPenalty_;
        emit CommitteeConfigured(market_, address(registry_), treasury_, committeeSize_, deposit_, nonVoterPenalty_);
    }

    /// @notice Accepts rewards from the market and penalties from the registry only.
    receive() external payable {
        if (msg.sender != market && msg.sender != address(registry)) revert ArbiterNotMarket(msg.sender);
    }

    // ---------------------------------------------------------------- disputes

    /// @notice Draws the committee and locks its deposits. Market only; never reverts for lack of
    /// verifiers (a dispute with no committee simply gets no ruling).
    function openDispute(
        uint256 jobId,
        bytes32 modelId,
        bytes32 inputHash,
        address[] calldata workers,
        bytes32[] calldata resultHashes,
        uint64 deadline
    ) external {
        if (msg.sender != market) revert ArbiterNotMarket(msg.sender);
        Dispute storage d = _disputes[jobId];
        if (d.deadline != 0) revert ArbiterDisputeExists(jobId);
        uint64 span = deadline > block.timestamp ? deadline - uint64(block.timestamp) : 0;
        d.commitEnd = uint64(block.timestamp) + span / 2;
        d.revealEnd = uint64(block.timestamp) + span * 3 / 4;
        d.deadline = deadline;
        _drawCommittee(d, jobId, modelId, workers);
        emit CommitteeDrawn(
            jobId, modelId, inputHash, workers, resultHashes, d.members, d.commitEnd, d.revealEnd, deadline
        );
    }

    /// @inheritdoc ICommitteeArbiter
    function commitVote(uint256 jobId, bytes32 commitment) external {
        Dispute storage d = _disputes[jobId];
        _requirePhase(jobId, Phase.Commit);
        if (!_isMember(d, msg.sender)) revert ArbiterNotMember(jobId, msg.sender);
        Vote storage v = _votes[jobId][msg.sender];
        if (v.commitment != 0) revert ArbiterAlreadyCommitted(jobId, msg.sender);
        v.commitment = commitment;
        ++d.committed;
        emit VoteCommitted(jobId, msg.sender);
    }

    /// @inheritdoc ICommitteeArbiter
    function revealVote(uint256 jobId, uint256 validMask, bytes32 salt) external {
        Dispute storage d = _disputes[jobId];
        _requirePhase(jobId, Phase.Reveal);
        Vote storage v = _votes[jobId][msg.sender];
        if (
            v.revealed || v.commitment == 0 || v.commitment != keccak256(abi.encode(jobId, msg.sender, validMask, salt))
        ) {
            revert ArbiterBadReveal(jobId, msg.sender);
        }
        v.revealed = true;
        v.validMask = validMask;
        ++d.revealed;
        emit VoteRevealed(jobId, msg.sender, validMask);
    }

    /// @inheritdoc ICommitteeArbiter
    function finalize(uint256 jobId) external nonReentrant {
        Dispute storage d = _disputes[jobId];
        _requirePhase(jobId, Phase.Tally);
        d.finalized = true;
        (uint256 mask, uint256 votes) = _tally(jobId, d);
        bool majority = votes * 2 > d.revealed;
        bool ruled;
        uint256 pot;
        if (majority && block.timestamp <= d.deadline) {
            // a market that refuses the ruling must not keep the deposits locked: finalise without it
            try IArbiterMarket(market).rule(jobId, mask) {
                ruled = true;
            } catch {}
            // rewards are withdrawn as they come, so the balance is this ruling's share
            pot = IAssayMarket(market).balanceOf(address(0), address(this));
            if (pot != 0) IAssayMarket(market).withdraw(address(0));
        }
        pot += _releaseDeposits(jobId, d);
        emit DisputeFinalized(jobId, ruled, mask, votes, pot);
        _share(jobId, d, pot, majority, mask);
    }

    /// @inheritdoc ICommitteeArbiter
    function withdraw() external nonReentrant {
        uint256 amount = _owed[msg.sender];
        if (amount == 0) revert ArbiterNothingToWithdraw(msg.sender);
        _owed[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICommitteeArbiter
    function phaseOf(uint256 jobId) public view returns (Phase) {
        Dispute storage d = _disputes[jobId];
        if (d.deadline == 0) return Phase.None;
        if (d.finalized) return Phase.Closed;
        uint256 n = d.members.length;
        if (block.timestamp > d.revealEnd || d.revealed == n) return Phase.Tally;
        if (block.timestamp > d.commitEnd || d.committed == n) return Phase.Reveal;
        return Phase.Commit;
    }

    /// @inheritdoc ICommitteeArbiter
    function membersOf(uint256 jobId) external view returns (address[] memory) {
        return _disputes[jobId].members;
    }

    /// @inheritdoc ICommitteeArbiter
    function voteOf(uint256 jobId, address member) external view returns (Vote memory) {
        return _votes[jobId][member];
    }

    /// @inheritdoc ICommitteeArbiter
    function balanceOf(address account) external view returns (uint256) {
        return _owed[account];
    }

    // ---------------------------------------------------------------- internals

    /// @dev stake-weighted draws among the model's workers, skipping the disputed workers, the
    /// challenger (who would judge its own bond), members already seated and workers whose free
    /// stake cannot cover the deposit. The seed comes from the block that opens the dispute, which
    /// the disputed parties do not control. The challenger is read from the market, which records
    /// the dispute before asking; audits and disagreements have none.
    function _drawCommittee(Dispute storage d, uint256 jobId, bytes32 modelId, address[] calldata workers) private {
        bytes32 seed = keccak256(abi.encode(block.prevrandao, jobId, address(this)));
        address challenger = IAssayMarket(market).disputeOf(jobId).challenger;
        uint256 attempts = uint256(committeeSize) * DRAW_ATTEMPTS;
        for (uint256 i; i < attempts && d.members.length < committeeSize; ++i) {
            address drawn = registry.draw(modelId, uint256(keccak256(abi.encode(seed, i))));
            if (drawn == address(0)) return;
            if (drawn == challenger || _listed(workers, drawn) || _isMember(d, drawn)) continue;
            if (registry.stakeOf(drawn).free < deposit) continue;
            d.members.push(drawn);
            if (deposit != 0) registry.lock(drawn, deposit);
        }
    }

    /// @dev the mask with the most revealed votes (the first seen wins a tie) and its count
    function _tally(uint256 jobId, Dispute storage d) private view returns (uint256 mask, uint256 votes) {
        address[] storage members = d.members;
        for (uint256 i; i < members.length; ++i) {
            Vote storage v = _votes[jobId][members[i]];
            if (!v.revealed) continue;
            uint256 count;
            for (uint256 j; j < members.length; ++j) {
                Vote storage w = _votes[jobId][members[j]];
                if (w.revealed && w.validMask == v.validMask) ++count;
            }
            if (count > votes) (mask, votes) = (v.validMask, count);
        }
    }

    /// @dev unlocks every deposit and takes the penalty from members who did not reveal
    function _releaseDeposits(uint256 jobId, Dispute storage d) private returns (uint256 penalties) {
        address[] storage members = d.members;
        for (uint256 i; i < members.length; ++i) {
            address member = members[i];
            if (deposit != 0) registry.unlock(member, deposit);
            if (_votes[jobId][member].revealed || nonVoterPenalty == 0) continue;
            uint256 taken = registry.penalize(member, nonVoterPenalty);
            penalties += taken;
            emit NonVoterPenalized(jobId, member, taken);
        }
    }

    /// @dev splits `pot` between the members who voted with the majority (every revealer when there
    /// is none); the remainder of the division goes to the first of them; with no revealer at all
    /// the pot goes to the treasury
    function _share(uint256 jobId, Dispute storage d, uint256 pot, bool majority, uint256 mask) private {
        if (pot == 0) return;
        address[] storage members = d.members;
        uint256 winners;
        for (uint256 i; i < members.length; ++i) {
            if (_wins(jobId, members[i], majority, mask)) ++winners;
        }
        if (winners == 0) {
            _owed[treasury] += pot;
            return;
        }
        uint256 each = pot / winners;
        uint256 dust = pot - each * winners;
        for (uint256 i; i < members.length; ++i) {
            if (!_wins(jobId, members[i], majority, mask)) continue;
            uint256 amount = each + dust;
            dust = 0;
            _owed[members[i]] += amount;
            emit VoterRewarded(jobId, members[i], amount);
        }
    }

    function _wins(uint256 jobId, address member, bool majority, uint256 mask) private view returns (bool) {
        Vote storage v = _votes[jobId][member];
        return v.revealed && (!majority || v.validMask == mask);
    }

    function _requirePhase(uint256 jobId, Phase expected) private view {
        Phase current = phaseOf(jobId);
        if (current != expected) revert ArbiterWrongPhase(jobId, current, expected);
    }

    function _isMember(Dispute storage d, address who) private view returns (bool) {
        address[] storage members = d.members;
        for (uint256 i; i < members.length; ++i) {
            if (members[i] == who) return true;
        }
        return false;
    }

    function _listed(address[] calldata list, address who) private pure returns (bool) {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == who) return true;
        }
        return false;
    }
}
