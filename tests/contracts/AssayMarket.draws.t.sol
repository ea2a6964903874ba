// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketBase} from "./MarketBase.t.sol";
import {IAssayMarket} from "../../contracts/interfaces/IAssayMarket.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";

/// @notice Slot assignment against a Sybil attacker, through the real market and the real
/// WorkerRegistry: an attacker holding a fraction x of a model's stake, split over many
/// identities (its best strategy, since one identity can hold one slot only), should fill all
/// r slots of a job about x^r of the time.
contract AssayMarketDrawsTest is MarketBase {
    bytes32 internal sybilModel;
    mapping(address => bool) internal isAttacker;

    uint256 internal constant IDENTITIES = 20; // per side
    uint256 internal constant JOBS = 400;

    function setUp() public override {
        super.setUp();
        sybilModel = _register(IModelRegistry.VerificationMode.Exact, 0, "sybil");
        for (uint256 i; i < IDENTITIES; ++i) {
            address honest = makeAddr(string.concat("honest", vm.toString(i)));
            address sybil = makeAddr(string.concat("sybil", vm.toString(i)));
            isAttacker[sybil] = true;
            _join(honest, 1 ether);
            _join(sybil, 1 ether);
        }
    }

    function _join(address who, uint256 amount) internal {
        vm.deal(who, amount);
        vm.startPrank(who);
        registry.stake{value: amount}();
        registry.joinModel(sybilModel);
        vm.stopPrank();
    }

    /// @dev fraction (in 1e4) of `JOBS` jobs whose every slot went to the attacker
    function _captureRate(uint8 redundancy) internal returns (uint256 captured) {
        for (uint256 j; j < JOBS; ++j) {
            vm.prevrandao(keccak256(abi.encode("block", redundancy, j)));
            (, IAssayMarket.JobTerms memory terms) = _post(_request(sybilModel, redundancy, 0.01 ether));
            bool all = true;
            for (uint256 s; s < redundancy; ++s) {
                all = all && isAttacker[terms.assignees[s]];
            }
            if (all) ++captured;
        }
        captured = captured * 10_000 / JOBS;
    }

    function test_assign_sybilWithHalfTheStakeFillsAllSlotsAboutHalfToTheR() public {
        // x = 0.5: x^1 = 5000, x^2 = 2500, x^3 = 1250 (in 1e4). Drawing distinct workers lowers it a
        // little (0.5 * 19/39 * 18/38 = 1154 for r = 3); 400 jobs give a standard error near 160 at r = 3.
        uint256 r1 = _captureRate(1);
        uint256 r2 = _captureRate(2);
        uint256 r3 = _captureRate(3);
        emit log_named_uint("captured r=1 (1e4)", r1);
        emit log_named_uint("captured r=2 (1e4)", r2);
        emit log_named_uint("captured r=3 (1e4)", r3);
        assertApproxEqAbs(r1, 5000, 800);
        assertApproxEqAbs(r2, 2500, 650);
        assertApproxEqAbs(r3, 1250, 550);
    }

    function test_assign_oneIdentityNeverHoldsTwoSlots() public {
        // a single identity with 95% of the stake still gets one slot of an r = 3 job
        address whale = makeAddr("whale");
        _join(whale, 760 ether);
        for (uint256 j; j < 50; ++j) {
            vm.prevrandao(bytes32(j));
            (, IAssayMarket.JobTerms memory terms) = _post(_request(sybilModel, 3, 0.01 ether));
            uint256 held;
            for (uint256 s; s < 3; ++s) {
                if (terms.assignees[s] == whale) ++held;
            }
            assertLe(held, 1);
        }
    }
}
