// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "./Base.t.sol";
import {StakingRegistry} from "../../contracts/StakingRegistry.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";

contract StakingRegistryTest is Base {
    function test_constructor_emitsConfiguration() public {
        vm.expectEmit(true, false, false, true);
        emit IStakingRegistry.RegistryConfigured(address(0xbeef), 7 days);
        StakingRegistry fresh = new StakingRegistry(address(0xbeef), 7 days);
        assertEq(fresh.market(), address(0xbeef));
        assertEq(fresh.cooldown(), 7 days);
    }

    function test_constructor_zeroMarket() public {
        vm.expectRevert(IStakingRegistry.StakingZeroMarket.selector);
        new StakingRegistry(address(0), 1 days);
    }

    function test_constructor_cooldownTooLong() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingCooldownTooLong.selector, 31 days, 30 days));
        new StakingRegistry(address(0xbeef), 31 days);
    }

    function test_stake_addsToFree() public {
        vm.expectEmit(true, false, false, true);
        emit IStakingRegistry.Staked(worker, 1 ether, 1 ether);
        stakeAs(worker, 1 ether);
        vm.expectEmit(true, false, false, true);
        emit IStakingRegistry.Staked(worker, 2 ether, 3 ether);
        stakeAs(worker, 2 ether);
        assertEq(stakeOf(worker).free, 3 ether);
        assertEq(address(registry).balance, 3 ether);
    }

    function test_stake_zeroAmount() public {
        vm.expectRevert(IStakingRegistry.StakingZeroAmount.selector);
        stakeAs(worker, 0);
    }

    function test_requestUnstake_movesFreeIntoCooldown() public {
        stakeAs(worker, 3 ether);
        vm.expectEmit(true, false, false, true);
        emit IStakingRegistry.UnstakeRequested(worker, 1 ether, 1 ether, uint64(block.timestamp + COOLDOWN));
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        IStakingRegistry.Stake memory s = stakeOf(worker);
        assertEq(s.free, 2 ether);
        assertEq(s.unstaking, 1 ether);
        assertEq(s.unlockAt, block.timestamp + COOLDOWN);
    }

    function test_requestUnstake_secondRequestRestartsCooldown() public {
        stakeAs(worker, 3 ether);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        skip(1 hours);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        assertEq(stakeOf(worker).unstaking, 2 ether);
        assertEq(stakeOf(worker).unlockAt, block.timestamp + COOLDOWN);
    }

    function test_requestUnstake_zeroAmount() public {
        vm.expectRevert(IStakingRegistry.StakingZeroAmount.selector);
        vm.prank(worker);
        registry.requestUnstake(0);
    }

    function test_requestUnstake_insufficientFree() public {
        stakeAs(worker, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.StakingInsufficientFree.selector, worker, 1 ether, 2 ether)
        );
        vm.prank(worker);
        registry.requestUnstake(2 ether);
    }

    function test_withdraw_afterCooldown() public {
        stakeAs(worker, 3 ether);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        skip(COOLDOWN);
        uint256 before = worker.balance;
        vm.expectEmit(true, false, false, true);
        emit IStakingRegistry.StakeWithdrawn(worker, 1 ether);
        vm.prank(worker);
        registry.withdraw();
        assertEq(worker.balance, before + 1 ether);
        assertEq(stakeOf(worker).unstaking, 0);
        assertEq(stakeOf(worker).free, 2 ether);
        assertEq(address(registry).balance, 2 ether);
    }

    function test_withdraw_cooldownActive() public {
        stakeAs(worker, 1 ether);
        vm.prank(worker);
        registry.requestUnstake(1 ether);
        skip(COOLDOWN - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingRegistry.StakingCooldownActive.selector, worker, block.timestamp + 1)
        );
        vm.prank(worker);
        registry.withdraw();
    }

    function test_withdraw_nothingToWithdraw() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingNothingToWithdraw.selector, worker));
        vm.prank(worker);
        registry.withdraw();
    }

    function test_lock_movesFreeToLocked() public {
        stakeAs(worker, 1 ether);
        vm.expectEmit(true, false, false, true);
        emit IStakingRegistry.CollateralLocked(worker, 0.4 ether);
        vm.prank(address(market));
        registry.lock(worker, 0.4 ether);
        assertEq(stakeOf(worker).free, 0.6 ether);
        assertEq(stakeOf(worker).locked, 0.4 ether);
    }

    function test_lock_notMarket() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingNotMarket.selector, other));
        vm.prank(other);
        registry.lock(worker, 1);
    }

    function test_lock_zeroAmount() public {
        vm.expectRevert(IStakingRegistry.StakingZeroAmount.selector);
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

    function test_unlock_returnsLockedToFree() public {
        stakeAs(worker, 1 ether);
        vm.startPrank(address(market));
        registry.lock(worker, 1 ether);
        vm.expectEmit(true, false, false, true);
        emit IStakingRegistry.CollateralUnlocked(worker, 1 ether);
        registry.unlock(worker, 1 ether);
        vm.stopPrank();
        assertEq(stakeOf(worker).free, 1 ether);
        assertEq(stakeOf(worker).locked, 0);
    }

    function test_unlock_notMarket() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingNotMarket.selector, worker));
        vm.prank(worker);
        registry.unlock(worker, 1);
    }

    function test_unlock_zeroAmount() public {
        vm.expectRevert(IStakingRegistry.StakingZeroAmount.selector);
        vm.prank(address(market));
        registry.unlock(worker, 0);
    }

    function test_unlock_insufficientLocked() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingInsufficientLocked.selector, worker, 0, 1));
        vm.prank(address(market));
        registry.unlock(worker, 1);
    }

    function test_slash_sendsLockedStakeToMarket() public {
        stakeAs(worker, 1 ether);
        vm.startPrank(address(market));
        registry.lock(worker, 0.5 ether);
        vm.expectEmit(true, false, false, true);
        emit IStakingRegistry.CollateralSlashed(worker, 0.5 ether);
        registry.slash(worker, 0.5 ether);
        vm.stopPrank();
        assertEq(stakeOf(worker).locked, 0);
        assertEq(stakeOf(worker).free, 0.5 ether);
        assertEq(address(market).balance, 0.5 ether);
        assertEq(address(registry).balance, 0.5 ether);
    }

    function test_slash_notMarket() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingNotMarket.selector, requester));
        vm.prank(requester);
        registry.slash(worker, 1);
    }

    function test_slash_zeroAmount() public {
        vm.expectRevert(IStakingRegistry.StakingZeroAmount.selector);
        vm.prank(address(market));
        registry.slash(worker, 0);
    }

    function test_slash_insufficientLocked() public {
        stakeAs(worker, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakingRegistry.StakingInsufficientLocked.selector, worker, 0, 1));
        vm.prank(address(market));
        registry.slash(worker, 1);
    }

    function test_withdraw_reentrancyCannotDoubleWithdraw() public {
        ReenteringStaker attacker = new ReenteringStaker(registry);
        vm.deal(address(attacker), 1 ether);
        attacker.stakeAndRequest(1 ether);
        skip(COOLDOWN);
        attacker.withdraw();
        assertEq(address(attacker).balance, 1 ether);
        assertFalse(attacker.reentered());
        assertEq(address(registry).balance, 0);
    }
}

/// @notice Re-enters `withdraw` from its receive hook; records whether the re-entry succeeded.
contract ReenteringStaker {
    StakingRegistry private immutable _registry;
    bool public reentered;
    bool private _inside;

    constructor(StakingRegistry registry_) {
        _registry = registry_;
    }

    function stakeAndRequest(uint256 amount) external {
        _registry.stake{value: amount}();
        _registry.requestUnstake(amount);
    }

    function withdraw() external {
        _registry.withdraw();
    }

    receive() external payable {
        if (_inside) return;
        _inside = true;
        try _registry.withdraw() {
            reentered = true;
        } catch {}
        _inside = false;
    }
}
