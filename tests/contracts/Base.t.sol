// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {JobMarket} from "../../contracts/JobMarket.sol";
import {StakingRegistry} from "../../contracts/StakingRegistry.sol";
import {IJobMarket} from "../../contracts/interfaces/IJobMarket.sol";
import {IStakingRegistry} from "../../contracts/interfaces/IStakingRegistry.sol";

/// @notice Shared fixture: deploys the registry and the market the way scripts/deploy.py does
/// (registry first, with the market's precomputed address) and funds labelled actors.
abstract contract Base is Test {
    uint16 internal constant FEE_BPS = 250;
    uint16 internal constant COLLATERAL_BPS = 10_000;
    uint128 internal constant MIN_COLLATERAL = 0.01 ether;
    uint64 internal constant WINDOW = 60;
    uint64 internal constant COOLDOWN = 1 days;
    uint256 internal constant REWARD = 0.1 ether;
    bytes32 internal constant MODEL = keccak256("assay/echo-v1");
    bytes32 internal constant RESULT = keccak256("result");
    string internal constant RESULT_URI = "http://worker.example/results/0x01";

    StakingRegistry internal registry;
    JobMarket internal market;
    address internal treasury = makeAddr("treasury");
    address internal requester = makeAddr("requester");
    address internal worker = makeAddr("worker");
    address internal other = makeAddr("other");

    function setUp() public virtual {
        (registry, market) = deploy(FEE_BPS, COLLATERAL_BPS, MIN_COLLATERAL, WINDOW);
        vm.deal(requester, 100 ether);
        vm.deal(worker, 100 ether);
        vm.deal(other, 100 ether);
    }

    function deploy(uint16 feeBps, uint16 collateralBps, uint128 minCollateral, uint64 window)
        internal
        returns (StakingRegistry registry_, JobMarket market_)
    {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        registry_ = new StakingRegistry(predicted, COOLDOWN);
        market_ = new JobMarket(registry_, treasury, feeBps, collateralBps, minCollateral, window);
    }

    function post(uint256 reward) internal returns (uint256 jobId) {
        vm.prank(requester);
        jobId = market.postJob{value: reward}(
            MODEL, "hello", uint64(block.timestamp + 1 hours), uint64(block.timestamp + 2 hours)
        );
    }

    function stakeAs(address who, uint256 amount) internal {
        vm.prank(who);
        registry.stake{value: amount}();
    }

    function claimed(uint256 reward) internal returns (uint256 jobId) {
        jobId = post(reward);
        stakeAs(worker, 10 ether);
        vm.prank(worker);
        market.claim(jobId);
    }

    function submitted(uint256 reward) internal returns (uint256 jobId) {
        jobId = claimed(reward);
        vm.prank(worker);
        market.submitResult(jobId, RESULT, RESULT_URI);
    }

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
}
