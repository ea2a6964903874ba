// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "./Base.t.sol";
import {IJobMarket} from "../../contracts/interfaces/IJobMarket.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";

/// @notice Fuzzed money flows, deployment parameters and deadline validation.
contract JobMarketFuzzTest is Base {
    uint256 internal constant MAX_REWARD = 1_000_000 ether;

    function deployFuzzed(uint16 feeBps, uint16 collateralBps, uint128 minCollateral, uint64 window)
        internal
        returns (uint16, uint16, uint128, uint64)
    {
        feeBps = uint16(bound(feeBps, 0, 1_000));
        collateralBps = uint16(bound(collateralBps, 0, 50_000));
        minCollateral = uint128(bound(minCollateral, 0, 10 ether));
        window = uint64(bound(window, 0, 7 days));
        (registry, market) = deploy(feeBps, collateralBps, minCollateral, window);
        return (feeBps, collateralBps, minCollateral, window);
    }

    function stakeTotal(address who) internal view returns (uint256) {
        IStakingRegistry.Stake memory s = registry.stakeOf(who);
        return uint256(s.free) + s.locked + s.unstaking;
    }

    // money flows

    function testFuzz_finalize_lifecycleConservesValue(
        uint256 reward,
        uint16 feeBps,
        uint16 collateralBps,
        uint128 minCollateral,
        uint64 window,
        uint256 extraStake
    ) public {
        reward = bound(reward, 1, MAX_REWARD);
        extraStake = bound(extraStake, 0, 10 ether);
        (feeBps, collateralBps, minCollateral, window) = deployFuzzed(feeBps, collateralBps, minCollateral, window);
        uint256 collateral = market.collateralFor(reward);
        uint256 byRatio = reward * collateralBps / 10_000;
        assertEq(collateral, byRatio < minCollateral ? minCollateral : byRatio, "collateral: ratio with floor");
        uint256 staked = collateral + extraStake;
        vm.deal(requester, reward);
        vm.deal(worker, staked);
        vm.deal(treasury, 0);

        uint256 jobId = post(reward);
        assertEq(requester.balance, 0, "requester escrowed the whole reward");
        assertEq(address(market).balance, reward);
        if (staked != 0) stakeAs(worker, staked);
        claimAs(worker, jobId);
        assertStake(worker, extraStake, collateral, 0);
        assertEq(address(registry).balance, staked);
        submitAs(worker, jobId);
        skip(window);
        market.finalize(jobId);

        uint256 workerPay = market.balanceOf(worker);
        uint256 fee = market.balanceOf(treasury);
        assertEq(fee, reward * feeBps / 10_000, "fee in basis points, rounded down");
        assertEq(workerPay + fee, reward, "escrow == worker pay + fee");
        assertEq(market.balanceOf(requester), 0);
        assertEq(address(market).balance, workerPay + fee, "market holds exactly what it owes");
        assertEq(address(registry).balance, stakeTotal(worker), "registry holds exactly the stakes");
        assertStake(worker, staked, 0, 0);

        if (workerPay != 0) {
            vm.prank(worker);
            market.withdraw();
        }
        if (fee != 0) {
            vm.prank(treasury);
            market.withdraw();
        }
        assertEq(worker.balance, workerPay);
        assertEq(treasury.balance, fee);
        assertEq(address(market).balance, 0);

        if (staked != 0) {
            vm.prank(worker);
            registry.requestUnstake(staked);
            skip(COOLDOWN);
            vm.prank(worker);
            registry.withdraw();
        }
        assertEq(worker.balance, workerPay + staked, "worker ends with pay and its whole stake");
        assertEq(address(registry).balance, 0);
    }

    function testFuzz_refund_missedResultDeadlineReturnsRewardPlusCollateral(
        uint256 reward,
        uint16 collateralBps,
        uint128 minCollateral,
        uint256 extraStake,
        uint256 lateBy
    ) public {
        reward = bound(reward, 1, MAX_REWARD);
        (,,, uint64 window) = deployFuzzed(FEE_BPS, collateralBps, minCollateral, WINDOW);
        assertEq(window, WINDOW);
        uint256 collateral = market.collateralFor(reward);
        uint256 staked = collateral + bound(extraStake, 0, 100 ether);
        lateBy = bound(lateBy, 1, 3650 days);
        vm.deal(requester, reward);
        vm.deal(worker, staked);

        uint256 jobId = post(reward);
        if (staked != 0) stakeAs(worker, staked);
        claimAs(worker, jobId);
        vm.warp(market.getJob(jobId).resultDeadline + lateBy);
        vm.prank(other);
        market.refund(jobId);

        assertEq(market.balanceOf(requester), reward + collateral, "reward + slashed collateral");
        assertEq(market.balanceOf(worker), 0);
        assertEq(address(market).balance, reward + collateral);
        assertStake(worker, staked - collateral, 0, 0);
        assertEq(address(registry).balance, staked - collateral);
        vm.prank(requester);
        market.withdraw();
        assertEq(requester.balance, reward + collateral);
        assertEq(address(market).balance, 0);
        vm.expectRevert(wrongStatus(jobId, IJobMarket.JobStatus.Refunded, IJobMarket.JobStatus.Open));
        market.refund(jobId);
    }

    function testFuzz_refund_unclaimedReturnsExactlyReward(uint256 reward, uint256 lateBy) public {
        reward = bound(reward, 1, MAX_REWARD);
        lateBy = bound(lateBy, 1, 3650 days);
        vm.deal(requester, reward);
        stakeAs(worker, STAKE);
        uint256 jobId = post(reward);
        vm.warp(market.getJob(jobId).claimDeadline + lateBy);
        market.refund(jobId);
        assertEq(market.balanceOf(requester), reward);
        assertEq(address(market).balance, reward);
        assertStake(worker, STAKE, 0, 0);
        vm.prank(requester);
        market.withdraw();
        assertEq(requester.balance, reward);
        assertEq(address(market).balance, 0);
    }

    function testFuzz_cancel_returnsExactlyReward(uint256 reward, uint256 wait) public {
        reward = bound(reward, 1, MAX_REWARD);
        wait = bound(wait, 0, 3650 days);
        vm.deal(requester, reward);
        uint256 jobId = post(reward);
        skip(wait);
        vm.startPrank(requester);
        market.cancel(jobId);
        market.withdraw();
        vm.stopPrank();
        assertEq(requester.balance, reward);
        assertEq(address(market).balance, 0);
    }

    /// @dev Several jobs with mixed outcomes and two workers: after settlement the market holds
    /// exactly the sum of withdrawable balances and the registry exactly the sum of stakes.
    function testFuzz_settlement_marketAndRegistryBalancesMatchBooks(uint256 seed, uint256 count) public {
        count = bound(count, 1, 8);
        address[2] memory workers = [worker, other];
        uint256 total = requester.balance + worker.balance + other.balance + treasury.balance;
        stakeAs(worker, 20 ether);
        stakeAs(other, 20 ether);

        uint256[] memory ids = new uint256[](count);
        uint256[] memory outcomes = new uint256[](count);
        uint256 owedRequester;
        uint256[2] memory owedWorker;
        uint256 owedTreasury;
        uint256[2] memory slashed;
        for (uint256 i; i < count; ++i) {
            uint256 reward = bound(uint256(keccak256(abi.encode(seed, i))), 1, 2 ether);
            outcomes[i] = uint256(keccak256(abi.encode(seed, i, "outcome"))) % 4;
            ids[i] = i % 2 == 0 ? post(reward) : postByURI(reward);
            address w = workers[i % 2];
            if (outcomes[i] == 0) {
                // finalized
                claimAs(w, ids[i]);
                submitAs(w, ids[i]);
                uint256 fee = reward * FEE_BPS / 10_000;
                owedWorker[i % 2] += reward - fee;
                owedTreasury += fee;
            } else if (outcomes[i] == 1) {
                // claimed, result missed: refunded with the worker's collateral
                claimAs(w, ids[i]);
                uint256 collateral = market.collateralFor(reward);
                owedRequester += reward + collateral;
                slashed[i % 2] += collateral;
            } else if (outcomes[i] == 2) {
                // never claimed: refunded
                owedRequester += reward;
            } else {
                vm.prank(requester);
                market.cancel(ids[i]);
                owedRequester += reward;
            }
        }
        skip(WINDOW);
        for (uint256 i; i < count; ++i) {
            if (outcomes[i] == 0) market.finalize(ids[i]);
        }
        vm.warp(block.timestamp + RESULT_WINDOW);
        for (uint256 i; i < count; ++i) {
            if (outcomes[i] == 1 || outcomes[i] == 2) market.refund(ids[i]);
        }

        assertEq(market.balanceOf(requester), owedRequester);
        assertEq(market.balanceOf(worker), owedWorker[0]);
        assertEq(market.balanceOf(other), owedWorker[1]);
        assertEq(market.balanceOf(treasury), owedTreasury);
        assertEq(
            address(market).balance,
            owedRequester + owedWorker[0] + owedWorker[1] + owedTreasury,
            "market balance == sum of withdrawable balances"
        );
        assertStake(worker, 20 ether - slashed[0], 0, 0);
        assertStake(other, 20 ether - slashed[1], 0, 0);
        assertEq(address(registry).balance, stakeTotal(worker) + stakeTotal(other), "registry balance == sum of stakes");

        address[4] memory accounts = [requester, worker, other, treasury];
        for (uint256 i; i < accounts.length; ++i) {
            if (market.balanceOf(accounts[i]) == 0) continue;
            vm.prank(accounts[i]);
            market.withdraw();
        }
        assertEq(address(market).balance, 0);
        assertEq(
            requester.balance + worker.balance + other.balance + treasury.balance + address(registry).balance,
            total,
            "no wei created or lost"
        );
    }

    function testFuzz_collateralFor_ratioWithFloor(
        uint256 reward,
        uint16 feeBps,
        uint16 collateralBps,
        uint128 minCollateral
    ) public {
        reward = bound(reward, 0, type(uint128).max);
        (, collateralBps, minCollateral,) = deployFuzzed(feeBps, collateralBps, minCollateral, WINDOW);
        uint256 byRatio = reward * collateralBps / 10_000;
        uint256 collateral = market.collateralFor(reward);
        assertEq(collateral, byRatio < minCollateral ? minCollateral : byRatio);
        assertGe(collateral, minCollateral);
    }

    // deadlines

    /// @dev Any deadlines: accepted exactly when now < claimDeadline < resultDeadline <= type(uint40).max.
    function testFuzz_postJob_acceptsExactlyOrderedDeadlines(uint64 claimDeadline, uint64 resultDeadline, uint40 now_)
        public
    {
        vm.warp(now_);
        bool valid = claimDeadline > now_ && resultDeadline > claimDeadline && resultDeadline <= type(uint40).max;
        if (!valid) {
            vm.expectRevert(
                abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, claimDeadline, resultDeadline, now_)
            );
        }
        vm.prank(requester);
        uint256 jobId = market.postJob{value: REWARD}(MODEL, INPUT, claimDeadline, resultDeadline);
        if (valid) {
            assertEq(market.getJob(jobId).claimDeadline, claimDeadline);
            assertEq(market.getJob(jobId).resultDeadline, resultDeadline);
        } else {
            assertEq(market.jobCount(), 0);
        }
    }

    function testFuzz_postJobByURI_acceptsExactlyOrderedDeadlines(
        uint64 claimDeadline,
        uint64 resultDeadline,
        uint40 now_
    ) public {
        vm.warp(now_);
        bool valid = claimDeadline > now_ && resultDeadline > claimDeadline && resultDeadline <= type(uint40).max;
        if (!valid) {
            vm.expectRevert(
                abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, claimDeadline, resultDeadline, now_)
            );
        }
        vm.prank(requester);
        market.postJobByURI{value: REWARD}(MODEL, INPUT_HASH, INPUT_URI, claimDeadline, resultDeadline);
        assertEq(market.jobCount(), valid ? 1 : 0);
    }

    function testFuzz_postJob_acceptsValidDeadlines(uint256 now_, uint256 claimDeadline, uint256 resultDeadline)
        public
    {
        now_ = bound(now_, 0, uint256(type(uint40).max) - 2);
        claimDeadline = bound(claimDeadline, now_ + 1, uint256(type(uint40).max) - 1);
        resultDeadline = bound(resultDeadline, claimDeadline + 1, type(uint40).max);
        vm.warp(now_);
        vm.prank(requester);
        uint256 jobId = market.postJob{value: REWARD}(MODEL, INPUT, uint64(claimDeadline), uint64(resultDeadline));
        assertEq(market.getJob(jobId).claimDeadline, claimDeadline);
        assertEq(market.getJob(jobId).resultDeadline, resultDeadline);
        assertEq(uint8(market.phaseOf(jobId)), uint8(IJobMarket.JobPhase.Open));
    }

    function testFuzz_postJob_rejectsClaimDeadlineNotAfterNow(
        uint256 now_,
        uint256 claimDeadline,
        uint64 resultDeadline
    ) public {
        now_ = bound(now_, 0, type(uint64).max);
        claimDeadline = bound(claimDeadline, 0, now_);
        expectBadDeadlines(now_, claimDeadline, resultDeadline);
    }

    function testFuzz_postJob_rejectsResultDeadlineNotAfterClaim(
        uint256 now_,
        uint256 claimDeadline,
        uint256 resultDeadline
    ) public {
        now_ = bound(now_, 0, uint256(type(uint64).max) - 1);
        claimDeadline = bound(claimDeadline, now_ + 1, type(uint64).max);
        resultDeadline = bound(resultDeadline, 0, claimDeadline);
        expectBadDeadlines(now_, claimDeadline, resultDeadline);
    }

    function testFuzz_postJob_rejectsResultDeadlineBeyondUint40(
        uint256 now_,
        uint256 claimDeadline,
        uint256 resultDeadline
    ) public {
        resultDeadline = bound(resultDeadline, uint256(type(uint40).max) + 1, type(uint64).max);
        now_ = bound(now_, 0, resultDeadline - 2);
        claimDeadline = bound(claimDeadline, now_ + 1, resultDeadline - 1);
        expectBadDeadlines(now_, claimDeadline, resultDeadline);
    }

    function expectBadDeadlines(uint256 now_, uint256 claimDeadline, uint256 resultDeadline) internal {
        vm.warp(now_);
        vm.expectRevert(
            abi.encodeWithSelector(IJobMarket.MarketBadDeadlines.selector, claimDeadline, resultDeadline, now_)
        );
        vm.prank(requester);
        market.postJob{value: REWARD}(MODEL, INPUT, uint64(claimDeadline), uint64(resultDeadline));
    }

    function testFuzz_claim_onlyUntilClaimDeadline(uint256 wait) public {
        wait = bound(wait, 0, 2 * CLAIM_WINDOW);
        uint256 jobId = post(REWARD);
        stakeAs(worker, STAKE);
        uint256 deadline = market.getJob(jobId).claimDeadline;
        skip(wait);
        bool open = block.timestamp <= deadline;
        if (!open) vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketClaimClosed.selector, jobId, deadline));
        claimAs(worker, jobId);
        assertEq(
            uint8(market.getJob(jobId).status), uint8(open ? IJobMarket.JobStatus.Claimed : IJobMarket.JobStatus.Open)
        );
    }

    function testFuzz_submitResult_onlyUntilResultDeadline(uint256 wait) public {
        wait = bound(wait, 0, 2 * RESULT_WINDOW);
        uint256 jobId = claimed(REWARD);
        uint256 deadline = market.getJob(jobId).resultDeadline;
        skip(wait);
        bool inTime = block.timestamp <= deadline;
        if (!inTime) vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketResultLate.selector, jobId, deadline));
        submitAs(worker, jobId);
        if (inTime) assertEq(market.getJob(jobId).challengeEnd, block.timestamp + WINDOW);
    }

    function testFuzz_finalize_onlyFromChallengeEnd(uint64 window, uint256 wait) public {
        (,,, window) = deployFuzzed(FEE_BPS, COLLATERAL_BPS, MIN_COLLATERAL, window);
        wait = bound(wait, 0, 2 * uint256(window) + 1);
        uint256 jobId = submitted(REWARD);
        uint256 end = market.getJob(jobId).challengeEnd;
        assertEq(end, block.timestamp + window);
        skip(wait);
        bool due = wait >= window;
        assertEq(
            uint8(market.phaseOf(jobId)), uint8(due ? IJobMarket.JobPhase.Finalizable : IJobMarket.JobPhase.Submitted)
        );
        if (!due) vm.expectRevert(abi.encodeWithSelector(IJobMarket.MarketChallengeWindowOpen.selector, jobId, end));
        market.finalize(jobId);
        assertEq(market.balanceOf(worker), due ? REWARD - REWARD * FEE_BPS / 10_000 : 0);
    }

    function testFuzz_refund_onlyAfterPendingDeadline(uint256 wait, bool claimIt) public {
        wait = bound(wait, 0, 2 * RESULT_WINDOW);
        uint256 jobId = claimIt ? claimed(REWARD) : post(REWARD);
        IJobMarket.Job memory job = market.getJob(jobId);
        uint256 deadline = claimIt ? job.resultDeadline : job.claimDeadline;
        skip(wait);
        bool due = block.timestamp > deadline;
        assertEq(
            uint8(market.phaseOf(jobId)),
            uint8(due ? IJobMarket.JobPhase.Expired : claimIt ? IJobMarket.JobPhase.Claimed : IJobMarket.JobPhase.Open)
        );
        if (!due) {
            vm.expectRevert(
                abi.encodeWithSelector(IJobMarket.MarketNotRefundable.selector, jobId, job.status, deadline)
            );
        }
        market.refund(jobId);
        assertEq(market.balanceOf(requester), due ? (claimIt ? 2 * REWARD : REWARD) : 0);
    }

    // staking

    function testFuzz_withdraw_stakeOnlyAfterCooldown(uint256 amount, uint256 unstake, uint256 wait) public {
        amount = bound(amount, 1, 1_000 ether);
        unstake = bound(unstake, 1, amount);
        wait = bound(wait, 0, 2 * COOLDOWN);
        vm.deal(worker, amount);
        stakeAs(worker, amount);
        vm.prank(worker);
        registry.requestUnstake(unstake);
        uint256 unlockAt = block.timestamp + COOLDOWN;
        skip(wait);
        if (wait < COOLDOWN) {
            vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingCooldownActive.selector, worker, unlockAt));
        }
        vm.prank(worker);
        registry.withdraw();
        uint256 paid = wait < COOLDOWN ? 0 : unstake;
        assertEq(worker.balance, paid);
        assertEq(address(registry).balance, amount - paid);
        assertStake(worker, amount - unstake, 0, unstake - paid);
        assertEq(address(registry).balance, stakeTotal(worker));
    }
}
