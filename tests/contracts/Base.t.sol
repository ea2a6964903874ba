// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {JobMarket} from "../../contracts/JobMarket.sol";
import {StakingRegistry} from "../../contracts/StakingRegistry.sol";
import {IJobMarket} from "../../contracts/interfaces/IJobMarket.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";

/// @notice Shared fixture: deploys the registry and the market the way the deploy script does
/// (registry first, with the market's precomputed CREATE address) and funds labelled actors.
abstract contract Base is Test {
    uint16 internal constant FEE_BPS = 250;
    uint16 internal constant COLLATERAL_BPS = 10_000;
    uint128 internal constant MIN_COLLATERAL = 0.01 ether;
    uint64 internal constant WINDOW = 60;
    uint64 internal constant COOLDOWN = 1 days;
    uint256 internal constant FUNDS = 100 ether;
    uint256 internal constant STAKE = 10 ether;
    uint256 internal constant REWARD = 0.1 ether;
    uint256 internal constant CLAIM_WINDOW = 1 hours;
    uint256 internal constant RESULT_WINDOW = 2 hours;
    bytes32 internal constant MODEL = keccak256("assay/echo-v1");
    bytes internal constant INPUT = "hello";
    bytes32 internal constant INPUT_HASH = keccak256("a large input stored off chain");
    string internal constant INPUT_URI = "ipfs://bafy-input";
    bytes32 internal constant RESULT = keccak256("result");
    string internal constant RESULT_URI = "http://worker.example/results/0x01";

    StakingRegistry internal registry;
    JobMarket internal market;
    address internal treasury = makeAddr("treasury");
    address internal requester = makeAddr("requester");
    address internal worker = makeAddr("worker");
    address internal other = makeAddr("other");

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        (registry, market) = deploy(FEE_BPS, COLLATERAL_BPS, MIN_COLLATERAL, WINDOW);
        vm.deal(requester, FUNDS);
        vm.deal(worker, FUNDS);
        vm.deal(other, FUNDS);
    }

    /// @dev Registry first, with the address the market will get at the next nonce.
    function deploy(uint16 feeBps, uint16 collateralBps, uint128 minCollateral, uint64 window)
        internal
        returns (StakingRegistry registry_, JobMarket market_)
    {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        registry_ = new StakingRegistry(predicted, COOLDOWN);
        market_ = new JobMarket(registry_, treasury, feeBps, collateralBps, minCollateral, window);
        assertEq(address(market_), predicted, "market landed at the predicted address");
        vm.label(address(registry_), "StakingRegistry");
        vm.label(address(market_), "JobMarket");
    }

    // jobs

    function claimBy() internal view returns (uint64) {
        return uint64(block.timestamp + CLAIM_WINDOW);
    }

    function resultBy() internal view returns (uint64) {
        return uint64(block.timestamp + RESULT_WINDOW);
    }

    /// @dev Posts an inline-input job as `requester`.
    function post(uint256 reward) internal returns (uint256 jobId) {
        vm.prank(requester);
        jobId = market.postJob{value: reward}(MODEL, INPUT, claimBy(), resultBy());
    }

    /// @dev Posts a job whose input lives at `INPUT_URI`, as `requester`.
    function postByURI(uint256 reward) internal returns (uint256 jobId) {
        vm.prank(requester);
        jobId = market.postJobByURI{value: reward}(MODEL, INPUT_HASH, INPUT_URI, claimBy(), resultBy());
    }

    function stakeAs(address who, uint256 amount) internal {
        vm.prank(who);
        registry.stake{value: amount}();
    }

    function claimAs(address who, uint256 jobId) internal {
        vm.prank(who);
        market.claim(jobId);
    }

    function submitAs(address who, uint256 jobId) internal {
        vm.prank(who);
        market.submitResult(jobId, RESULT, RESULT_URI);
    }

    /// @dev A job claimed by `worker`, who stakes `STAKE` first.
    function claimed(uint256 reward) internal returns (uint256 jobId) {
        jobId = post(reward);
        stakeAs(worker, STAKE);
        claimAs(worker, jobId);
    }

    /// @dev A job claimed by `worker` with its result submitted now.
    function submitted(uint256 reward) internal returns (uint256 jobId) {
        jobId = claimed(reward);
        submitAs(worker, jobId);
    }

    // expectations

    function wrongStatus(uint256 jobId, IJobMarket.JobStatus current, IJobMarket.JobStatus expected)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(IJobMarket.MarketWrongStatus.selector, jobId, current, expected);
    }

    function stakeOf(address who) internal view returns (IStakingRegistry.Stake memory) {
        return registry.stakeOf(who);
    }

    function assertStake(address who, uint256 free, uint256 locked, uint256 unstaking) internal view {
        IStakingRegistry.Stake memory s = registry.stakeOf(who);
        assertEq(s.free, free, "free stake");
        assertEq(s.locked, locked, "locked stake");
        assertEq(s.unstaking, unstaking, "unstaking stake");
    }

    function assertStatus(uint256 jobId, IJobMarket.JobStatus status) internal view {
        assertEq(uint8(market.getJob(jobId).status), uint8(status), "job status");
    }

    function assertPhase(uint256 jobId, IJobMarket.JobPhase phase) internal view {
        assertEq(uint8(market.phaseOf(jobId)), uint8(phase), "job phase");
    }
}
