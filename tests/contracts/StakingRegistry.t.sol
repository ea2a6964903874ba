// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "./Base.t.sol";
import {StakingRegistry} from "../../contracts/StakingRegistry.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";

contract StakingRegistryTest is Base {
    // constructor and views

    function test_constructor_emitsConfiguration() public {
        vm.expectEmit(true, false, false, true);
        emit IStakingRegistry.RegistryConfigured(address(0xbeef), 7 days);
        StakingRegistry fresh = new StakingRegistry(address(0xbeef), 7 days);
        assertEq(fresh.market(), address(0xbeef));
        assertEq(fresh.cooldown(), 7 days);
    }

    function test_constructor_acceptsMaxAndZeroCooldown() public {
        assertEq(new StakingRegistry(address(0xbeef), 30 days).cooldown(), 30 days);
        assertEq(new StakingRegistry(address(0xbeef), 0).cooldown(), 0);
    }

    function test_constructor_zeroMarket() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingZeroMarket.selector));
        new StakingRegistry(address(0), 1 days);
    }

    function test_constructor_cooldownTooLong() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingCooldownTooLong.selector, 30 days + 1, 30 days));
        new StakingRegistry(address(0xbeef), 30 days + 1);
    }

    function test_market_isTheDeployedMarket() public view {
        assertEq(registry.market(), address(market));
        assertEq(address(market.staking()), address(registry));
    }

    function test_cooldown_isTheConfiguredCooldown() public view {
        assertEq(registry.cooldown(), COOLDOWN);
        assertEq(registry.MAX_COOLDOWN(), 30 days);
    }

    function test_stakeOf_unknownWorkerIsEmpty() public view {
        IStakingRegistry.Stake memory s = registry.stakeOf(other);
        assertEq(s.free, 0);
        assertEq(s.locked, 0);
        assertEq(s.unstaking, 0);
        assertEq(s.unlockAt, 0);
    }

    function test_receive_registryRejectsPlainETH() public {
        vm.prank(other);
        (bool ok,) = address(registry).call{value: 1 ether}("");
        assertFalse(ok);
        assertEq(address(registry).balance, 0);
    }

    // stake

    function test_stake_addsToFree() public {
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.Staked(worker, 1 ether, 1 ether);
        stakeAs(worker, 1 ether);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.Staked(worker, 2 ether, 3 ether);
        stakeAs(worker, 2 ether);
        assertStake(worker, 3 ether, 0, 0);
        assertEq(address(registry).balance, 3 ether);
        assertEq(worker.balance, FUNDS - 3 ether);
    }

    function test_stake_keepsWorkersApart() public {
        stakeAs(worker, 1 ether);
        stakeAs(other, 2 ether);
        assertStake(worker, 1 ether, 0, 0);
        assertStake(other, 2 ether, 0, 0);
        assertEq(address(registry).balance, 3 ether);
    }

    function test_stake_zeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingZeroAmount.selector));
        stakeAs(worker, 0);
    }

    // requestUnstake

    function test_requestUnstake_movesFreeIntoCooldown() public {
        stakeAs(worker, 3 ether);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.UnstakeRequested(worker, 1 ether, 1 ether, uint64(block.timestamp + COOLDOWN));
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        assertStake(worker, 2 ether, 0, 1 ether);
        assertEq(stakeOf(worker).unlockAt, block.timestamp + COOLDOWN);
        assertEq(address(registry).balance, 3 ether);
    }

    function test_requestUnstake_wholeFreeStake() public {
        stakeAs(worker, 3 ether);
        vm.prank(worker);
        registry.requestUnstake(3 ether);
        assertStake(worker, 0, 0, 3 ether);
    }

    function test_requestUnstake_secondRequestRestartsCooldown() public {
        stakeAs(worker, 3 ether);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        skip(1 hours);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.UnstakeRequested(worker, 1 ether, 2 ether, uint64(block.timestamp + COOLDOWN));
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        assertStake(worker, 1 ether, 0, 2 ether);
        assertEq(stakeOf(worker).unlockAt, block.timestamp + COOLDOWN);
    }

    function test_requestUnstake_zeroAmount() public {
        stakeAs(worker, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingZeroAmount.selector));
        vm.prank(worker);
        registry.requestUnstake(0);
    }

    function test_requestUnstake_insufficientFree() public {
        stakeAs(worker, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.StakingInsufficientFree.selector, worker, 1 ether, 1 ether + 1)
        );
        vm.prank(worker);
        registry.requestUnstake(1 ether + 1);
    }

    function test_requestUnstake_lockedStakeIsNotFree() public {
        stakeAs(worker, 1 ether);
        vm.prank(address(market));
        registry.lock(worker, 0.4 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.StakingInsufficientFree.selector, worker, 0.6 ether, 1 ether)
        );
        vm.prank(worker);
        registry.requestUnstake(1 ether);
    }

    // withdraw

    function test_withdraw_afterCooldown() public {
        stakeAs(worker, 3 ether);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        skip(COOLDOWN);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.StakeWithdrawn(worker, 1 ether);
        vm.prank(worker);
        registry.withdraw();
        assertEq(worker.balance, FUNDS - 2 ether);
        assertStake(worker, 2 ether, 0, 0);
        assertEq(stakeOf(worker).unlockAt, 0);
        assertEq(address(registry).balance, 2 ether);
    }

    function test_withdraw_zeroCooldownSameBlock() public {
        StakingRegistry instant = new StakingRegistry(address(0xbeef), 0);
        vm.startPrank(worker);
        instant.stake{value: 1 ether}();
        instant.requestUnstake(1 ether);
        instant.withdraw();
        vm.stopPrank();
        assertEq(worker.balance, FUNDS);
        assertEq(address(instant).balance, 0);
    }

    function test_withdraw_cooldownActive() public {
        stakeAs(worker, 1 ether);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        uint256 unlockAt = block.timestamp + COOLDOWN;
        skip(COOLDOWN - 1);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingCooldownActive.selector, worker, unlockAt));
        vm.prank(worker);
        registry.withdraw();
        assertStake(worker, 0, 0, 1 ether);
    }

    function test_withdraw_cooldownActiveAfterRestart() public {
        stakeAs(worker, 2 ether);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        skip(COOLDOWN - 1);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        skip(1); // the first request's cooldown has passed, but the second restarted it
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingRegistry.StakingCooldownActive.selector, worker, block.timestamp + COOLDOWN - 1
            )
        );
        vm.prank(worker);
        registry.withdraw();
    }

    function test_withdraw_nothingToWithdraw() public {
        stakeAs(worker, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingNothingToWithdraw.selector, worker));
        vm.prank(worker);
        registry.withdraw();
    }

    function test_withdraw_nothingLeftAfterWithdrawing() public {
        stakeAs(worker, 1 ether);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        skip(COOLDOWN);
        vm.prank(worker);
        registry.withdraw();
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingNothingToWithdraw.selector, worker));
        vm.prank(worker);
        registry.withdraw();
    }

    function test_withdraw_reentrancyCannotDoubleWithdraw() public {
        stakeAs(worker, 5 ether); // someone else's stake the attacker must not reach
        ReenteringStaker attacker = new ReenteringStaker(registry, false);
        vm.deal(address(attacker), 1 ether);
        attacker.stakeAndRequest(1 ether);
        skip(COOLDOWN);
        attacker.withdraw();
        assertEq(address(attacker).balance, 1 ether);
        assertTrue(attacker.attempted());
        assertFalse(attacker.reentered());
        assertEq(address(registry).balance, 5 ether);
        assertStake(address(attacker), 0, 0, 0);
    }

    function test_withdraw_reentrancyRevertBubbles() public {
        stakeAs(worker, 5 ether);
        ReenteringStaker attacker = new ReenteringStaker(registry, true);
        vm.deal(address(attacker), 1 ether);
        attacker.stakeAndRequest(1 ether);
        skip(COOLDOWN);
        vm.expectRevert(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector));
        attacker.withdraw();
        assertEq(address(attacker).balance, 0);
        assertEq(address(registry).balance, 6 ether);
        assertStake(address(attacker), 0, 0, 1 ether);
    }

    function test_withdraw_receiverRejectingETHKeepsStake() public {
        RejectingReceiver rejecter = new RejectingReceiver();
        vm.deal(address(rejecter), 1 ether);
        vm.startPrank(address(rejecter));
        registry.stake{value: 1 ether}();
        registry.requestUnstake(1 ether);
        skip(COOLDOWN);
        vm.expectRevert(abi.encodeWithSelector(Errors.FailedCall.selector));
        registry.withdraw();
        vm.stopPrank();
        assertStake(address(rejecter), 0, 0, 1 ether);
        assertEq(address(registry).balance, 1 ether);
    }

    // lock

    function test_lock_movesFreeToLocked() public {
        stakeAs(worker, 1 ether);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.CollateralLocked(worker, 0.4 ether);
        vm.prank(address(market));
        registry.lock(worker, 0.4 ether);
        assertStake(worker, 0.6 ether, 0.4 ether, 0);
        assertEq(address(registry).balance, 1 ether);
    }

    function test_lock_notMarket() public {
        stakeAs(worker, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingNotMarket.selector, other));
        vm.prank(other);
        registry.lock(worker, 1);
    }

    function test_lock_notMarketEvenForOwnStake() public {
        stakeAs(worker, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingNotMarket.selector, worker));
        vm.prank(worker);
        registry.lock(worker, 1);
    }

    function test_lock_zeroAmount() public {
        stakeAs(worker, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingZeroAmount.selector));
        vm.prank(address(market));
        registry.lock(worker, 0);
    }

    function test_lock_insufficientFree() public {
        stakeAs(worker, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.StakingInsufficientFree.selector, worker, 1 ether, 2 ether)
        );
        vm.prank(address(market));
        registry.lock(worker, 2 ether);
    }

    function test_lock_unstakingStakeIsNotFree() public {
        stakeAs(worker, 1 ether);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingInsufficientFree.selector, worker, 0, 1));
        vm.prank(address(market));
        registry.lock(worker, 1);
    }

    // unlock

    function test_unlock_returnsLockedToFree() public {
        stakeAs(worker, 1 ether);
        vm.startPrank(address(market));
        registry.lock(worker, 1 ether);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.CollateralUnlocked(worker, 0.3 ether);
        registry.unlock(worker, 0.3 ether);
        vm.stopPrank();
        assertStake(worker, 0.3 ether, 0.7 ether, 0);
        assertEq(address(registry).balance, 1 ether);
    }

    function test_unlock_notMarket() public {
        stakeAs(worker, 1 ether);
        vm.prank(address(market));
        registry.lock(worker, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingNotMarket.selector, worker));
        vm.prank(worker);
        registry.unlock(worker, 1 ether);
    }

    function test_unlock_zeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingZeroAmount.selector));
        vm.prank(address(market));
        registry.unlock(worker, 0);
    }

    function test_unlock_insufficientLocked() public {
        stakeAs(worker, 1 ether);
        vm.startPrank(address(market));
        registry.lock(worker, 0.5 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.StakingInsufficientLocked.selector, worker, 0.5 ether, 1 ether)
        );
        registry.unlock(worker, 1 ether);
        vm.stopPrank();
    }

    // slash

    function test_slash_sendsLockedStakeToMarket() public {
        stakeAs(worker, 1 ether);
        vm.startPrank(address(market));
        registry.lock(worker, 0.5 ether);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IStakingRegistry.CollateralSlashed(worker, 0.2 ether);
        registry.slash(worker, 0.2 ether);
        vm.stopPrank();
        assertStake(worker, 0.5 ether, 0.3 ether, 0);
        assertEq(address(market).balance, 0.2 ether);
        assertEq(address(registry).balance, 0.8 ether);
    }

    function test_slash_notMarket() public {
        stakeAs(worker, 1 ether);
        vm.prank(address(market));
        registry.lock(worker, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingNotMarket.selector, requester));
        vm.prank(requester);
        registry.slash(worker, 1 ether);
    }

    function test_slash_zeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingZeroAmount.selector));
        vm.prank(address(market));
        registry.slash(worker, 0);
    }

    function test_slash_insufficientLocked() public {
        stakeAs(worker, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingInsufficientLocked.selector, worker, 0, 1));
        vm.prank(address(market));
        registry.slash(worker, 1);
    }
}

/// @notice Re-enters `withdraw` from its receive hook. With `bubble` the re-entry's revert
/// propagates; without, it is caught and recorded.
contract ReenteringStaker {
    StakingRegistry private immutable _registry;
    bool private immutable _bubble;
    bool public attempted;
    bool public reentered;

    constructor(StakingRegistry registry_, bool bubble) {
        _registry = registry_;
        _bubble = bubble;
    }

    function stakeAndRequest(uint256 amount) external {
        _registry.stake{value: amount}();
        _registry.requestUnstake(amount);
    }

    function withdraw() external {
        _registry.withdraw();
    }

    receive() external payable {
        if (attempted) return;
        attempted = true;
        if (_bubble) {
            _registry.withdraw();
            reentered = true;
        } else {
            try _registry.withdraw() {
                reentered = true;
            } catch {}
        }
    }
}

/// @notice Refuses every ETH transfer.
contract RejectingReceiver {
    receive() external payable {
        revert();
    }
}
