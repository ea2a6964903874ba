// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "./Base.t.sol";
import {JobMarket} from "../../contracts/JobMarket.sol";
import {StakingRegistry} from "../../contracts/StakingRegistry.sol";
import {IJobMarket} from "../../contracts/interfaces/IJobMarket.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";

contract JobMarketTest is Base {
    IJobMarket.JobStatus internal constant NONE = IJobMarket.JobStatus.None;
    IJobMarket.JobStatus internal constant OPEN = IJobMarket.JobStatus.Open;
    IJobMarket.JobStatus internal constant CLAIMED = IJobMarket.JobStatus.Claimed;
    IJobMarket.JobStatus internal constant SUBMITTED = IJobMarket.JobStatus.Submitted;
    IJobMarket.JobStatus internal constant FINALIZED = IJobMarket.JobStatus.Finalized;
    IJobMarket.JobStatus internal constant REFUNDED = IJobMarket.JobStatus.Refunded;
    IJobMarket.JobStatus internal constant CANCELLED = IJobMarket.JobStatus.Cancelled;

    // constructor

    function test_constructor_emitsConfiguration() public {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        StakingRegistry fresh = new StakingRegistry(predicted, COOLDOWN);
        vm.expectEmit(true, true, false, true, predicted);
        emit IJobMarket.MarketConfigured(address(fresh), treasury, 100, 5_000, 1, 30);
        JobMarket m = new JobMarket(fresh, treasury, 100, 5_000, 1, 30);
        assertEq(address(m), predicted);
        assertEq(address(m.staking()), address(fresh));
        assertEq(m.treasury(), treasury);
        assertEq(m.feeBps(), 100);
        assertEq(m.collateralBps(), 5_000);
        assertEq(m.minCollateral(), 1);
        assertEq(m.challengeWindow(), 30);
        assertEq(m.jobCount(), 0);
    }

    function test_constructor_fixtureConfiguration() public view {
        assertEq(address(market.staking()), address(registry));
        assertEq(registry.market(), address(market));
        assertEq(market.treasury(), treasury);
        assertEq(market.feeBps(), FEE_BPS);
        assertEq(market.collateralBps(), COLLATERAL_BPS);
        assertEq(market.minCollateral(), MIN_COLLATERAL);
        assertEq(market.challengeWindow(), WINDOW);
        assertEq(market.MAX_FEE_BPS(), 1_000);
        assertEq(market.MAX_COLLATERAL_BPS(), 50_000);
        assertEq(market.MAX_CHALLENGE_WINDOW(), 7 days);
        assertEq(market.MAX_INLINE_INPUT(), 16_384);
    }

    function test_constructor_acceptsUpperBounds() public {
        (, JobMarket m) = deploy(1_000, 50_000, type(uint128).max, 7 days);
        assertEq(m.feeBps(), 1_000);
        assertEq(m.collateralBps(), 50_000);
        assertEq(m.minCollateral(), type(uint128).max);
        assertEq(m.challengeWindow(), 7 days);
    }

    function test_constructor_badConfigRegistryForAnotherMarket() public {
        // `registry` names the fixture's market, not the one being deployed
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketBadConfig.selector));
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
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketBadConfig.selector));
        new JobMarket(fresh, treasury_, feeBps, collateralBps, MIN_COLLATERAL, window);
    }

    // receive

    function test_receive_unexpectedETH() public {
        vm.prank(other);
        (bool ok, bytes memory data) = address(market).call{value: 1 ether}("");
        assertFalse(ok);
        assertEq(data, abi.encodeWithSelector(IJobMarket.MarketUnexpectedETH.selector, other));
        assertEq(address(market).balance, 0);
        assertEq(other.balance, FUNDS);
    }

    function test_receive_unexpectedETHFromTreasury() public {
        vm.deal(treasury, 1 ether);
        vm.prank(treasury);
        (bool ok, bytes memory data) = address(market).call{value: 1 ether}("");
        assertFalse(ok);
        assertEq(data, abi.encodeWithSelector(IJobMarket.MarketUnexpectedETH.selector, treasury));
        assertEq(treasury.balance, 1 ether);
    }

    function test_receive_acceptsETHFromRegistry() public {
        vm.deal(address(registry), 1 ether);
        vm.prank(address(registry));
        (bool ok,) = address(market).call{value: 1 ether}("");
        assertTrue(ok);
        assertEq(address(market).balance, 1 ether);
    }

    // postJob

    function test_postJob_escrowsRewardAndEmitsInput() public {
        uint64 claimDeadline = claimBy();
        uint64 resultDeadline = resultBy();
        vm.expectEmit(true, true, true, true, address(market));
        emit IJobMarket.JobPosted(
            1, requester, MODEL, REWARD, claimDeadline, resultDeadline, keccak256(INPUT), INPUT, ""
        );
        vm.prank(requester);
        uint256 jobId = market.postJob{value: REWARD}(MODEL, INPUT, claimDeadline, resultDeadline);
        assertEq(jobId, 1);
        assertEq(market.jobCount(), 1);
        assertEq(address(market).balance, REWARD);
        assertEq(requester.balance, FUNDS - REWARD);
        assertEq(market.balanceOf(requester), 0);
        IJobMarket.Job memory job = market.getJob(jobId);
        assertEq(job.requester, requester);
        assertEq(job.claimDeadline, claimDeadline);
        assertEq(job.resultDeadline, resultDeadline);
        assertEq(uint8(job.status), uint8(OPEN));
        assertEq(job.worker, address(0));
        assertEq(job.challengeEnd, 0);
        assertEq(job.reward, REWARD);
        assertEq(job.collateral, 0);
        assertEq(job.modelId, MODEL);
        assertEq(job.resultHash, bytes32(0));
        assertPhase(jobId, IJobMarket.JobPhase.Open);
    }

    function test_postJob_idsIncrease() public {
        assertEq(post(REWARD), 1);
        assertEq(postByURI(2 * REWARD), 2);
        assertEq(post(3 * REWARD), 3);
        assertEq(market.jobCount(), 3);
        assertEq(market.getJob(2).reward, 2 * REWARD);
        assertEq(address(market).balance, 6 * REWARD);
    }

    function test_postJob_acceptsMaxInlineInput() public {
        bytes memory input = new bytes(16_384);
        input[16_383] = 0x01;
        vm.expectEmit(true, true, true, true, address(market));
        emit IJobMarket.JobPosted(1, requester, MODEL, REWARD, claimBy(), resultBy(), keccak256(input), input, "");
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, input, claimBy(), resultBy());
        assertStatus(1, OPEN);
    }

    function test_postJob_acceptsTightestDeadlines() public {
        uint64 now_ = uint64(block.timestamp);
        vm.prank(requester);
        uint256 jobId = market.postJob{value: REWARD}(MODEL, INPUT, now_ + 1, now_ + 2);
        assertEq(market.getJob(jobId).claimDeadline, now_ + 1);
        assertEq(market.getJob(jobId).resultDeadline, now_ + 2);
    }

    function test_postJob_acceptsResultDeadlineAtUint40Max() public {
        uint64 last = type(uint40).max;
        vm.prank(requester);
        uint256 jobId = market.postJob{value: REWARD}(MODEL, INPUT, last - 1, last);
        assertEq(market.getJob(jobId).claimDeadline, last - 1);
        assertEq(market.getJob(jobId).resultDeadline, last);
    }

    function test_postJob_zeroReward() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketZeroReward.selector));
        post(0);
    }

    function test_postJob_rewardTooLarge() public {
        uint256 huge = uint256(type(uint128).max) + 1;
        vm.deal(requester, huge);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketRewardTooLarge.selector, huge));
        post(huge);
    }

    function test_postJob_acceptsUint128MaxReward() public {
        uint256 max = type(uint128).max;
        vm.deal(requester, max);
        uint256 jobId = post(max);
        assertEq(market.getJob(jobId).reward, max);
    }

    function test_postJob_missingInput() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketMissingInput.selector));
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, "", claimBy(), resultBy());
    }

    function test_postJob_inputTooLarge() public {
        bytes memory input = new bytes(16_385);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketInputTooLarge.selector, 16_385, 16_384));
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, input, claimBy(), resultBy());
    }

    function test_postJob_badDeadlinesClaimDeadlineNow() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, now_, now_ + 10, now_));
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, INPUT, now_, now_ + 10);
    }

    function test_postJob_badDeadlinesClaimDeadlinePast() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, now_ - 1, now_ + 10, now_));
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, INPUT, now_ - 1, now_ + 10);
    }

    function test_postJob_badDeadlinesResultEqualsClaim() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, now_ + 10, now_ + 10, now_));
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, INPUT, now_ + 10, now_ + 10);
    }

    function test_postJob_badDeadlinesResultBeforeClaim() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, now_ + 10, now_ + 9, now_));
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, INPUT, now_ + 10, now_ + 9);
    }

    function test_postJob_badDeadlinesBeyondUint40() public {
        uint64 tooLate = uint64(type(uint40).max) + 1;
        uint64 claimDeadline = claimBy();
        vm.expectRevert(
            abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, claimDeadline, tooLate, block.timestamp)
        );
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, INPUT, claimDeadline, tooLate);
    }

    // postJobByURI

    function test_postJobByURI_escrowsRewardAndEmitsHashAndURI() public {
        uint64 claimDeadline = claimBy();
        uint64 resultDeadline = resultBy();
        vm.expectEmit(true, true, true, true, address(market));
        emit IJobMarket.JobPosted(1, requester, MODEL, REWARD, claimDeadline, resultDeadline, INPUT_HASH, "", INPUT_URI);
        vm.prank(requester);
        uint256 jobId = market.postJobByURI{value: REWARD}(MODEL, INPUT_HASH, INPUT_URI, claimDeadline, resultDeadline);
        assertEq(jobId, 1);
        assertEq(market.jobCount(), 1);
        assertEq(address(market).balance, REWARD);
        assertEq(requester.balance, FUNDS - REWARD);
        IJobMarket.Job memory job = market.getJob(jobId);
        assertEq(job.requester, requester);
        assertEq(job.reward, REWARD);
        assertEq(job.modelId, MODEL);
        assertEq(job.claimDeadline, claimDeadline);
        assertEq(job.resultDeadline, resultDeadline);
        assertEq(uint8(job.status), uint8(OPEN));
        assertPhase(jobId, IJobMarket.JobPhase.Open);
    }

    function test_postJobByURI_zeroReward() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketZeroReward.selector));
        postByURI(0);
    }

    function test_postJobByURI_rewardTooLarge() public {
        uint256 huge = type(uint256).max;
        vm.deal(requester, huge);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketRewardTooLarge.selector, huge));
        postByURI(huge);
    }

    function test_postJobByURI_missingInputHash() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketMissingInput.selector));
        vm.prank(requester);
        market.postJobByURI{value: REWARD}(MODEL, bytes32(0), INPUT_URI, claimBy(), resultBy());
    }

    function test_postJobByURI_missingURI() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketMissingInput.selector));
        vm.prank(requester);
        market.postJobByURI{value: REWARD}(MODEL, INPUT_HASH, "", claimBy(), resultBy());
    }

    function test_postJobByURI_badDeadlines() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, now_ + 5, now_ + 5, now_));
        vm.prank(requester);
        market.postJobByURI{value: REWARD}(MODEL, INPUT_HASH, INPUT_URI, now_ + 5, now_ + 5);
        assertEq(market.jobCount(), 0);
    }

    // claim

    function test_claim_locksCollateral() public {
        uint256 jobId = post(REWARD);
        stakeAs(worker, 1 ether);
        vm.expectEmit(true, true, false, true, address(market));
        emit IJobMarket.JobClaimed(jobId, worker, REWARD);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.CollateralLocked(worker, REWARD);
        claimAs(worker, jobId);
        IJobMarket.Job memory job = market.getJob(jobId);
        assertEq(job.worker, worker);
        assertEq(job.collateral, REWARD);
        assertEq(uint8(job.status), uint8(CLAIMED));
        assertPhase(jobId, IJobMarket.JobPhase.Claimed);
        assertStake(worker, 1 ether - REWARD, REWARD, 0);
        assertEq(address(registry).balance, 1 ether);
        assertEq(address(market).balance, REWARD);
    }

    function test_claim_locksFloorCollateralForSmallReward() public {
        uint256 jobId = post(0.001 ether);
        stakeAs(worker, MIN_COLLATERAL);
        vm.expectEmit(true, true, false, true, address(market));
        emit IJobMarket.JobClaimed(jobId, worker, MIN_COLLATERAL);
        claimAs(worker, jobId);
        assertEq(market.getJob(jobId).collateral, MIN_COLLATERAL);
        assertStake(worker, 0, MIN_COLLATERAL, 0);
    }

    function test_claim_atClaimDeadline() public {
        uint256 jobId = post(REWARD);
        stakeAs(worker, 1 ether);
        vm.warp(market.getJob(jobId).claimDeadline);
        claimAs(worker, jobId);
        assertStatus(jobId, CLAIMED);
    }

    function test_claim_zeroCollateralNeedsNoStake() public {
        // a deployment may choose no collateral at all: claims then lock nothing
        (registry, market) = deploy(FEE_BPS, 0, 0, WINDOW);
        uint256 jobId = post(REWARD);
        vm.expectEmit(true, true, false, true, address(market));
        emit IJobMarket.JobClaimed(jobId, worker, 0);
        claimAs(worker, jobId);
        assertEq(market.getJob(jobId).collateral, 0);
        assertEq(market.getJob(jobId).worker, worker);
        assertStake(worker, 0, 0, 0);
        submitAs(worker, jobId);
        skip(WINDOW);
        market.finalize(jobId);
        uint256 fee = REWARD * FEE_BPS / 10_000;
        assertEq(market.balanceOf(worker), REWARD - fee);
        assertEq(market.balanceOf(treasury), fee);
        assertEq(address(registry).balance, 0);
    }

    function test_claim_claimClosed() public {
        uint256 jobId = post(REWARD);
        stakeAs(worker, 1 ether);
        uint256 deadline = market.getJob(jobId).claimDeadline;
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketClaimClosed.selector, jobId, deadline));
        claimAs(worker, jobId);
        assertStake(worker, 1 ether, 0, 0);
    }

    function test_claim_wrongStatusAlreadyClaimed() public {
        uint256 jobId = claimed(REWARD);
        stakeAs(other, 1 ether);
        vm.expectRevert(wrongStatus(jobId, CLAIMED, OPEN));
        claimAs(other, jobId);
        assertEq(market.getJob(jobId).worker, worker);
    }

    function test_claim_wrongStatusCancelled() public {
        uint256 jobId = post(REWARD);
        vm.prank(requester);
        market.cancel(jobId);
        stakeAs(worker, 1 ether);
        vm.expectRevert(wrongStatus(jobId, CANCELLED, OPEN));
        claimAs(worker, jobId);
    }

    function test_claim_wrongStatusUnknownJob() public {
        vm.expectRevert(wrongStatus(7, NONE, OPEN));
        claimAs(worker, 7);
    }

    function test_claim_insufficientStake() public {
        uint256 jobId = post(REWARD);
        stakeAs(worker, REWARD - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.StakingInsufficientFree.selector, worker, REWARD - 1, REWARD)
        );
        claimAs(worker, jobId);
        assertStatus(jobId, OPEN);
    }

    function test_claim_noStake() public {
        uint256 jobId = post(REWARD);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingInsufficientFree.selector, worker, 0, REWARD));
        claimAs(worker, jobId);
    }

    // submitResult

    function test_submitResult_startsChallengeWindow() public {
        uint256 jobId = claimed(REWARD);
        uint64 end = uint64(block.timestamp + WINDOW);
        vm.expectEmit(true, true, false, true, address(market));
        emit IJobMarket.ResultSubmitted(jobId, worker, RESULT, RESULT_URI, end);
        submitAs(worker, jobId);
        IJobMarket.Job memory job = market.getJob(jobId);
        assertEq(job.resultHash, RESULT);
        assertEq(job.challengeEnd, end);
        assertEq(uint8(job.status), uint8(SUBMITTED));
        assertPhase(jobId, IJobMarket.JobPhase.Submitted);
        assertStake(worker, STAKE - REWARD, REWARD, 0);
        assertEq(market.balanceOf(worker), 0);
    }

    function test_submitResult_atResultDeadline() public {
        uint256 jobId = claimed(REWARD);
        vm.warp(market.getJob(jobId).resultDeadline);
        submitAs(worker, jobId);
        assertStatus(jobId, SUBMITTED);
        assertEq(market.getJob(jobId).challengeEnd, block.timestamp + WINDOW);
    }

    function test_submitResult_wrongStatusOpen() public {
        uint256 jobId = post(REWARD);
        vm.expectRevert(wrongStatus(jobId, OPEN, CLAIMED));
        submitAs(worker, jobId);
    }

    function test_submitResult_wrongStatusAlreadySubmitted() public {
        uint256 jobId = submitted(REWARD);
        vm.expectRevert(wrongStatus(jobId, SUBMITTED, CLAIMED));
        vm.prank(worker);
        market.submitResult(jobId, keccak256("another"), RESULT_URI);
        assertEq(market.getJob(jobId).resultHash, RESULT);
    }

    function test_submitResult_notWorker() public {
        uint256 jobId = claimed(REWARD);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketNotWorker.selector, jobId, other));
        submitAs(other, jobId);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketNotWorker.selector, jobId, requester));
        submitAs(requester, jobId);
        assertStatus(jobId, CLAIMED);
    }

    function test_submitResult_late() public {
        uint256 jobId = claimed(REWARD);
        uint256 deadline = market.getJob(jobId).resultDeadline;
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketResultLate.selector, jobId, deadline));
        submitAs(worker, jobId);
    }

    function test_submitResult_zeroResultHash() public {
        uint256 jobId = claimed(REWARD);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketZeroResultHash.selector));
        vm.prank(worker);
        market.submitResult(jobId, bytes32(0), RESULT_URI);
    }

    // finalize

    function test_finalize_paysWorkerAndTreasuryOnce() public {
        uint256 jobId = submitted(REWARD);
        skip(WINDOW);
        assertPhase(jobId, IJobMarket.JobPhase.Finalizable);
        uint256 fee = REWARD * FEE_BPS / 10_000;
        assertEq(fee, 0.0025 ether);
        vm.expectEmit(true, true, false, true, address(market));
        emit IJobMarket.JobFinalized(jobId, worker, REWARD - fee, fee);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.CollateralUnlocked(worker, REWARD);
        vm.prank(other); // anyone may finalize
        market.finalize(jobId);
        assertEq(market.balanceOf(worker), REWARD - fee);
        assertEq(market.balanceOf(treasury), fee);
        assertEq(market.balanceOf(other), 0);
        assertEq(address(market).balance, REWARD);
        assertStake(worker, STAKE, 0, 0);
        assertStatus(jobId, FINALIZED);
        assertPhase(jobId, IJobMarket.JobPhase.Finalized);

        vm.expectRevert(wrongStatus(jobId, FINALIZED, SUBMITTED));
        market.finalize(jobId);
        vm.expectRevert(wrongStatus(jobId, FINALIZED, SUBMITTED));
        vm.prank(worker);
        market.finalize(jobId);
        assertEq(market.balanceOf(worker), REWARD - fee);
        assertEq(market.balanceOf(treasury), fee);
    }

    function test_finalize_atChallengeEndExactly() public {
        uint256 jobId = submitted(REWARD);
        vm.warp(market.getJob(jobId).challengeEnd);
        market.finalize(jobId);
        assertStatus(jobId, FINALIZED);
    }

    function test_finalize_zeroWindowSameBlock() public {
        (registry, market) = deploy(FEE_BPS, COLLATERAL_BPS, MIN_COLLATERAL, 0);
        uint256 jobId = submitted(REWARD);
        assertPhase(jobId, IJobMarket.JobPhase.Finalizable);
        market.finalize(jobId);
        assertStatus(jobId, FINALIZED);
    }

    function test_finalize_feeRoundsDown() public {
        uint256 jobId = submitted(39); // 39 * 250 / 10_000 = 0.975
        skip(WINDOW);
        market.finalize(jobId);
        assertEq(market.balanceOf(worker), 39);
        assertEq(market.balanceOf(treasury), 0);
        assertStake(worker, STAKE, 0, 0);
    }

    function test_finalize_zeroFee() public {
        (registry, market) = deploy(0, COLLATERAL_BPS, MIN_COLLATERAL, WINDOW);
        uint256 jobId = submitted(REWARD);
        skip(WINDOW);
        vm.expectEmit(true, true, false, true, address(market));
        emit IJobMarket.JobFinalized(jobId, worker, REWARD, 0);
        market.finalize(jobId);
        assertEq(market.balanceOf(worker), REWARD);
        assertEq(market.balanceOf(treasury), 0);
    }

    function test_finalize_maxFee() public {
        (registry, market) = deploy(1_000, COLLATERAL_BPS, MIN_COLLATERAL, WINDOW);
        uint256 jobId = submitted(1 ether);
        skip(WINDOW);
        market.finalize(jobId);
        assertEq(market.balanceOf(worker), 0.9 ether);
        assertEq(market.balanceOf(treasury), 0.1 ether);
    }

    function test_finalize_challengeWindowOpen() public {
        uint256 jobId = submitted(REWARD);
        uint256 end = market.getJob(jobId).challengeEnd;
        skip(WINDOW - 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketChallengeWindowOpen.selector, jobId, end));
        market.finalize(jobId);
        assertStatus(jobId, SUBMITTED);
        assertEq(market.balanceOf(worker), 0);
    }

    function test_finalize_wrongStatusClaimed() public {
        uint256 jobId = claimed(REWARD);
        vm.expectRevert(wrongStatus(jobId, CLAIMED, SUBMITTED));
        market.finalize(jobId);
    }

    function test_finalize_wrongStatusOpen() public {
        uint256 jobId = post(REWARD);
        vm.expectRevert(wrongStatus(jobId, OPEN, SUBMITTED));
        market.finalize(jobId);
    }

    function test_finalize_wrongStatusRefunded() public {
        uint256 jobId = claimed(REWARD);
        vm.warp(market.getJob(jobId).resultDeadline + 1);
        market.refund(jobId);
        vm.expectRevert(wrongStatus(jobId, REFUNDED, SUBMITTED));
        market.finalize(jobId);
    }

    function test_finalize_wrongStatusUnknownJob() public {
        vm.expectRevert(wrongStatus(1, NONE, SUBMITTED));
        market.finalize(1);
    }

    // refund

    function test_refund_unclaimedAfterClaimDeadline() public {
        uint256 jobId = post(REWARD);
        vm.warp(market.getJob(jobId).claimDeadline + 1);
        assertPhase(jobId, IJobMarket.JobPhase.Expired);
        vm.expectEmit(true, true, false, true, address(market));
        emit IJobMarket.JobRefunded(jobId, requester, REWARD, 0);
        vm.prank(other); // anyone may trigger the refund; the requester is credited
        market.refund(jobId);
        assertEq(market.balanceOf(requester), REWARD);
        assertEq(market.balanceOf(other), 0);
        assertEq(address(market).balance, REWARD);
        assertStatus(jobId, REFUNDED);
        assertPhase(jobId, IJobMarket.JobPhase.Refunded);

        vm.prank(requester);
        market.withdraw();
        assertEq(requester.balance, FUNDS);
        assertEq(address(market).balance, 0);
    }

    function test_refund_missedResultDeadlineSlashesWorker() public {
        uint256 jobId = claimed(REWARD);
        assertEq(address(registry).balance, STAKE);
        vm.warp(market.getJob(jobId).resultDeadline + 1);
        assertPhase(jobId, IJobMarket.JobPhase.Expired);
        vm.expectEmit(true, true, false, true, address(market));
        emit IJobMarket.JobRefunded(jobId, requester, 2 * REWARD, REWARD);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.CollateralSlashed(worker, REWARD);
        vm.prank(other);
        market.refund(jobId);
        assertEq(market.balanceOf(requester), 2 * REWARD);
        assertEq(market.balanceOf(worker), 0);
        assertEq(address(market).balance, 2 * REWARD);
        assertStake(worker, STAKE - REWARD, 0, 0);
        assertEq(address(registry).balance, STAKE - REWARD);
        assertStatus(jobId, REFUNDED);
        assertPhase(jobId, IJobMarket.JobPhase.Refunded);

        vm.prank(requester);
        market.withdraw();
        assertEq(requester.balance, FUNDS + REWARD, "reward back plus the worker's collateral");
        assertEq(address(market).balance, 0);
    }

    function test_refund_missedResultDeadlineSlashesFloorCollateral() public {
        uint256 reward = 0.001 ether;
        uint256 jobId = claimed(reward);
        vm.warp(market.getJob(jobId).resultDeadline + 1);
        market.refund(jobId);
        assertEq(market.balanceOf(requester), reward + MIN_COLLATERAL);
        assertStake(worker, STAKE - MIN_COLLATERAL, 0, 0);
        assertEq(address(market).balance, reward + MIN_COLLATERAL);
    }

    function test_refund_missedResultDeadlineWithZeroCollateral() public {
        (registry, market) = deploy(FEE_BPS, 0, 0, WINDOW);
        uint256 jobId = post(REWARD);
        claimAs(worker, jobId);
        vm.warp(market.getJob(jobId).resultDeadline + 1);
        vm.expectEmit(true, true, false, true, address(market));
        emit IJobMarket.JobRefunded(jobId, requester, REWARD, 0);
        market.refund(jobId);
        assertEq(market.balanceOf(requester), REWARD);
        assertStatus(jobId, REFUNDED);
    }

    function test_refund_notRefundableOpenAtClaimDeadline() public {
        uint256 jobId = post(REWARD);
        uint256 deadline = market.getJob(jobId).claimDeadline;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketNotRefundable.selector, jobId, OPEN, deadline));
        market.refund(jobId);
        assertStatus(jobId, OPEN);
    }

    function test_refund_notRefundableClaimedAtResultDeadline() public {
        uint256 jobId = claimed(REWARD);
        uint256 deadline = market.getJob(jobId).resultDeadline;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketNotRefundable.selector, jobId, CLAIMED, deadline));
        market.refund(jobId);
        assertStake(worker, STAKE - REWARD, REWARD, 0);
    }

    function test_refund_wrongStatusSubmitted() public {
        uint256 jobId = submitted(REWARD);
        vm.warp(block.timestamp + 365 days);
        vm.expectRevert(wrongStatus(jobId, SUBMITTED, OPEN));
        market.refund(jobId);
    }

    function test_refund_wrongStatusFinalized() public {
        uint256 jobId = submitted(REWARD);
        skip(WINDOW);
        market.finalize(jobId);
        vm.warp(block.timestamp + 365 days);
        vm.expectRevert(wrongStatus(jobId, FINALIZED, OPEN));
        market.refund(jobId);
    }

    function test_refund_wrongStatusCancelled() public {
        uint256 jobId = post(REWARD);
        vm.prank(requester);
        market.cancel(jobId);
        vm.warp(block.timestamp + 365 days);
        vm.expectRevert(wrongStatus(jobId, CANCELLED, OPEN));
        market.refund(jobId);
        assertEq(market.balanceOf(requester), REWARD);
    }

    function test_refund_wrongStatusAlreadyRefunded() public {
        uint256 jobId = claimed(REWARD);
        vm.warp(market.getJob(jobId).resultDeadline + 1);
        market.refund(jobId);
        vm.expectRevert(wrongStatus(jobId, REFUNDED, OPEN));
        market.refund(jobId);
        assertEq(market.balanceOf(requester), 2 * REWARD);
        assertStake(worker, STAKE - REWARD, 0, 0);
    }

    function test_refund_wrongStatusUnknownJob() public {
        vm.expectRevert(wrongStatus(3, NONE, OPEN));
        market.refund(3);
    }

    // cancel

    function test_cancel_creditsRequester() public {
        uint256 jobId = post(REWARD);
        vm.expectEmit(true, true, false, true, address(market));
        emit IJobMarket.JobCancelled(jobId, requester, REWARD);
        vm.prank(requester);
        market.cancel(jobId);
        assertEq(market.balanceOf(requester), REWARD);
        assertEq(address(market).balance, REWARD);
        assertStatus(jobId, CANCELLED);
        assertPhase(jobId, IJobMarket.JobPhase.Cancelled);

        vm.prank(requester);
        market.withdraw();
        assertEq(requester.balance, FUNDS);
        assertEq(address(market).balance, 0);
    }

    function test_cancel_afterClaimDeadline() public {
        uint256 jobId = post(REWARD);
        vm.warp(market.getJob(jobId).claimDeadline + 1);
        vm.prank(requester);
        market.cancel(jobId);
        assertEq(market.balanceOf(requester), REWARD);
        assertStatus(jobId, CANCELLED);
    }

    function test_cancel_notRequester() public {
        uint256 jobId = post(REWARD);
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketNotRequester.selector, jobId, other));
        vm.prank(other);
        market.cancel(jobId);
        assertStatus(jobId, OPEN);
        assertEq(market.balanceOf(other), 0);
    }

    function test_cancel_wrongStatusClaimed() public {
        uint256 jobId = claimed(REWARD);
        vm.expectRevert(wrongStatus(jobId, CLAIMED, OPEN));
        vm.prank(requester);
        market.cancel(jobId);
    }

    function test_cancel_wrongStatusAlreadyCancelled() public {
        uint256 jobId = post(REWARD);
        vm.prank(requester);
        market.cancel(jobId);
        vm.expectRevert(wrongStatus(jobId, CANCELLED, OPEN));
        vm.prank(requester);
        market.cancel(jobId);
        assertEq(market.balanceOf(requester), REWARD);
    }

    function test_cancel_wrongStatusUnknownJob() public {
        vm.expectRevert(wrongStatus(9, NONE, OPEN));
        vm.prank(requester);
        market.cancel(9);
    }

    // withdraw

    function test_withdraw_afterInlineJobLifecycle() public {
        lifecycle(false);
    }

    function test_withdraw_afterURIJobLifecycle() public {
        lifecycle(true);
    }

    /// @dev post → claim → submit → finalize → withdraw, checking balances and state at each step.
    function lifecycle(bool byURI) internal {
        uint256 reward = 1 ether;
        uint256 fee = 0.025 ether; // 250 bps

        uint256 jobId = byURI ? postByURI(reward) : post(reward);
        assertEq(requester.balance, FUNDS - reward);
        assertEq(address(market).balance, reward);
        assertStatus(jobId, OPEN);
        assertPhase(jobId, IJobMarket.JobPhase.Open);

        stakeAs(worker, STAKE);
        assertEq(address(registry).balance, STAKE);
        assertEq(worker.balance, FUNDS - STAKE);
        claimAs(worker, jobId);
        assertStatus(jobId, CLAIMED);
        assertStake(worker, STAKE - reward, reward, 0);
        assertEq(address(registry).balance, STAKE);

        submitAs(worker, jobId);
        assertStatus(jobId, SUBMITTED);
        skip(WINDOW - 1);
        assertPhase(jobId, IJobMarket.JobPhase.Submitted);
        skip(1);
        assertPhase(jobId, IJobMarket.JobPhase.Finalizable);

        market.finalize(jobId);
        assertStatus(jobId, FINALIZED);
        assertEq(market.balanceOf(worker), reward - fee);
        assertEq(market.balanceOf(treasury), fee);
        assertStake(worker, STAKE, 0, 0);
        assertEq(address(market).balance, reward);

        vm.expectEmit(true, false, false, true, address(market));
        emit IJobMarket.Withdrawn(worker, reward - fee);
        vm.prank(worker);
        market.withdraw();
        assertEq(worker.balance, FUNDS - STAKE + reward - fee);
        assertEq(market.balanceOf(worker), 0);
        assertEq(address(market).balance, fee);

        vm.expectEmit(true, false, false, true, address(market));
        emit IJobMarket.Withdrawn(treasury, fee);
        vm.prank(treasury);
        market.withdraw();
        assertEq(treasury.balance, fee);
        assertEq(market.balanceOf(treasury), 0);
        assertEq(address(market).balance, 0);
        assertEq(requester.balance, FUNDS - reward);
        assertEq(address(registry).balance, STAKE);
    }

    function test_withdraw_accumulatesAcrossJobs() public {
        stakeAs(worker, STAKE);
        uint256 a = post(REWARD);
        uint256 b = postByURI(3 * REWARD);
        claimAs(worker, a);
        claimAs(worker, b);
        assertStake(worker, STAKE - 4 * REWARD, 4 * REWARD, 0);
        submitAs(worker, a);
        submitAs(worker, b);
        skip(WINDOW);
        market.finalize(b);
        market.finalize(a);
        uint256 fee = 4 * REWARD * FEE_BPS / 10_000;
        assertEq(market.balanceOf(worker), 4 * REWARD - fee);
        assertEq(market.balanceOf(treasury), fee);
        vm.prank(worker);
        market.withdraw();
        assertEq(worker.balance, FUNDS - STAKE + 4 * REWARD - fee);
        assertEq(address(market).balance, fee);
    }

    function test_withdraw_nothingToWithdraw() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketNothingToWithdraw.selector, other));
        vm.prank(other);
        market.withdraw();
    }

    function test_withdraw_nothingLeftAfterWithdrawing() public {
        uint256 jobId = post(REWARD);
        vm.prank(requester);
        market.cancel(jobId);
        vm.prank(requester);
        market.withdraw();
        vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketNothingToWithdraw.selector, requester));
        vm.prank(requester);
        market.withdraw();
        assertEq(requester.balance, FUNDS);
    }

    function test_withdraw_reentrancyCannotDoublePay() public {
        ReenteringRequester attacker = new ReenteringRequester(market, false);
        vm.deal(address(attacker), 1 ether);
        uint256 jobId = attacker.postAndCancel(REWARD);
        post(REWARD); // someone else's escrow the attacker must not reach
        attacker.withdraw();
        assertTrue(attacker.attempted());
        assertFalse(attacker.reentered());
        assertEq(address(attacker).balance, 1 ether);
        assertEq(market.balanceOf(address(attacker)), 0);
        assertEq(address(market).balance, REWARD);
        assertPhase(jobId, IJobMarket.JobPhase.Cancelled);
    }

    function test_withdraw_reentrancyRevertBubbles() public {
        ReenteringRequester attacker = new ReenteringRequester(market, true);
        vm.deal(address(attacker), 1 ether);
        attacker.postAndCancel(REWARD);
        post(REWARD);
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector));
        attacker.withdraw();
        assertEq(market.balanceOf(address(attacker)), REWARD);
        assertEq(address(attacker).balance, 1 ether - REWARD);
        assertEq(address(market).balance, 2 * REWARD);
    }

    function test_withdraw_receiverRejectingETHKeepsBalance() public {
        EthRefuser refuser = new EthRefuser();
        vm.deal(address(refuser), 1 ether);
        vm.startPrank(address(refuser));
        uint256 jobId = market.postJob{value: REWARD}(MODEL, INPUT, claimBy(), resultBy());
        market.cancel(jobId);
        vm.expectRevert(abi.encodeWithSelector(Errors.FailedCall.selector));
        market.withdraw();
        vm.stopPrank();
        assertEq(market.balanceOf(address(refuser)), REWARD);
        assertEq(address(market).balance, REWARD);
    }

    // views

    function test_getJob_unknownJobIsEmpty() public view {
        IJobMarket.Job memory job = market.getJob(1);
        assertEq(job.requester, address(0));
        assertEq(uint8(job.status), uint8(NONE));
        assertEq(job.reward, 0);
        assertEq(market.jobCount(), 0);
    }

    function test_balanceOf_tracksCredits() public {
        assertEq(market.balanceOf(requester), 0);
        uint256 a = post(REWARD);
        uint256 b = post(2 * REWARD);
        vm.startPrank(requester);
        market.cancel(a);
        assertEq(market.balanceOf(requester), REWARD);
        market.cancel(b);
        assertEq(market.balanceOf(requester), 3 * REWARD);
        vm.stopPrank();
    }

    function test_collateralFor_appliesRatioAndFloor() public view {
        assertEq(market.collateralFor(1 ether), 1 ether);
        assertEq(market.collateralFor(MIN_COLLATERAL + 1), MIN_COLLATERAL + 1);
        assertEq(market.collateralFor(MIN_COLLATERAL), MIN_COLLATERAL);
        assertEq(market.collateralFor(MIN_COLLATERAL - 1), MIN_COLLATERAL);
        assertEq(market.collateralFor(1), MIN_COLLATERAL);
        assertEq(market.collateralFor(0), MIN_COLLATERAL);
    }

    function test_collateralFor_otherRatios() public {
        (, JobMarket m) = deploy(FEE_BPS, 25_000, 1 ether, WINDOW);
        assertEq(m.collateralFor(1 ether), 2.5 ether);
        assertEq(m.collateralFor(0.4 ether), 1 ether); // 0.4 * 2.5 = 1: exactly the floor
        assertEq(m.collateralFor(0.3 ether), 1 ether); // 0.75 < floor
        (, JobMarket none) = deploy(FEE_BPS, 0, 0.5 ether, WINDOW);
        assertEq(none.collateralFor(100 ether), 0.5 ether);
        (, JobMarket noFloor) = deploy(FEE_BPS, 5_000, 0, WINDOW);
        assertEq(noFloor.collateralFor(3), 1); // rounds down
        assertEq(noFloor.collateralFor(1), 0);
    }

    function test_phaseOf_unknownJobIsNone() public view {
        assertPhase(0, IJobMarket.JobPhase.None);
        assertPhase(42, IJobMarket.JobPhase.None);
    }

    function test_phaseOf_openUntilClaimDeadlineThenExpired() public {
        uint256 jobId = post(REWARD);
        vm.warp(market.getJob(jobId).claimDeadline);
        assertPhase(jobId, IJobMarket.JobPhase.Open);
        skip(1);
        assertPhase(jobId, IJobMarket.JobPhase.Expired);
        assertStatus(jobId, OPEN);
    }

    function test_phaseOf_claimedUntilResultDeadlineThenExpired() public {
        uint256 jobId = claimed(REWARD);
        vm.warp(market.getJob(jobId).resultDeadline);
        assertPhase(jobId, IJobMarket.JobPhase.Claimed);
        skip(1);
        assertPhase(jobId, IJobMarket.JobPhase.Expired);
        assertStatus(jobId, CLAIMED);
    }

    function test_phaseOf_submittedUntilChallengeEndThenFinalizable() public {
        uint256 jobId = submitted(REWARD);
        uint256 end = market.getJob(jobId).challengeEnd;
        vm.warp(end - 1);
        assertPhase(jobId, IJobMarket.JobPhase.Submitted);
        vm.warp(end);
        assertPhase(jobId, IJobMarket.JobPhase.Finalizable);
        vm.warp(end + 365 days); // a submitted job never expires
        assertPhase(jobId, IJobMarket.JobPhase.Finalizable);
    }

    function test_phaseOf_everyPhase() public {
        stakeAs(worker, STAKE);
        assertPhase(99, IJobMarket.JobPhase.None);

        uint256 done = post(REWARD);
        uint256 unclaimed = post(REWARD);
        uint256 abandoned = post(REWARD);
        uint256 cancelled = post(REWARD);
        assertPhase(done, IJobMarket.JobPhase.Open);

        claimAs(worker, done);
        claimAs(worker, abandoned);
        assertPhase(done, IJobMarket.JobPhase.Claimed);
        vm.prank(requester);
        market.cancel(cancelled);
        assertPhase(cancelled, IJobMarket.JobPhase.Cancelled);

        submitAs(worker, done);
        assertPhase(done, IJobMarket.JobPhase.Submitted);
        skip(WINDOW);
        assertPhase(done, IJobMarket.JobPhase.Finalizable);
        market.finalize(done);
        assertPhase(done, IJobMarket.JobPhase.Finalized);

        vm.warp(block.timestamp + RESULT_WINDOW + 1);
        assertPhase(unclaimed, IJobMarket.JobPhase.Expired);
        assertPhase(abandoned, IJobMarket.JobPhase.Expired);
        market.refund(unclaimed);
        market.refund(abandoned);
        assertPhase(unclaimed, IJobMarket.JobPhase.Refunded);
        assertPhase(abandoned, IJobMarket.JobPhase.Refunded);
        assertEq(market.balanceOf(requester), REWARD + REWARD + 2 * REWARD);
    }

    function test_jobCount_countsEveryPost() public {
        assertEq(market.jobCount(), 0);
        post(REWARD);
        postByURI(REWARD);
        assertEq(market.jobCount(), 2);
    }
}

/// @notice Posts and cancels its own job, then re-enters `withdraw` from its receive hook. With
/// `bubble` the re-entry's revert propagates; without, it is caught and recorded.
contract ReenteringRequester {
    JobMarket private immutable _market;
    bool private immutable _bubble;
    bool public attempted;
    bool public reentered;

    constructor(JobMarket market_, bool bubble) {
        _market = market_;
        _bubble = bubble;
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
        if (attempted) return;
        attempted = true;
        if (_bubble) {
            _market.withdraw();
            reentered = true;
        } else {
            try _market.withdraw() {
                reentered = true;
            } catch {}
        }
    }
}

/// @notice Refuses every ETH transfer.
contract EthRefuser {
    receive() external payable {
        revert();
    }
}
