// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketBase} from "./MarketBase.t.sol";
import {CommitteeArbiter} from "../../contracts/CommitteeArbiter.sol";
import {IArbiter} from "../../contracts/interfaces/IArbiter.sol";
import {IAssayMarket} from "../../contracts/interfaces/IAssayMarket.sol";
import {ICommitteeArbiter} from "../../contracts/interfaces/ICommitteeArbiter.sol";
import {IWorkerRegistry} from "../../contracts/interfaces/IWorkerRegistry.sol";

/// @notice The committee arbiter behind the real market and worker registry: a challenged r=1 job
/// goes to three verifiers drawn from the model's other workers, who vote by commit and reveal.
contract CommitteeArbiterTest is MarketBase {
    CommitteeArbiter internal committee;

    uint128 internal constant DEPOSIT = 0.1 ether;
    uint128 internal constant PENALTY = 0.05 ether;
    bytes32 internal constant SALT = bytes32(uint256(42));

    enum Ballot {
        Absent,
        Valid,
        Invalid
    }

    function _deployArbiter(address marketAt) internal override returns (IArbiter) {
        committee = new CommitteeArbiter(marketAt, registry, treasury, 3, DEPOSIT, PENALTY);
        return committee;
    }

    function setUp() public override {
        super.setUp();
        // two more verifiers, so three seats can be filled without the disputed worker
        for (uint256 i; i < 2; ++i) {
            _stakeAndServe(makeAddr(string.concat("verifier", vm.toString(i))), STAKE);
        }
    }

    /// @dev posts an r=1 job, submits `result` and has a staked non-worker challenge it
    function _challenged(bytes memory result)
        internal
        returns (uint256 jobId, IAssayMarket.JobTerms memory terms, IAssayMarket.Outcome memory outcome)
    {
        (jobId, terms) = _post(1);
        outcome = _submit(jobId, terms, result);
        address challenger = outcome.worker == verifier ? workers[0] : verifier;
        vm.prank(challenger);
        market.challenge{value: terms.collateral}(jobId, terms, outcome);
        outcome.challenger = challenger;
    }

    function _mask(Ballot b) internal pure returns (uint256) {
        return b == Ballot.Valid ? 1 : 0;
    }

    function _vote(uint256 jobId, Ballot[3] memory ballots) internal returns (address[] memory members) {
        members = committee.membersOf(jobId);
        for (uint256 i; i < members.length; ++i) {
            if (ballots[i] == Ballot.Absent) continue;
            vm.prank(members[i]);
            committee.commitVote(jobId, keccak256(abi.encode(jobId, members[i], _mask(ballots[i]), SALT)));
        }
        vm.warp(vm.getBlockTimestamp() + defaultParams().disputeWindow / 2 + 1);
        for (uint256 i; i < members.length; ++i) {
            if (ballots[i] == Ballot.Absent) continue;
            vm.prank(members[i]);
            committee.revealVote(jobId, _mask(ballots[i]), SALT);
        }
        vm.warp(vm.getBlockTimestamp() + defaultParams().disputeWindow / 4);
    }

    // ------------------------------------------------------------ constructor

    function test_constructor_revertsOnBadConfig() public {
        vm.expectRevert(ICommitteeArbiter.ArbiterBadConfig.selector);
        new CommitteeArbiter(address(0), registry, treasury, 3, DEPOSIT, PENALTY);
        vm.expectRevert(ICommitteeArbiter.ArbiterBadConfig.selector);
        new CommitteeArbiter(address(market), registry, treasury, 0, DEPOSIT, PENALTY);
        vm.expectRevert(ICommitteeArbiter.ArbiterBadConfig.selector);
        new CommitteeArbiter(address(market), registry, treasury, 16, DEPOSIT, PENALTY);
        vm.expectRevert(ICommitteeArbiter.ArbiterBadConfig.selector);
        new CommitteeArbiter(address(market), registry, treasury, 3, PENALTY, DEPOSIT);
    }

    // ------------------------------------------------------------ openDispute

    function test_openDispute_drawsCommitteeWithoutTheDisputedWorkerAndLocksDeposits() public {
        (uint256 jobId,, IAssayMarket.Outcome memory outcome) = _challenged("wrong");
        address[] memory members = committee.membersOf(jobId);
        assertEq(members.length, 3);
        for (uint256 i; i < 3; ++i) {
            assertTrue(members[i] != outcome.worker);
            assertEq(_locked(members[i]), DEPOSIT);
            for (uint256 j; j < i; ++j) {
                assertTrue(members[i] != members[j]);
            }
        }
        assertEq(uint256(committee.phaseOf(jobId)), uint256(ICommitteeArbiter.Phase.Commit));
    }

    function test_openDispute_neverSeatsTheChallenger() public {
        // the challenger is a staked worker of the model like the verifiers; over many disputes
        // (a new seed each) it is drawn often, and skipped every time
        for (uint256 round; round < 12; ++round) {
            vm.prevrandao(bytes32(round + 1));
            (uint256 jobId,, IAssayMarket.Outcome memory outcome) = _challenged("wrong");
            address[] memory members = committee.membersOf(jobId);
            assertGt(members.length, 0);
            for (uint256 i; i < members.length; ++i) {
                assertTrue(members[i] != outcome.challenger, "the challenger sits on its own dispute");
                assertTrue(members[i] != outcome.worker, "the disputed worker sits on its own dispute");
            }
        }
    }

    function test_openDispute_revertsForCallersOtherThanTheMarket() public {
        vm.expectRevert(abi.encodeWithSelector(ICommitteeArbiter.ArbiterNotMarket.selector, address(this)));
        committee.openDispute(
            1, modelId, 0, new address[](0), new bytes32[](0), uint64(vm.getBlockTimestamp() + 1 hours)
        );
    }

    function test_openDispute_revertsOnASecondDisputeForTheJob() public {
        (uint256 jobId,,) = _challenged("wrong");
        vm.prank(address(market));
        vm.expectRevert(abi.encodeWithSelector(ICommitteeArbiter.ArbiterDisputeExists.selector, jobId));
        committee.openDispute(
            jobId, modelId, 0, new address[](0), new bytes32[](0), uint64(vm.getBlockTimestamp() + 1 hours)
        );
    }

    function test_openDispute_withNoEligibleVerifiersLeavesAnEmptyCommitteeThatFinalizesAtOnce() public {
        // an unserved model: nobody can be drawn, and nothing stays locked
        vm.prank(address(market));
        committee.openDispute(
            99, bytes32("none"), 0, new address[](0), new bytes32[](0), uint64(vm.getBlockTimestamp() + 1 hours)
        );
        assertEq(committee.membersOf(99).length, 0);
        assertEq(uint256(committee.phaseOf(99)), uint256(ICommitteeArbiter.Phase.Tally));
        committee.finalize(99);
        assertEq(uint256(committee.phaseOf(99)), uint256(ICommitteeArbiter.Phase.Closed));
    }

    // ------------------------------------------------------------ votes

    function test_commitVote_revertsForNonMembersAndTwice() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms,) = _challenged("wrong");
        address[] memory members = committee.membersOf(jobId);
        address outsider = terms.assignees[0];
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(ICommitteeArbiter.ArbiterNotMember.selector, jobId, outsider));
        committee.commitVote(jobId, bytes32("c"));
        vm.startPrank(members[0]);
        committee.commitVote(jobId, bytes32("c"));
        vm.expectRevert(abi.encodeWithSelector(ICommitteeArbiter.ArbiterAlreadyCommitted.selector, jobId, members[0]));
        committee.commitVote(jobId, bytes32("c"));
        vm.stopPrank();
    }

    function test_commitVote_revertsAfterTheCommitPhase() public {
        (uint256 jobId,,) = _challenged("wrong");
        address member = committee.membersOf(jobId)[0];
        vm.warp(vm.getBlockTimestamp() + defaultParams().disputeWindow / 2 + 1);
        vm.prank(member);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICommitteeArbiter.ArbiterWrongPhase.selector,
                jobId,
                ICommitteeArbiter.Phase.Reveal,
                ICommitteeArbiter.Phase.Commit
            )
        );
        committee.commitVote(jobId, bytes32("c"));
    }

    function test_revealVote_revertsBeforeCommitsCloseOrOnAMismatch() public {
        (uint256 jobId,,) = _challenged("wrong");
        address member = committee.membersOf(jobId)[0];
        vm.startPrank(member);
        committee.commitVote(jobId, keccak256(abi.encode(jobId, member, uint256(0), SALT)));
        vm.expectRevert(
            abi.encodeWithSelector(
                ICommitteeArbiter.ArbiterWrongPhase.selector,
                jobId,
                ICommitteeArbiter.Phase.Commit,
                ICommitteeArbiter.Phase.Reveal
            )
        );
        committee.revealVote(jobId, 0, SALT);
        vm.warp(vm.getBlockTimestamp() + defaultParams().disputeWindow / 2 + 1);
        vm.expectRevert(abi.encodeWithSelector(ICommitteeArbiter.ArbiterBadReveal.selector, jobId, member));
        committee.revealVote(jobId, 1, SALT);
        committee.revealVote(jobId, 0, SALT);
        vm.expectRevert(abi.encodeWithSelector(ICommitteeArbiter.ArbiterBadReveal.selector, jobId, member));
        committee.revealVote(jobId, 0, SALT);
        vm.stopPrank();
        assertEq(committee.voteOf(jobId, member).validMask, 0);
        assertTrue(committee.voteOf(jobId, member).revealed);
    }

    // ------------------------------------------------------------ finalize

    function test_finalize_majorityUpholdsChallengeSlashesWorkerPaysVotersAndPenalisesTheAbsent() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms, IAssayMarket.Outcome memory outcome) = _challenged("wrong");
        address[] memory members = _vote(jobId, [Ballot.Invalid, Ballot.Invalid, Ballot.Absent]);
        uint256 absentFree = _free(members[2]);
        uint256 arbiterCut = uint256(terms.collateral) * 1_000 / 10_000;

        vm.expectEmit(address(committee));
        emit ICommitteeArbiter.DisputeFinalized(jobId, true, 0, 2, arbiterCut + PENALTY);
        committee.finalize(jobId);

        assertEq(uint256(market.jobState(jobId).status), uint256(IAssayMarket.Status.Ruled));
        uint256 pot = arbiterCut + PENALTY;
        assertEq(committee.balanceOf(members[0]) + committee.balanceOf(members[1]), pot);
        assertEq(committee.balanceOf(members[2]), 0);
        assertEq(address(committee).balance, pot);
        assertEq(_free(members[2]), absentFree + DEPOSIT - PENALTY);
        for (uint256 i; i < 3; ++i) {
            assertEq(_locked(members[i]), 0);
        }
        market.settle(jobId, terms, outcome, "");
        assertEq(_locked(outcome.worker), 0);
        assertEq(_ethOwed(outcome.challenger), 2 * uint256(terms.collateral) - arbiterCut);

        uint256 before = members[0].balance;
        uint256 owed = committee.balanceOf(members[0]);
        vm.prank(members[0]);
        committee.withdraw();
        assertEq(members[0].balance, before + owed);
    }

    function test_finalize_honestMajorityKeepsTheWorkerWhole() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms, IAssayMarket.Outcome memory outcome) = _challenged("right");
        address[] memory members = _vote(jobId, [Ballot.Valid, Ballot.Invalid, Ballot.Valid]);
        committee.finalize(jobId);
        market.settle(jobId, terms, outcome, "");
        uint256 fee = uint256(REWARD) * 250 / 10_000;
        uint256 arbiterCut = uint256(terms.collateral) * 1_000 / 10_000;
        assertEq(_ethOwed(outcome.worker), REWARD - fee + terms.collateral - arbiterCut);
        assertEq(_free(outcome.worker), STAKE);
        assertEq(committee.balanceOf(members[1]), 0);
        assertEq(committee.balanceOf(members[0]) + committee.balanceOf(members[2]), arbiterCut);
    }

    function test_finalize_withoutMajoritySendsNoRulingAndTheMarketRefundsAtItsDeadline() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms, IAssayMarket.Outcome memory outcome) = _challenged("right");
        address[] memory members = _vote(jobId, [Ballot.Valid, Ballot.Invalid, Ballot.Absent]);
        committee.finalize(jobId);
        assertEq(uint256(market.jobState(jobId).status), uint256(IAssayMarket.Status.Disputed));
        // the absent member's penalty goes to the two who voted
        assertEq(committee.balanceOf(members[0]) + committee.balanceOf(members[1]), PENALTY);
        vm.warp(vm.getBlockTimestamp() + terms.disputeWindow);
        market.settle(jobId, terms, outcome, "");
        assertEq(_ethOwed(requester), REWARD);
        assertEq(_free(outcome.worker), STAKE);
    }

    function test_finalize_afterTheMarketDeadlineReleasesDepositsWithoutRuling() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms,) = _challenged("wrong");
        address[] memory members = committee.membersOf(jobId);
        vm.warp(vm.getBlockTimestamp() + terms.disputeWindow + 1);
        committee.finalize(jobId);
        assertEq(uint256(market.jobState(jobId).status), uint256(IAssayMarket.Status.Disputed));
        // nobody revealed: the penalties cannot pay any voter and go to the treasury
        assertEq(committee.balanceOf(treasury), 3 * PENALTY);
        for (uint256 i; i < 3; ++i) {
            assertEq(_locked(members[i]), 0);
        }
    }

    function test_finalize_revertsDuringRevealsAndTwice() public {
        (uint256 jobId,,) = _challenged("wrong");
        vm.expectRevert(
            abi.encodeWithSelector(
                ICommitteeArbiter.ArbiterWrongPhase.selector,
                jobId,
                ICommitteeArbiter.Phase.Commit,
                ICommitteeArbiter.Phase.Tally
            )
        );
        committee.finalize(jobId);
        _vote(jobId, [Ballot.Valid, Ballot.Valid, Ballot.Valid]);
        committee.finalize(jobId);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICommitteeArbiter.ArbiterWrongPhase.selector,
                jobId,
                ICommitteeArbiter.Phase.Closed,
                ICommitteeArbiter.Phase.Tally
            )
        );
        committee.finalize(jobId);
    }

    function test_withdraw_revertsWithNothingOwed() public {
        vm.expectRevert(abi.encodeWithSelector(ICommitteeArbiter.ArbiterNothingToWithdraw.selector, address(this)));
        committee.withdraw();
    }

    function test_receive_rejectsStrayETH() public {
        vm.expectRevert(abi.encodeWithSelector(ICommitteeArbiter.ArbiterNotMarket.selector, address(this)));
        (bool ok,) = address(committee).call{value: 1}("");
        ok;
    }

    /// @dev any pattern of three ballots: the arbiter holds exactly what it owes, deposits all come
    /// back, a ruling reaches the market iff two ballots agree, and a worker whose correct result the
    /// majority backs is never slashed
    function testFuzz_finalize_anyVotePattern(uint8 a, uint8 b, uint8 c) public {
        Ballot[3] memory ballots = [Ballot(a % 3), Ballot(b % 3), Ballot(c % 3)];
        (uint256 jobId, IAssayMarket.JobTerms memory terms, IAssayMarket.Outcome memory outcome) = _challenged("right");
        address[] memory members = _vote(jobId, ballots);
        committee.finalize(jobId);
        uint256 owed;
        uint256 valid;
        uint256 invalid;
        for (uint256 i; i < 3; ++i) {
            owed += committee.balanceOf(members[i]);
            assertEq(_locked(members[i]), 0);
            if (ballots[i] == Ballot.Valid) ++valid;
            if (ballots[i] == Ballot.Invalid) ++invalid;
        }
        owed += committee.balanceOf(treasury);
        assertEq(address(committee).balance, owed);
        bool majority = valid * 2 > valid + invalid || invalid * 2 > valid + invalid;
        IAssayMarket.Status status = market.jobState(jobId).status;
        assertEq(status == IAssayMarket.Status.Ruled, majority);
        if (!majority) vm.warp(vm.getBlockTimestamp() + terms.disputeWindow);
        market.settle(jobId, terms, outcome, "");
        if (valid * 2 > valid + invalid) assertEq(_free(outcome.worker), STAKE);
    }
}
