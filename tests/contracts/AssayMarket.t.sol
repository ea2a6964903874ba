// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketBase} from "./MarketBase.t.sol";
import {IAssayMarket} from "../../contracts/interfaces/IAssayMarket.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AssayMarket} from "../../contracts/AssayMarket.sol";
import {WorkerRegistry} from "../../contracts/WorkerRegistry.sol";
import {IWorkerRegistry} from "../../contracts/interfaces/IWorkerRegistry.sol";
import {JobSettlement} from "../../contracts/libraries/JobSettlement.sol";

contract AssayMarketTest is MarketBase {
    // ------------------------------------------------------------ posting

    function test_postJob_storesDigestAndDrawsDistinctAssignees() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(3);
        assertEq(jobId, 1);
        assertEq(terms.requester, requester);
        assertEq(terms.reward, REWARD);
        assertEq(terms.inputHash, keccak256("hello"));
        assertEq(terms.collateral, uint256(REWARD) / 3 * 15_000 / 10_000);
        assertEq(terms.assignees.length, 3);
        for (uint256 i; i < 3; ++i) {
            assertTrue(terms.assignees[i] != address(0));
            for (uint256 j; j < i; ++j) {
                assertTrue(terms.assignees[i] != terms.assignees[j]);
            }
        }
        assertEq(uint256(market.jobState(jobId).status), uint256(IAssayMarket.Status.Open));
        assertEq(address(market).balance, REWARD);
        assertEq(uint256(market.phaseOf(jobId, terms)), uint256(IAssayMarket.Phase.Assigning));
    }

    function test_postJob_revertsOnUnknownModel() public {
        IAssayMarket.JobRequest memory request = _request(keccak256("nope"), 1, REWARD);
        vm.expectRevert();
        vm.prank(requester);
        market.postJob{value: REWARD}(request, "hello", "");
    }

    function test_postJob_revertsOnWrongValue() public {
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketWrongValue.selector, REWARD - 1, REWARD));
        vm.prank(requester);
        market.postJob{value: REWARD - 1}(request, "hello", "");
    }

    function test_postJob_revertsOnBadRedundancy() public {
        IAssayMarket.JobRequest memory request = _request(modelId, 9, REWARD);
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketBadRedundancy.selector, 9));
        vm.prank(requester);
        market.postJob{value: REWARD}(request, "hello", "");
    }

    function test_postJob_revertsOnBadDeadlines() public {
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        request.resultDeadline = request.claimDeadline;
        vm.expectRevert(
            abi.encodeWithSelector(
                IAssayMarket.MarketBadDeadlines.selector,
                request.claimDeadline,
                request.resultDeadline,
                vm.getBlockTimestamp()
            )
        );
        vm.prank(requester);
        market.postJob{value: REWARD}(request, "hello", "");
    }

    function test_postJob_revertsOnInputAndURIBothOrNeither() public {
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        vm.startPrank(requester);
        vm.expectRevert(IAssayMarket.MarketBadInput.selector);
        market.postJob{value: REWARD}(request, "", "");
        vm.expectRevert(IAssayMarket.MarketBadInput.selector);
        market.postJob{value: REWARD}(request, "x", "https://x");
        vm.expectRevert(IAssayMarket.MarketBadInput.selector);
        market.postJob{value: REWARD}(request, "", "https://x");
        request.inputHash = keccak256("x");
        market.postJob{value: REWARD}(request, "", "https://x");
        vm.stopPrank();
    }

    function test_postJob_revertsOnConsumerWithoutCode() public {
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        request.consumer = makeAddr("eoa");
        request.callbackGas = 100_000;
        vm.expectRevert(
            abi.encodeWithSelector(IAssayMarket.MarketBadConsumer.selector, request.consumer, uint256(100_000))
        );
        vm.prank(requester);
        market.postJob{value: REWARD}(request, "hello", "");
    }

    function test_postJobs_postsConsecutiveIds() public {
        IAssayMarket.JobRequest[] memory requests = new IAssayMarket.JobRequest[](3);
        bytes[] memory inputs = new bytes[](3);
        string[] memory uris = new string[](3);
        for (uint256 i; i < 3; ++i) {
            requests[i] = _request(modelId, 1, REWARD);
            inputs[i] = "in";
        }
        vm.prank(requester);
        uint256 first = market.postJobs{value: 3 * REWARD}(requests, inputs, uris);
        assertEq(first, 1);
        assertEq(market.jobCount(), 3);
        assertEq(address(market).balance, 3 * REWARD);
    }

    // ------------------------------------------------------------ r = 1

    function test_lifecycle_singleSlotPaysWorkerAndFee() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "result");
        assertEq(_locked(outcome.worker), terms.collateral);
        assertEq(uint256(market.phaseOf(jobId, terms)), uint256(IAssayMarket.Phase.Challengeable));
        vm.expectRevert();
        market.settle(jobId, terms, outcome, "");
        vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
        market.settle(jobId, terms, outcome, "");
        uint256 fee = uint256(REWARD) * 250 / 10_000;
        assertEq(_ethOwed(outcome.worker), REWARD - fee);
        assertEq(_ethOwed(treasury), fee);
        assertEq(_locked(outcome.worker), 0);
        assertEq(uint256(market.phaseOf(jobId, terms)), uint256(IAssayMarket.Phase.Closed));
        // pays once
        vm.expectRevert();
        market.settle(jobId, terms, outcome, "");
        vm.prank(outcome.worker);
        market.withdraw(address(0));
        assertEq(outcome.worker.balance, 100 ether + REWARD - fee);
    }

    function test_submitResult_revertsForWorkerNotDrawn() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        address other = terms.assignees[0] == workers[0] ? workers[1] : workers[0];
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketNotEligible.selector, jobId, 0, other));
        vm.prank(other);
        market.submitResult(jobId, terms, keccak256("r"), "", "");
    }

    function test_submitResult_revertsOnTamperedTerms() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        terms.reward = 100 ether;
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketTermsMismatch.selector, jobId));
        vm.prank(terms.assignees[0]);
        market.submitResult(jobId, terms, keccak256("r"), "", "");
    }

    function test_accept_secondRoundDrawAndNoShowPenalty() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        vm.warp(vm.getBlockTimestamp() + terms.acceptWindow);
        address drawn;
        for (uint256 i; i < workers.length; ++i) {
            if (market.eligible(jobId, terms, 0, workers[i])) drawn = workers[i];
        }
        if (drawn == address(0) && market.eligible(jobId, terms, 0, verifier)) drawn = verifier;
        if (drawn == address(0) || drawn == terms.assignees[0]) return; // the redraw picked the no-show itself
        uint256 absentFree = _free(terms.assignees[0]);
        vm.prank(drawn);
        market.accept(jobId, terms, 0);
        assertEq(_free(terms.assignees[0]), absentFree - terms.noShowPenalty);
        assertEq(_ethOwed(requester), terms.noShowPenalty);
    }

    function test_accept_openToAnyServingWorkerAfterTwoWindows() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        vm.warp(vm.getBlockTimestamp() + 2 * uint256(terms.acceptWindow));
        address outsider = makeAddr("outsider");
        assertFalse(market.eligible(jobId, terms, 0, outsider));
        assertTrue(market.eligible(jobId, terms, 0, verifier) || terms.assignees[0] == verifier);
        _stakeAndServe(outsider, 5 ether);
        vm.prank(outsider);
        market.accept(jobId, terms, 0);
        assertEq(uint256(market.jobState(jobId).status), uint256(IAssayMarket.Status.Accepted));
    }

    function test_settle_refundsUnclaimedJobAfterClaimDeadline() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketTooEarly.selector, jobId, terms.claimDeadline + 1));
        market.settle(jobId, terms, _none(), "");
        vm.warp(uint256(terms.claimDeadline) + 1);
        market.settle(jobId, terms, _none(), "");
        assertEq(_ethOwed(requester), REWARD + terms.noShowPenalty);
    }

    function test_settle_slashesWorkerWhoAcceptedAndMissedTheDeadline() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        address worker = terms.assignees[0];
        vm.prank(worker);
        market.accept(jobId, terms, 0);
        IAssayMarket.Outcome memory outcome = IAssayMarket.Outcome(worker, 0, address(0));
        vm.warp(uint256(terms.resultDeadline) + 1);
        market.settle(jobId, terms, outcome, "");
        assertEq(_ethOwed(requester), REWARD + terms.collateral);
        assertEq(_locked(worker), 0);
        assertEq(_free(worker), STAKE - terms.collateral);
        assertEq(address(market).balance, REWARD + terms.collateral);
    }

    function test_cancel_refundsBeforeAnyTake() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketNotRequester.selector, jobId, address(this)));
        market.cancel(jobId, terms);
        vm.prank(requester);
        market.cancel(jobId, terms);
        assertEq(_ethOwed(requester), REWARD);
    }

    // ------------------------------------------------------------ challenges and audits

    function test_challenge_upheldSlashesWorkerToChallenger() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "wrong");
        address challenger = outcome.worker == verifier ? workers[0] : verifier;
        vm.prank(challenger);
        market.challenge{value: terms.collateral}(jobId, terms, outcome);
        assertEq(arbiter.disputes(), 1);
        outcome.challenger = challenger;
        uint256 reward = arbiter.ruleOn(jobId, 0);
        assertEq(reward, uint256(terms.collateral) * 1_000 / 10_000);
        market.settle(jobId, terms, outcome, "");
        assertEq(_ethOwed(challenger), terms.collateral + terms.collateral - reward);
        assertEq(_ethOwed(requester), REWARD);
        assertEq(_ethOwed(address(arbiter)), reward);
        assertEq(_ethOwed(outcome.worker), 0);
        assertEq(_locked(outcome.worker), 0);
    }

    function test_challenge_rejectedPaysBondToWorker() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "right");
        address challenger = outcome.worker == verifier ? workers[0] : verifier;
        vm.prank(challenger);
        market.challenge{value: terms.collateral}(jobId, terms, outcome);
        outcome.challenger = challenger;
        uint256 reward = arbiter.ruleOn(jobId, 1);
        market.settle(jobId, terms, outcome, "");
        uint256 fee = uint256(REWARD) * 250 / 10_000;
        assertEq(_ethOwed(outcome.worker), REWARD - fee + terms.collateral - reward);
        assertEq(_ethOwed(challenger), 0);
        assertEq(_locked(outcome.worker), 0);
    }

    function test_challenge_revertsForNonVerifierOrWrongBond() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "r");
        address stranger = makeAddr("stranger");
        vm.deal(stranger, 10 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IAssayMarket.MarketBadChallenge.selector, jobId, stranger, terms.collateral)
        );
        vm.prank(stranger);
        market.challenge{value: terms.collateral}(jobId, terms, outcome);
    }

    function test_settle_disputeTimeoutRefundsEveryone() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "r");
        address challenger = outcome.worker == verifier ? workers[0] : verifier;
        vm.prank(challenger);
        market.challenge{value: terms.collateral}(jobId, terms, outcome);
        outcome.challenger = challenger;
        vm.warp(vm.getBlockTimestamp() + terms.disputeWindow + 1);
        vm.expectRevert();
        arbiter.ruleOn(jobId, 0);
        market.settle(jobId, terms, outcome, "");
        assertEq(_ethOwed(requester), REWARD);
        assertEq(_ethOwed(challenger), terms.collateral);
        assertEq(_locked(outcome.worker), 0);
        assertEq(_free(outcome.worker), STAKE);
    }

    function test_settle_auditSendsJobToArbiter() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(_request(auditedModelId, 1, REWARD));
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "r");
        vm.roll(vm.getBlockNumber() + 1);
        vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
        market.settle(jobId, terms, outcome, "");
        assertEq(uint256(market.jobState(jobId).status), uint256(IAssayMarket.Status.Disputed));
        assertEq(arbiter.disputes(), 1);
        arbiter.ruleOn(jobId, 0);
        market.settle(jobId, terms, outcome, "");
        uint256 cut = uint256(terms.collateral) * 1_000 / 10_000;
        assertEq(_ethOwed(requester), REWARD + terms.collateral - cut);
    }

    // ------------------------------------------------------------ r >= 2

    function test_lifecycle_exactMajorityPaysMajorityAndSlashesMinority() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(3);
        bytes32[] memory results = new bytes32[](3);
        results[0] = keccak256("a");
        results[1] = keccak256("a");
        results[2] = keccak256("b");
        _commitReveal(jobId, terms, results);
        market.settle(jobId, terms, _none(), "");
        uint256 share = uint256(REWARD) / 3;
        uint256 fee = share * 250 / 10_000;
        assertEq(_ethOwed(terms.assignees[0]), share - fee);
        assertEq(_ethOwed(terms.assignees[1]), share - fee);
        assertEq(_ethOwed(terms.assignees[2]), 0);
        assertEq(_free(terms.assignees[2]), STAKE - terms.collateral);
        assertEq(_ethOwed(requester), REWARD - 2 * share + terms.collateral);
        assertEq(_ethOwed(treasury), 2 * fee);
    }

    function test_lifecycle_noMajorityGoesToArbiterWhichPaysTheValid() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(3);
        bytes32[] memory results = new bytes32[](3);
        results[0] = keccak256("a");
        results[1] = keccak256("b");
        results[2] = keccak256("c");
        _commitReveal(jobId, terms, results);
        market.settle(jobId, terms, _none(), "");
        assertEq(uint256(market.jobState(jobId).status), uint256(IAssayMarket.Status.Disputed));
        arbiter.ruleOn(jobId, 0x1);
        market.settle(jobId, terms, _none(), "");
        uint256 share = uint256(REWARD) / 3;
        assertEq(_ethOwed(terms.assignees[0]), share - share * 250 / 10_000);
        assertEq(_free(terms.assignees[1]), STAKE - terms.collateral);
        assertEq(_free(terms.assignees[2]), STAKE - terms.collateral);
    }

    function test_lifecycle_tolerantModeDisagreementGoesToArbiter() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(_request(embeddingModelId, 3, REWARD));
        bytes32[] memory results = new bytes32[](3);
        results[0] = keccak256("a");
        results[1] = keccak256("a");
        results[2] = keccak256("a'");
        _commitReveal(jobId, terms, results);
        market.settle(jobId, terms, _none(), "");
        assertEq(uint256(market.jobState(jobId).status), uint256(IAssayMarket.Status.Disputed));
        // all three within tolerance: nobody slashed, everyone paid
        arbiter.ruleOn(jobId, 0x7);
        market.settle(jobId, terms, _none(), "");
        for (uint256 i; i < 3; ++i) {
            assertEq(_locked(terms.assignees[i]), 0);
            assertEq(_free(terms.assignees[i]), STAKE);
            assertGt(_ethOwed(terms.assignees[i]), 0);
        }
    }

    function test_settle_slashesNonRevealer() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(3);
        bytes32 h = keccak256("a");
        for (uint256 i; i < 3; ++i) {
            vm.prank(terms.assignees[i]);
            market.commit(jobId, terms, i, _commitment(jobId, terms.assignees[i], h));
        }
        for (uint256 i; i < 2; ++i) {
            vm.prank(terms.assignees[i]);
            market.reveal(jobId, terms, i, h, bytes32(uint256(7)), "", "");
        }
        vm.warp(vm.getBlockTimestamp() + terms.revealWindow + 1);
        vm.roll(vm.getBlockNumber() + 1);
        market.settle(jobId, terms, _none(), "");
        assertEq(_free(terms.assignees[2]), STAKE - terms.collateral);
        assertGt(_ethOwed(terms.assignees[0]), 0);
    }

    function test_reveal_revertsOnCommitmentMismatch() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(2);
        for (uint256 i; i < 2; ++i) {
            vm.prank(terms.assignees[i]);
            market.commit(jobId, terms, i, _commitment(jobId, terms.assignees[i], keccak256("a")));
        }
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketCommitmentMismatch.selector, jobId, 0));
        vm.prank(terms.assignees[0]);
        market.reveal(jobId, terms, 0, keccak256("b"), bytes32(uint256(7)), "", "");
    }

    function test_commit_revertsWhenWorkerTakesASecondSlot() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(2);
        vm.warp(vm.getBlockTimestamp() + 2 * uint256(terms.acceptWindow));
        vm.prank(terms.assignees[0]);
        market.accept(jobId, terms, 0);
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketNotEligible.selector, jobId, 1, terms.assignees[0]));
        vm.prank(terms.assignees[0]);
        market.accept(jobId, terms, 1);
    }

    function test_settle_partlyStaffedJobIsRefundedAndWorkersReleased() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(3);
        vm.prank(terms.assignees[0]);
        market.accept(jobId, terms, 0);
        vm.warp(uint256(terms.claimDeadline) + 1);
        market.settle(jobId, terms, _none(), "");
        assertEq(_locked(terms.assignees[0]), 0);
        assertEq(_free(terms.assignees[0]), STAKE);
        assertEq(_ethOwed(requester), REWARD + 2 * terms.noShowPenalty);
    }

    // ------------------------------------------------------------ admin

    /// a registry for a market deployed next, naming `registryMarket` and `registryArbiter`
    function _registryNaming(address registryMarket, address registryArbiter) private returns (IWorkerRegistry) {
        return IWorkerRegistry(address(new WorkerRegistry(registryMarket, registryArbiter, models, 1 days)));
    }

    function _nextMarketAddress() private view returns (address) {
        // the registry is deployed first, then the market
        return vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
    }

    function test_constructor_revertsWhenRegistryNamesAnotherMarketOrArbiter() public {
        IWorkerRegistry wrongMarket = _registryNaming(makeAddr("elsewhere"), address(arbiter));
        vm.expectRevert(IAssayMarket.MarketBadParams.selector);
        new AssayMarket(wrongMarket, models, arbiter, treasury, defaultParams(), owner);

        IWorkerRegistry wrongArbiter = _registryNaming(_nextMarketAddress(), makeAddr("otherArbiter"));
        vm.expectRevert(IAssayMarket.MarketBadParams.selector);
        new AssayMarket(wrongArbiter, models, arbiter, treasury, defaultParams(), owner);

        address next = _nextMarketAddress();
        IWorkerRegistry matching = _registryNaming(next, address(arbiter));
        assertEq(address(new AssayMarket(matching, models, arbiter, treasury, defaultParams(), owner)), next);
    }

    /// a delegatecall to a codeless address succeeds: without this check an unlinked settlement
    /// library would let `challenge` keep the bond and `settle` report success having paid nobody
    function test_constructor_revertsWhenSettlementLibraryHasNoCode() public {
        IWorkerRegistry matching = _registryNaming(_nextMarketAddress(), address(arbiter));
        vm.etch(address(JobSettlement), "");
        vm.expectRevert(IAssayMarket.MarketBadParams.selector);
        new AssayMarket(matching, models, arbiter, treasury, defaultParams(), owner);
    }

    function test_pause_blocksPostsAndTakesButNotSettlement() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "r");
        (uint256 openId, IAssayMarket.JobTerms memory openTerms) = _post(1);
        vm.prank(owner);
        market.pause();
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        vm.expectRevert(IAssayMarket.EnforcedPause.selector);
        vm.prank(requester);
        market.postJob{value: REWARD}(request, "x", "");
        vm.expectRevert(IAssayMarket.EnforcedPause.selector);
        vm.prank(openTerms.assignees[0]);
        market.accept(openId, openTerms, 0);
        vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
        market.settle(jobId, terms, outcome, "");
        vm.prank(outcome.worker);
        market.withdraw(address(0));
    }

    function test_pause_onlyOwnerOnceAndUnpauseLiftsIt() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        market.pause();
        vm.expectEmit(address(market));
        emit IAssayMarket.Paused(owner);
        vm.prank(owner);
        market.pause();
        assertTrue(market.paused());
        vm.expectRevert(IAssayMarket.EnforcedPause.selector);
        vm.prank(owner);
        market.pause();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        market.unpause();
        vm.expectEmit(address(market));
        emit IAssayMarket.Unpaused(owner);
        vm.prank(owner);
        market.unpause();
        assertFalse(market.paused());
        (uint256 jobId,) = _post(1);
        assertEq(market.jobCount(), jobId);
    }

    function test_unpause_revertsWhenNotPaused() public {
        vm.expectRevert(IAssayMarket.ExpectedPause.selector);
        vm.prank(owner);
        market.unpause();
    }

    function test_setParams_onlyOwnerWithinBounds() public {
        IAssayMarket.Params memory p = defaultParams();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        market.setParams(p);
        p.feeBps = 1_001;
        vm.expectRevert(IAssayMarket.MarketBadParams.selector);
        vm.prank(owner);
        market.setParams(p);
        p.feeBps = 500;
        vm.prank(owner);
        market.setParams(p);
        assertEq(market.params().feeBps, 500);
    }

    function test_setParams_doesNotTouchPostedJobs() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        IAssayMarket.Params memory p = defaultParams();
        p.feeBps = 1_000;
        vm.prank(owner);
        market.setParams(p);
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "r");
        vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
        market.settle(jobId, terms, outcome, "");
        assertEq(_ethOwed(treasury), uint256(REWARD) * 250 / 10_000);
    }

    function test_transferOwnership_isTwoStep() public {
        address next = makeAddr("next");
        vm.prank(owner);
        market.transferOwnership(next);
        assertEq(market.owner(), owner);
        vm.prank(next);
        market.acceptOwnership();
        assertEq(market.owner(), next);
    }

    function test_receive_rejectsStrayETH() public {
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketUnexpectedETH.selector, address(this)));
        (bool ok,) = address(market).call{value: 1}("");
        ok;
    }

    function test_withdraw_revertsWithNothingOwed() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAssayMarket.MarketNothingToWithdraw.selector, address(this), address(0))
        );
        market.withdraw(address(0));
    }
}
