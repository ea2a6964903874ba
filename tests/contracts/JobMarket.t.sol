// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "./Base.t.sol";
import {JobMarket} from "../../contracts/JobMarket.sol";
import {StakingRegistry} from "../../contracts/StakingRegistry.sol";
import {IJobMarket} from "../../contracts/interfaces/IJobMarket.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";

contract JobMarketTest is Base {
    // constructor

    function test_constructor_emitsConfiguration() public {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        StakingRegistry fresh = new StakingRegistry(predicted, COOLDOWN);
        vm.expectEmit(true, true, false, true);
        emit IJobMarket.MarketConfigured(address(fresh), treasury, 100, 5_000, 1, 30);
        JobMarket m = new JobMarket(fresh, treasury, 100, 5_000, 1, 30);
        assertEq(address(m.staking()), address(fresh));
        assertEq(m.treasury(), treasury);
        assertEq(m.feeBps(), 100);
        assertEq(m.challengeWindow(), 30);
    }

    function test_constructor_badConfigRegistryForAnotherMarket() public {
        vm.expectRevert(IJobMarket.MarketBadConfig.selector);
        new JobMarket(registry, treasury, FEE_BPS, COLLATERAL_BPS, MIN_COLLATERAL, WINDOW);
    }

    function test_constructor_badConfigZeroTreasury() public {
        expectBadConfig(address(0), FEE_BPS, COLLATERAL_BPS, WINDOW);
    }

    function test_constructor_badConfigFeeTooHigh() public {
        expectBadConfig(treasury, 1_001, COLLATERAL_BPS, WINDOW);
    }

    function test_constructor_badConfigCollateralTooHigh() public {
        expectBadConfig(treasury, FEE_BPS, 50_001, WINDOW);
    }

    function test_constructor_badConfigWindowTooLong() public {
        expectBadConfig(treasury, FEE_BPS, COLLATERAL_BPS, 7 days + 1);
    }

    function expectBadConfig(address treasury_, uint16 feeBps, uint16 collateralBps, uint64 window) internal {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        StakingRegistry fresh = new StakingRegistry(predicted, COOLDOWN);
        vm.expectRevert(IJobMarket.MarketBadConfig.selector);
        new JobMarket(fresh, treasury_, feeBps, collateralBps, MIN_COLLATERAL, window);
    }

    // postJob / postJobByURI

    function test_postJob_escrowsRewardAndEmitsInput() public {
        uint64 claimBy = uint64(block.timestamp + 1 hours);
        uint64 resultBy = uint64(block.timestamp + 2 hours);
        vm.expectEmit(true, true, true, true);
        emit IJobMarket.JobPosted(1, requester, MODEL, REWARD, claimBy, resultBy, keccak256("hello"), "hello", "");
        vm.prank(requester);
        uint256 jobId = market.postJob{value: REWARD}(MODEL, "hello", claimBy, resultBy);
        assertEq(jobId, 1);
        assertEq(market.jobCount(), 1);
        assertEq(address(market).balance, REWARD);
        IJobMarket.Job memory job = market.getJob(jobId);
        assertEq(job.requester, requester);
        assertEq(job.reward, REWARD);
        assertEq(job.modelId, MODEL);
        assertEq(job.claimDeadline, claimBy);
        assertEq(job.resultDeadline, resultBy);
        assertEq(uint8(job.status), uint8(IJobMarket.JobStatus.Open));
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Open));
    }

    function test_postJobByURI_emitsHashAndURI() public {
        uint64 claimBy = uint64(block.timestamp + 1 hours);
        uint64 resultBy = uint64(block.timestamp + 2 hours);
        bytes32 inputHash = keccak256("big input");
        vm.expectEmit(true, true, true, true);
        emit IJobMarket.JobPosted(1, requester, MODEL, REWARD, claimBy, resultBy, inputHash, "", "ipfs://input");
        vm.prank(requester);
        uint256 jobId = market.postJobByURI{value: REWARD}(MODEL, inputHash, "ipfs://input", claimBy, resultBy);
        assertEq(market.getJob(jobId).reward, REWARD);
    }

    function test_postJob_zeroReward() public {
        vm.expectRevert(IJobMarket.MarketZeroReward.selector);
        post(0);
    }

    function test_postJob_rewardTooLarge() public {
        uint256 huge = uint256(type(uint128).max) + 1;
        vm.deal(requester, huge);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketRewardTooLarge.selector, huge));
        post(huge);
    }

    function test_postJob_missingInput() public {
        vm.expectRevert(IJobMarket.MarketMissingInput.selector);
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, "", uint64(block.timestamp + 1), uint64(block.timestamp + 2));
    }

    function test_postJob_inputTooLarge() public {
        bytes memory input = new bytes(16_385);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketInputTooLarge.selector, 16_385, 16_384));
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, input, uint64(block.timestamp + 1), uint64(block.timestamp + 2));
    }

    function test_postJobByURI_missingInputHash() public {
        vm.expectRevert(IJobMarket.MarketMissingInput.selector);
        vm.prank(requester);
        market.postJobByURI{value: REWARD}(
            MODEL, bytes32(0), "ipfs://x", uint64(block.timestamp + 1), uint64(block.timestamp + 2)
        );
    }

    function test_postJobByURI_missingURI() public {
        vm.expectRevert(IJobMarket.MarketMissingInput.selector);
        vm.prank(requester);
        market.postJobByURI{value: REWARD}(
            MODEL, keccak256("x"), "", uint64(block.timestamp + 1), uint64(block.timestamp + 2)
        );
    }

    function test_postJob_badDeadlinesClaimNotInFuture() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, now_, now_ + 10, now_));
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, "x", now_, now_ + 10);
    }

    function test_postJob_badDeadlinesResultBeforeClaim() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, now_ + 10, now_ + 10, now_));
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, "x", now_ + 10, now_ + 10);
    }

    function test_postJob_badDeadlinesBeyondUint40() public {
        uint64 tooLate = uint64(type(uint40).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IJobMarket.MarketBadDeadlines.selector, block.timestamp + 1, tooLate, block.timestamp
            )
        );
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, "x", uint64(block.timestamp + 1), tooLate);
    }

    // claim

    function test_claim_locksCollateral() public {
        uint256 jobId = post(REWARD);
        stakeAs(worker, 1 ether);
        vm.expectEmit(true, true, false, true);
        emit IJobMarket.JobClaimed(jobId, worker, REWARD);
        vm.prank(worker);
        market.claim(jobId);
        IJobMarket.Job memory job = market.getJob(jobId);
        assertEq(job.worker, worker);
        assertEq(job.collateral, REWARD);
        assertEq(uint8(job.status), uint8(IJobMarket.JobStatus.Claimed));
        assertEq(stakeOf(worker).locked, REWARD);
        assertEq(stakeOf(worker).free, 1 ether - REWARD);
    }

    function test_claim_wrongStatus() public {
        uint256 jobId = claimed(REWARD);
        vm.expectRevert(wrongStatus(jobId, IJobMarket.JobStatus.Claimed, IJobMarket.JobStatus.Open));
        vm.prank(other);
        market.claim(jobId);
    }

    function test_claim_unknownJob() public {
        vm.expectRevert(wrongStatus(7, IJobMarket.JobStatus.None, IJobMarket.JobStatus.Open));
        vm.prank(worker);
        market.claim(7);
    }

    function test_claim_claimClosed() public {
        uint256 jobId = post(REWARD);
        stakeAs(worker, 1 ether);
        uint256 deadline = market.getJob(jobId).claimDeadline;
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketClaimClosed.selector, jobId, deadline));
        vm.prank(worker);
        market.claim(jobId);
    }

    function test_claim_insufficientStake() public {
        uint256 jobId = post(REWARD);
        stakeAs(worker, REWARD - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.StakingInsufficientFree.selector, worker, REWARD - 1, REWARD)
        );
        vm.prank(worker);
        market.claim(jobId);
    }

    // submitResult

    function test_submitResult_startsChallengeWindow() public {
        uint256 jobId = claimed(REWARD);
        vm.expectEmit(true, true, false, true);
        emit IJobMarket.ResultSubmitted(jobId, worker, RESULT, RESULT_URI, uint64(block.timestamp + WINDOW));
        vm.prank(worker);
        market.submitResult(jobId, RESULT, RESULT_URI);
        IJobMarket.Job memory job = market.getJob(jobId);
        assertEq(job.resultHash, RESULT);
        assertEq(job.challengeEnd, block.timestamp + WINDOW);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Submitted));
    }

    function test_submitResult_wrongStatus() public {
        uint256 jobId = post(REWARD);
        vm.expectRevert(wrongStatus(jobId, IJobMarket.JobStatus.Open, IJobMarket.JobStatus.Claimed));
        vm.prank(worker);
        market.submitResult(jobId, RESULT, RESULT_URI);
    }

    function test_submitResult_notWorker() public {
        uint256 jobId = claimed(REWARD);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketNotWorker.selector, jobId, other));
        vm.prank(other);
        market.submitResult(jobId, RESULT, RESULT_URI);
    }

    function test_submitResult_late() public {
        uint256 jobId = claimed(REWARD);
        uint256 deadline = market.getJob(jobId).resultDeadline;
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketResultLate.selector, jobId, deadline));
        vm.prank(worker);
        market.submitResult(jobId, RESULT, RESULT_URI);
    }

    function test_submitResult_zeroHash() public {
        uint256 jobId = claimed(REWARD);
        vm.expectRevert(IJobMarket.MarketZeroResultHash.selector);
        vm.prank(worker);
        market.submitResult(jobId, bytes32(0), RESULT_URI);
    }

    // finalize

    function test_finalize_paysWorkerAndTreasuryOnce() public {
        uint256 jobId = submitted(REWARD);
        skip(WINDOW);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Finalizable));
        uint256 fee = REWARD * FEE_BPS / 10_000;
        vm.expectEmit(true, true, false, true);
        emit IJobMarket.JobFinalized(jobId, worker, REWARD - fee, fee);
        vm.prank(other); // anyone may finalize
        market.finalize(jobId);
        assertEq(market.balanceOf(worker), REWARD - fee);
        assertEq(market.balanceOf(treasury), fee);
        assertEq(stakeOf(worker).locked, 0);
        assertEq(stakeOf(worker).free, 10 ether);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Finalized));
        vm.expectRevert(wrongStatus(jobId, IJobMarket.JobStatus.Finalized, IJobMarket.JobStatus.Submitted));
        market.finalize(jobId);
    }

    function test_finalize_challengeWindowOpen() public {
        uint256 jobId = submitted(REWARD);
        uint256 end = market.getJob(jobId).challengeEnd;
        skip(WINDOW - 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketChallengeWindowOpen.selector, jobId, end));
        market.finalize(jobId);
    }

    function test_finalize_wrongStatus() public {
        uint256 jobId = claimed(REWARD);
        vm.expectRevert(wrongStatus(jobId, IJobMarket.JobStatus.Claimed, IJobMarket.JobStatus.Submitted));
        market.finalize(jobId);
    }

    // refund

    function test_refund_unclaimedAfterClaimDeadline() public {
        uint256 jobId = post(REWARD);
        vm.warp(market.getJob(jobId).claimDeadline + 1);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Expired));
        vm.expectEmit(true, true, false, true);
        emit IJobMarket.JobRefunded(jobId, requester, REWARD, 0);
        vm.prank(other); // anyone may trigger the refund; the requester is credited
        market.refund(jobId);
        assertEq(market.balanceOf(requester), REWARD);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Refunded));
    }

    function test_refund_missedResultDeadlineSlashesWorker() public {
        uint256 jobId = claimed(REWARD);
        vm.warp(market.getJob(jobId).resultDeadline + 1);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Expired));
        vm.expectEmit(true, true, false, true);
        emit IJobMarket.JobRefunded(jobId, requester, 2 * REWARD, REWARD);
        market.refund(jobId);
        assertEq(market.balanceOf(requester), 2 * REWARD);
        assertEq(address(market).balance, 2 * REWARD);
        assertEq(stakeOf(worker).locked, 0);
        assertEq(stakeOf(worker).free, 10 ether - REWARD);
        assertEq(address(registry).balance, 10 ether - REWARD);
    }

    function test_refund_notRefundableWhileOpen() public {
        uint256 jobId = post(REWARD);
        uint256 deadline = market.getJob(jobId).claimDeadline;
        vm.warp(deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IJobMarket.MarketNotRefundable.selector, jobId, IJobMarket.JobStatus.Open, deadline)
        );
        market.refund(jobId);
    }

    function test_refund_notRefundableWhileClaimed() public {
        uint256 jobId = claimed(REWARD);
        uint256 deadline = market.getJob(jobId).resultDeadline;
        vm.expectRevert(
            abi.encodeWithSelector(
                IJobMarket.MarketNotRefundable.selector, jobId, IJobMarket.JobStatus.Claimed, deadline
            )
        );
        market.refund(jobId);
    }

    function test_refund_wrongStatusAfterSubmission() public {
        uint256 jobId = submitted(REWARD);
        vm.warp(block.timestamp + 365 days);
        vm.expectRevert(wrongStatus(jobId, IJobMarket.JobStatus.Submitted, IJobMarket.JobStatus.Open));
        market.refund(jobId);
    }

    // cancel

    function test_cancel_creditsRequester() public {
        uint256 jobId = post(REWARD);
        vm.expectEmit(true, true, false, true);
        emit IJobMarket.JobCancelled(jobId, requester, REWARD);
        vm.prank(requester);
        market.cancel(jobId);
        assertEq(market.balanceOf(requester), REWARD);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Cancelled));
    }

    function test_cancel_notRequester() public {
        uint256 jobId = post(REWARD);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketNotRequester.selector, jobId, other));
        vm.prank(other);
        market.cancel(jobId);
    }

    function test_cancel_wrongStatusOnceClaimed() public {
        uint256 jobId = claimed(REWARD);
        vm.expectRevert(wrongStatus(jobId, IJobMarket.JobStatus.Claimed, IJobMarket.JobStatus.Open));
        vm.prank(requester);
        market.cancel(jobId);
    }

    // withdraw

    function test_withdraw_sendsBalance() public {
        uint256 jobId = submitted(REWARD);
        skip(WINDOW);
        market.finalize(jobId);
        uint256 owed = market.balanceOf(worker);
        uint256 before = worker.balance;
        vm.expectEmit(true, false, false, true);
        emit IJobMarket.Withdrawn(worker, owed);
        vm.prank(worker);
        market.withdraw();
        assertEq(worker.balance, before + owed);
        assertEq(market.balanceOf(worker), 0);
        vm.prank(treasury);
        market.withdraw();
        assertEq(treasury.balance, REWARD - owed);
        assertEq(address(market).balance, 0);
    }

    function test_withdraw_nothingToWithdraw() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketNothingToWithdraw.selector, other));
        vm.prank(other);
        market.withdraw();
    }

    function test_withdraw_reentrancyCannotDoublePay() public {
        ReenteringRequester attacker = new ReenteringRequester(market);
        vm.deal(address(attacker), 1 ether);
        uint256 jobId = attacker.postAndCancel(REWARD);
        post(REWARD); // other escrow the attacker must not reach
        attacker.withdraw();
        assertEq(address(attacker).balance, 1 ether);
        assertFalse(attacker.reentered());
        assertEq(address(market).balance, REWARD);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Cancelled));
    }

    // receive, views

    function test_receive_unexpectedETH() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketUnexpectedETH.selector, other));
        vm.prank(other);
        (bool ok,) = address(market).call{value: 1}("");
        assertTrue(ok, "expectRevert reports a reverted low-level call as handled");
    }

    function test_collateralFor_appliesRatioAndFloor() public view {
        assertEq(market.collateralFor(1 ether), 1 ether);
        assertEq(market.collateralFor(0.001 ether), MIN_COLLATERAL);
        assertEq(market.collateralFor(0), MIN_COLLATERAL);
    }

    function test_phaseOf_everyPhase() public {
        assertEq(uint8(market.phaseOf(42)), uint8(IJobMarket.JobPhase.None));
        uint256 jobId = post(REWARD);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Open));
        stakeAs(worker, 1 ether);
        vm.prank(worker);
        market.claim(jobId);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Claimed));
        vm.prank(worker);
        market.submitResult(jobId, RESULT, RESULT_URI);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Submitted));
        skip(WINDOW);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Finalizable));
        market.finalize(jobId);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Finalized));
    }
}

/// @notice Cancels its own job, then re-enters `withdraw` from its receive hook.
contract ReenteringRequester {
    JobMarket private immutable _market;
    bool public reentered;
    bool private _inside;

    constructor(JobMarket market_) {
        _market = market_;
    }

    function postAndCancel(uint256 reward) external returns (uint256 jobId) {
        jobId = _market.postJob{value: reward}(
            keccak256("m"), "x", uint64(block.timestamp + 1), uint64(block.timestamp + 2)
        );
        _market.cancel(jobId);
    }

    function withdraw() external {
        _market.withdraw();
    }

    receive() external payable {
        if (_inside) return;
        _inside = true;
        try _market.withdraw() {
            reentered = true;
        } catch {}
        _inside = false;
    }
}
