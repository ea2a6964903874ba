// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IArbiter} from "./IArbiter.sol";

/// @title ICommitteeArbiter
/// @notice Decides disputes by a committee of staked verifiers. When the market opens a
/// dispute, `committeeSize` workers of the job's model (never the disputed workers) are drawn
/// by stake, and each has `deposit` of its free stake locked. Members re-run the job and vote
/// on which slots' results are valid, by commitment then reveal. Over the dispute's span from
/// opening to the market's deadline: the first half takes commitments, the third quarter
/// reveals, the last quarter is left for `finalize`, which anyone may call once reveals are
/// over (or every member has revealed). A mask backed by more than half of the revealed votes
/// is sent to the market as the ruling. Deposits are unlocked; members who did not reveal lose
/// `nonVoterPenalty`; the arbiter's share of the losers' forfeit plus those penalties is split
/// between the members who voted with the majority (pull payments). With no majority the market
/// gets no ruling and, at its deadline, refunds the requester and slashes nobody.
interface ICommitteeArbiter is IArbiter {
    /// @notice Where a dispute stands, derived from its stored times.
    enum Phase {
        None,
        Commit,
        Reveal,
        Tally,
        Closed
    }

    /// @notice A member's vote.
    /// @param commitment keccak256(abi.encode(jobId, member, validMask, salt))
    /// @param validMask the revealed mask
    /// @param revealed whether the member revealed
    struct Vote {
        bytes32 commitment;
        uint256 validMask;
        bool revealed;
    }

    /// @notice Raised when `caller` is not the market (or, in `receive`, neither market nor registry).
    error ArbiterNotMarket(address caller);
    /// @notice Raised when the market opens a second dispute for `jobId`.
    error ArbiterDisputeExists(uint256 jobId);
    /// @notice Raised when `who` is not on the committee of `jobId`.
    error ArbiterNotMember(uint256 jobId, address who);
    /// @notice Raised when an action on `jobId` comes in phase `current` instead of `expected`.
    error ArbiterWrongPhase(uint256 jobId, Phase current, Phase expected);
    /// @notice Raised when `member` commits twice on `jobId`.
    error ArbiterAlreadyCommitted(uint256 jobId, address member);
    /// @notice Raised when `member` reveals a vote on `jobId` that does not match its commitment (or none).
    error ArbiterBadReveal(uint256 jobId, address member);
    /// @notice Raised when `account` withdraws with nothing owed.
    error ArbiterNothingToWithdraw(address account);
    /// @notice Raised by the constructor on a zero address or a parameter out of bounds.
    error ArbiterBadConfig();

    /// @notice Emitted once by the constructor with the fixed configuration.
    event CommitteeConfigured(
        address indexed market, address indexed registry, address treasury, uint8 size, uint128 deposit, uint128 penalty
    );
    /// @notice Emitted when a dispute opens: what to re-run, who judges and until when.
    event CommitteeDrawn(
        uint256 indexed jobId,
        bytes32 indexed modelId,
        bytes32 inputHash,
        address[] workers,
        bytes32[] resultHashes,
        address[] members,
        uint64 commitEnd,
        uint64 revealEnd,
        uint64 deadline
    );
    /// @notice Emitted when `member` commits its vote on `jobId`.
    event VoteCommitted(uint256 indexed jobId, address indexed member);
    /// @notice Emitted when `member` reveals `validMask` on `jobId`.
    event VoteRevealed(uint256 indexed jobId, address indexed member, uint256 validMask);
    /// @notice Emitted when `jobId` is finalised: whether a ruling reached the market, the mask, its
    /// votes, and the wei shared between the majority (`pot`, from the market reward and penalties).
    event DisputeFinalized(uint256 indexed jobId, bool ruled, uint256 validMask, uint256 votes, uint256 pot);
    /// @notice Emitted when `member` is paid `amount` for voting with the majority on `jobId`.
    event VoterRewarded(uint256 indexed jobId, address indexed member, uint256 amount);
    /// @notice Emitted when `member` loses `amount` of stake for not revealing on `jobId`.
    event NonVoterPenalized(uint256 indexed jobId, address indexed member, uint256 amount);
    /// @notice Emitted when `account` withdraws `amount`.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice Commits a vote on `jobId`. Committee members only, during the commit phase.
    /// @param jobId the disputed job
    /// @param commitment keccak256(abi.encode(jobId, msg.sender, validMask, salt))
    function commitVote(uint256 jobId, bytes32 commitment) external;

    /// @notice Reveals a committed vote. During the reveal phase (or the commit phase once every
    /// member has committed).
    /// @param jobId the disputed job
    /// @param validMask one bit per slot, set for results the member found valid
    /// @param salt the salt of the commitment
    function revealVote(uint256 jobId, uint256 validMask, bytes32 salt) external;

    /// @notice Tallies the votes on `jobId`, rules if a majority exists and the market's deadline has
    /// not passed, releases deposits, penalises non-voters and credits the majority. Anyone, once
    /// reveals are over or every member has revealed; once per dispute.
    /// @param jobId the disputed job
    function finalize(uint256 jobId) external;

    /// @notice Sends the caller everything it is owed.
    function withdraw() external;

    /// @notice The phase of the dispute over `jobId`.
    /// @param jobId the job
    /// @return the phase
    function phaseOf(uint256 jobId) external view returns (Phase);

    /// @notice The committee of `jobId`.
    /// @param jobId the job
    /// @return the members, in draw order
    function membersOf(uint256 jobId) external view returns (address[] memory);

    /// @notice The vote of `member` on `jobId`.
    /// @param jobId the job
    /// @param member the member
    /// @return the vote
    function voteOf(uint256 jobId, address member) external view returns (Vote memory);

    /// @notice Wei owed to `account`, withdrawn with `withdraw`.
    /// @param account the account
    /// @return the amount owed
    function balanceOf(address account) external view returns (uint256);
}
