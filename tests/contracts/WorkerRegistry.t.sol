// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {WorkerRegistry} from "../../contracts/WorkerRegistry.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IWorkerRegistry} from "../../contracts/interfaces/IWorkerRegistry.sol";
import {SortitionTree} from "../../contracts/libraries/SortitionTree.sol";

/// @dev the tree on its own, to reach weights no ETH stake can
contract SortitionTreeHarness {
    using SortitionTree for SortitionTree.Tree;

    SortitionTree.Tree private _tree;

    function insert(address member, uint256 weight) external {
        _tree.insert(member, weight);
    }

    function total() external view returns (uint256) {
        return _tree.total();
    }
}

/// @notice WorkerRegistry unit and fuzz tests. This test contract plays the market (it may lock,
/// unlock, slash and penalise) and receives slashed ETH.
contract WorkerRegistryTest is Test {
    WorkerRegistry internal registry;
    ModelRegistry internal models;
    address internal arbiter = makeAddr("arbiter");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    bytes32 internal modelA;
    bytes32 internal modelB;

    receive() external payable {}

    function setUp() public {
        models = new ModelRegistry();
        registry = new WorkerRegistry(address(this), arbiter, models, 1 days);
        modelA = _model("a");
        modelB = _model("b");
        vm.deal(alice, 100 ether);
        vm.deal(bob, 100 ether);
    }

    function _model(string memory name) internal returns (bytes32) {
        return models.registerModel(
            IModelRegistry.Model(keccak256(bytes(name)), IModelRegistry.VerificationMode.Exact, 0, 0),
            string.concat("ipfs://", name)
        );
    }

    function _stakeAndJoin(address who, uint256 amount, bytes32 modelId) internal {
        vm.startPrank(who);
        registry.stake{value: amount}();
        registry.joinModel(modelId);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ constructor

    function test_constructor_emitsConfiguration() public {
        vm.expectEmit(true, true, false, true);
        emit IWorkerRegistry.RegistryConfigured(address(1), arbiter, address(models), 7 days);
        WorkerRegistry r = new WorkerRegistry(address(1), arbiter, models, 7 days);
        assertEq(r.market(), address(1));
        assertEq(r.arbiter(), arbiter);
        assertEq(r.cooldown(), 7 days);
    }

    function test_constructor_revertsOnZeroAddressOrLongCooldown() public {
        vm.expectRevert(IWorkerRegistry.RegistryBadConfig.selector);
        new WorkerRegistry(address(0), arbiter, models, 1 days);
        vm.expectRevert(IWorkerRegistry.RegistryBadConfig.selector);
        new WorkerRegistry(address(1), address(0), models, 1 days);
        vm.expectRevert(IWorkerRegistry.RegistryBadConfig.selector);
        new WorkerRegistry(address(1), arbiter, IModelRegistry(address(0)), 1 days);
        vm.expectRevert(IWorkerRegistry.RegistryBadConfig.selector);
        new WorkerRegistry(address(1), arbiter, models, 31 days);
    }

    // ------------------------------------------------------------ stake, unstake, withdraw

    function test_stake_addsFreeStakeAndWeight() public {
        _stakeAndJoin(alice, 2 ether, modelA);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.Staked(alice, 1 ether, 3 ether);
        vm.prank(alice);
        registry.stake{value: 1 ether}();
        assertEq(registry.stakeOf(alice).free, 3 ether);
        assertEq(registry.weightOf(modelA, alice), 3 ether);
        assertEq(registry.totalWeight(modelA), 3 ether);
    }

    function test_stake_revertsOnZero() public {
        vm.prank(alice);
        vm.expectRevert(IWorkerRegistry.RegistryZeroAmount.selector);
        registry.stake();
    }

    function test_requestUnstake_movesStakeOutOfTheDraws() public {
        _stakeAndJoin(alice, 5 ether, modelA);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.UnstakeRequested(alice, 2 ether, 2 ether, uint64(vm.getBlockTimestamp() + 1 days));
        vm.prank(alice);
        registry.requestUnstake(2 ether);
        IWorkerRegistry.Stake memory s = registry.stakeOf(alice);
        assertEq(s.free, 3 ether);
        assertEq(s.unstaking, 2 ether);
        assertEq(registry.weightOf(modelA, alice), 3 ether);
    }

    function test_requestUnstake_revertsOnZeroOrMoreThanFree() public {
        _stakeAndJoin(alice, 1 ether, modelA);
        vm.startPrank(alice);
        vm.expectRevert(IWorkerRegistry.RegistryZeroAmount.selector);
        registry.requestUnstake(0);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkerRegistry.RegistryInsufficientFree.selector, alice, 1 ether, 2 ether)
        );
        registry.requestUnstake(2 ether);
        vm.stopPrank();
    }

    function test_withdraw_paysAfterCooldown() public {
        _stakeAndJoin(alice, 5 ether, modelA);
        vm.prank(alice);
        registry.requestUnstake(5 ether);
        vm.warp(vm.getBlockTimestamp() + 1 days);
        uint256 before = alice.balance;
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.StakeWithdrawn(alice, 5 ether);
        vm.prank(alice);
        registry.withdraw();
        assertEq(alice.balance, before + 5 ether);
        assertEq(address(registry).balance, 0);
    }

    function test_withdraw_revertsDuringCooldown() public {
        _stakeAndJoin(alice, 5 ether, modelA);
        vm.prank(alice);
        registry.requestUnstake(1 ether);
        uint256 unlockAt = vm.getBlockTimestamp() + 1 days;
        vm.warp(unlockAt - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryCooldownActive.selector, alice, unlockAt));
        registry.withdraw();
    }

    function test_withdraw_revertsWithNothingUnstaking() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryNothingToWithdraw.selector, alice));
        registry.withdraw();
    }

    // ------------------------------------------------------------ models

    function test_joinModel_entersDrawsWithBondedStake() public {
        vm.prank(alice);
        registry.stake{value: 2 ether}();
        registry.lock(alice, 1 ether);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.ModelJoined(alice, modelA);
        vm.prank(alice);
        registry.joinModel(modelA);
        assertEq(registry.weightOf(modelA, alice), 2 ether);
        assertEq(registry.draw(modelA, 12345), alice);
        assertEq(registry.modelsOf(alice).length, 1);
    }

    function test_joinModel_revertsOnUnknownModel() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryUnknownModel.selector, bytes32("nope")));
        registry.joinModel(bytes32("nope"));
    }

    function test_joinModel_revertsWhenAlreadyServing() public {
        _stakeAndJoin(alice, 1 ether, modelA);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryAlreadyServing.selector, alice, modelA));
        registry.joinModel(modelA);
    }

    function test_joinModel_revertsPastMaxModels() public {
        vm.startPrank(alice);
        for (uint256 i; i < registry.MAX_MODELS(); ++i) {
            registry.joinModel(_model(vm.toString(i)));
        }
        bytes32 extra = _model("extra");
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryTooManyModels.selector, alice, 8));
        registry.joinModel(extra);
        vm.stopPrank();
    }

    function test_leaveModel_removesFromDrawsAndKeepsStake() public {
        _stakeAndJoin(alice, 1 ether, modelA);
        _stakeAndJoin(bob, 3 ether, modelA);
        vm.prank(alice);
        registry.joinModel(modelB);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.ModelLeft(alice, modelA);
        vm.prank(alice);
        registry.leaveModel(modelA);
        assertEq(registry.weightOf(modelA, alice), 0);
        assertEq(registry.totalWeight(modelA), 3 ether);
        assertEq(registry.modelsOf(alice).length, 1);
        assertEq(registry.modelsOf(alice)[0], modelB);
        assertEq(registry.stakeOf(alice).free, 1 ether);
        for (uint256 seed; seed < 20; ++seed) {
            assertEq(registry.draw(modelA, seed * 1e17), bob);
        }
        // rejoining recycles the vacant leaf
        vm.prank(alice);
        registry.joinModel(modelA);
        assertEq(registry.totalWeight(modelA), 4 ether);
    }

    function test_leaveModel_revertsWhenNotServing() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryNotServing.selector, alice, modelA));
        registry.leaveModel(modelA);
    }

    function test_setProfile_emitsEndpointAndCapacity() public {
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.ProfileUpdated(alice, "https://rig.example", 4);
        vm.prank(alice);
        registry.setProfile("https://rig.example", 4);
    }

    // ------------------------------------------------------------ market and arbiter

    function test_lock_movesFreeToLockedAndKeepsWeight() public {
        _stakeAndJoin(alice, 3 ether, modelA);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.CollateralLocked(alice, address(this), 1 ether);
        registry.lock(alice, 1 ether);
        assertEq(registry.stakeOf(alice).locked, 1 ether);
        assertEq(registry.stakeOf(alice).free, 2 ether);
        assertEq(registry.weightOf(modelA, alice), 3 ether);
    }

    function test_lock_revertsForStrangersOrShortFreeStake() public {
        _stakeAndJoin(alice, 1 ether, modelA);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryNotAuthorized.selector, bob));
        registry.lock(alice, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkerRegistry.RegistryInsufficientFree.selector, alice, 1 ether, 2 ether)
        );
        registry.lock(alice, 2 ether);
        vm.expectRevert(IWorkerRegistry.RegistryZeroAmount.selector);
        registry.lock(alice, 0);
    }

    function test_unlock_returnsLockedToFree() public {
        _stakeAndJoin(alice, 3 ether, modelA);
        vm.prank(arbiter);
        registry.lock(alice, 2 ether);
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.CollateralUnlocked(alice, arbiter, 2 ether);
        vm.prank(arbiter);
        registry.unlock(alice, 2 ether);
        assertEq(registry.stakeOf(alice).free, 3 ether);
    }

    function test_unlock_revertsForStrangersOrShortLockedStake() public {
        _stakeAndJoin(alice, 3 ether, modelA);
        registry.lock(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryNotAuthorized.selector, alice));
        registry.unlock(alice, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IWorkerRegistry.RegistryInsufficientLocked.selector, alice, 1 ether, 2 ether)
        );
        registry.unlock(alice, 2 ether);
    }

    function test_slash_sendsLockedStakeToCallerAndLowersWeight() public {
        _stakeAndJoin(alice, 3 ether, modelA);
        registry.lock(alice, 1 ether);
        uint256 before = address(this).balance;
        vm.expectEmit(address(registry));
        emit IWorkerRegistry.StakeSlashed(alice, address(this), 1 ether, true);
        registry.slash(alice, 1 ether);
        assertEq(address(this).balance, before + 1 ether);
        assertEq(registry.stakeOf(alice).locked, 0);
        assertEq(registry.weightOf(modelA, alice), 2 ether);
        assertEq(registry.totalWeight(modelA), 2 ether);
    }

    function test_slash_revertsForStrangersOrShortLockedStake() public {
        _stakeAndJoin(alice, 3 ether, modelA);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryNotAuthorized.selector, bob));
        registry.slash(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryInsufficientLocked.selector, alice, 0, 1));
        registry.slash(alice, 1);
    }

    function test_penalize_takesAtMostFreeStake() public {
        _stakeAndJoin(alice, 1 ether, modelA);
        registry.lock(alice, 0.5 ether);
        uint256 before = address(this).balance;
        assertEq(registry.penalize(alice, 2 ether), 0.5 ether);
        assertEq(address(this).balance, before + 0.5 ether);
        assertEq(registry.weightOf(modelA, alice), 0.5 ether);
        // nothing free left: no revert, nothing taken
        assertEq(registry.penalize(alice, 1 ether), 0);
    }

    function test_penalize_revertsForStrangers() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IWorkerRegistry.RegistryNotAuthorized.selector, alice));
        registry.penalize(bob, 1);
    }

    // ------------------------------------------------------------ draws

    function test_draw_returnsZeroForEmptyModel() public {
        assertEq(registry.draw(modelA, 1), address(0));
        _stakeAndJoin(alice, 1 ether, modelA);
        vm.prank(alice);
        registry.requestUnstake(1 ether);
        assertEq(registry.draw(modelA, 1), address(0));
    }

    /// @dev every value in [0, total) maps to exactly one member, so counting the values that draw each
    /// member must give back its weight: the tree is an exact partition, whatever the join/leave history
    function testFuzz_draw_partitionsWeightExactly(uint8[12] memory weights, uint16 leaveMask) public {
        address[] memory members = new address[](12);
        for (uint256 i; i < 12; ++i) {
            members[i] = address(uint160(0x1000 + i));
            uint256 w = bound(weights[i], 1, 20);
            vm.deal(members[i], w);
            vm.startPrank(members[i]);
            registry.stake{value: w}();
            registry.joinModel(modelA);
            vm.stopPrank();
        }
        uint256 expectedTotal;
        for (uint256 i; i < 12; ++i) {
            if ((leaveMask >> i) & 1 == 1) {
                vm.prank(members[i]);
                registry.leaveModel(modelA);
            } else {
                expectedTotal += registry.stakeOf(members[i]).free;
            }
        }
        assertEq(registry.totalWeight(modelA), expectedTotal);
        uint256[] memory hits = new uint256[](12);
        for (uint256 v; v < expectedTotal; ++v) {
            address drawn = registry.draw(modelA, v);
            uint256 index = uint160(drawn) - 0x1000;
            assertLt(index, 12);
            ++hits[index];
        }
        for (uint256 i; i < 12; ++i) {
            assertEq(hits[i], registry.weightOf(modelA, members[i]));
        }
    }

    function test_sortitionTree_revertsWhenASumOutgrows128Bits() public {
        SortitionTreeHarness tree = new SortitionTreeHarness();
        tree.insert(alice, 2 ** 127);
        vm.expectRevert(abi.encodeWithSelector(SortitionTree.SortitionWeightOverflow.selector, 2 ** 128));
        tree.insert(bob, 2 ** 127);
        vm.expectRevert(abi.encodeWithSelector(SortitionTree.SortitionWeightOverflow.selector, 2 ** 128));
        tree.insert(bob, 2 ** 128);
        assertEq(tree.total(), 2 ** 127);
    }
}
