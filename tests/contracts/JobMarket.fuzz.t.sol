// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "./Base.t.sol";
import {IJobMarket} from "../../contracts/interfaces/IJobMarket.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";

/// @notice Fuzzed money flows and deadline validation.
contract JobMarketFuzzTest is Base {
    function testFuzz_lifecycle_conservesValue(
        uint256 reward,
        uint16 feeBps,
        uint16 collateralBps,
        uint128 minCollateral,
        uint64 window
    ) public {
        reward = bound(reward, 1, 1_000_000 ether);
        feeBps = uint16(bound(feeBps, 0, 1_000));
        collateralBps = uint16(bound(collateralBps, 0, 50_000));
        minCollateral = uint128(bound(minCollateral, 1, 10 ether));
        window = uint64(bound(window, 0, 7 days));
        (registry, market) = deploy(feeBps, collateralBps, minCollateral, window);
        uint256 collateral = market.collateralFor(reward);
        vm.deal(requester, reward);
        vm.deal(worker, collateral);

        uint256 jobId = post(reward);
        stakeAs(worker, collateral);
        vm.prank(worker);
        market.claim(jobId);
        assertEq(stakeOf(worker).free, 0);
        vm.prank(worker);
        market.submitResult(jobId, RESULT, RESULT_URI);
        skip(window);
        market.finalize(jobId);

        uint256 workerPay = market.balanceOf(worker);
        uint256 fee = market.balanceOf(treasury);
        assertEq(workerPay + fee, reward, "reward split exactly");
        assertEq(fee, reward * feeBps / 10_000);
        assertEq(address(market).balance, workerPay + fee, "market holds what it owes");
        assertEq(address(registry).balance, collateral, "registry holds the stake");
        assertEq(stakeOf(worker).free, collateral);

        vm.prank(worker);
        market.withdraw();
        if (fee > 0) {
            vm.prank(treasury);
            market.withdraw();
        }
        assertEq(worker.balance, workerPay);
        assertEq(treasury.balance, fee);
        assertEq(address(market).balance, 0);
    }

    function testFuzz_refund_missedDeadlineMakesRequesterWhole(
        uint256 reward,
        uint16 collateralBps,
        uint256 stake,
        uint256 lateBy
    ) public {
        reward = bound(reward, 1, 1_000 ether);
        collateralBps = uint16(bound(collateralBps, 0, 50_000));
        (registry, market) = deploy(FEE_BPS, collateralBps, MIN_COLLATERAL, WINDOW);
        uint256 collateral = market.collateralFor(reward);
        stake = bound(stake, collateral, collateral + 100 ether);
        lateBy = bound(lateBy, 1, 3650 days);
        vm.deal(requester, reward);
        vm.deal(worker, stake);

        uint256 jobId = post(reward);
        stakeAs(worker, stake);
        vm.prank(worker);
        market.claim(jobId);
        vm.warp(market.getJob(jobId).resultDeadline + lateBy);
        vm.prank(other);
        market.refund(jobId);

        assertEq(market.balanceOf(requester), reward + collateral);
        assertEq(address(market).balance, reward + collateral);
        IStakingRegistry.Stake memory s = stakeOf(worker);
        assertEq(s.locked, 0);
        assertEq(s.free, stake - collateral);
        assertEq(address(registry).balance, stake - collateral);
        vm.prank(requester);
        market.withdraw();
        assertEq(requester.balance, reward + collateral);
        vm.expectRevert(wrongStatus(jobId, IJobMarket.JobStatus.Refunded, IJobMarket.JobStatus.Open));
        market.refund(jobId);
    }

    function testFuzz_postJob_acceptsExactlyOrderedDeadlines(uint64 claimDeadline, uint64 resultDeadline, uint32 now_)
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
        uint256 jobId = market.postJob{value: REWARD}(MODEL, "x", claimDeadline, resultDeadline);
        if (valid) {
            assertEq(market.getJob(jobId).claimDeadline, claimDeadline);
            assertEq(market.getJob(jobId).resultDeadline, resultDeadline);
        }
    }

    function testFuzz_unstake_onlyAfterCooldown(uint256 amount, uint256 unstake, uint256 wait) public {
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
        assertEq(stakeOf(worker).free, amount - unstake);
    }
}
