// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {MarketBase} from "./MarketBase.t.sol";
import {TrustedArbiter} from "../../contracts/TrustedArbiter.sol";
import {IArbiter} from "../../contracts/interfaces/IArbiter.sol";
import {IAssayMarket} from "../../contracts/interfaces/IAssayMarket.sol";
import {ITrustedArbiter} from "../../contracts/interfaces/ITrustedArbiter.sol";

/// @notice The trusted arbiter behind the real market: the owner rules, collects its share, and
/// can do nothing else with anyone's funds.
contract TrustedArbiterTest is MarketBase {
    TrustedArbiter internal trusted;
    address internal judge = makeAddr("judge");

    function _deployArbiter(address marketAt) internal override returns (IArbiter) {
        trusted = new TrustedArbiter(marketAt, judge);
        return trusted;
    }

    function _challenged()
        internal
        returns (uint256 jobId, IAssayMarket.JobTerms memory terms, IAssayMarket.Outcome memory outcome)
    {
        (jobId, terms) = _post(1);
        outcome = _submit(jobId, terms, "wrong");
        address challenger = outcome.worker == verifier ? workers[0] : verifier;
        vm.prank(challenger);
        market.challenge{value: terms.collateral}(jobId, terms, outcome);
        outcome.challenger = challenger;
    }

    function test_constructor_revertsOnZeroMarket() public {
        vm.expectRevert(ITrustedArbiter.ArbiterBadConfig.selector);
        new TrustedArbiter(address(0), judge);
    }

    function test_openDispute_recordsTheDeadline() public {
        (uint256 jobId,,) = _challenged();
        assertEq(trusted.deadlineOf(jobId), market.jobState(jobId).time);
    }

    function test_openDispute_revertsForStrangersAndTwice() public {
        vm.expectRevert(abi.encodeWithSelector(ITrustedArbiter.ArbiterNotMarket.selector, address(this)));
        trusted.openDispute(1, modelId, 0, new address[](0), new bytes32[](0), 1);
        (uint256 jobId,,) = _challenged();
        vm.prank(address(market));
        vm.expectRevert(abi.encodeWithSelector(ITrustedArbiter.ArbiterDisputeExists.selector, jobId));
        trusted.openDispute(jobId, modelId, 0, new address[](0), new bytes32[](0), 1);
    }

    function test_rule_upholdsChallengeAndCollectPaysTheShare() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms, IAssayMarket.Outcome memory outcome) = _challenged();
        uint256 cut = uint256(terms.collateral) * 1_000 / 10_000;
        vm.expectEmit(address(trusted));
        emit ITrustedArbiter.DisputeRuled(jobId, 0, cut);
        vm.prank(judge);
        trusted.rule(jobId, 0);
        market.settle(jobId, terms, outcome, "");
        assertEq(_ethOwed(outcome.challenger), 2 * uint256(terms.collateral) - cut);
        address payable to = payable(makeAddr("ops"));
        vm.prank(judge);
        trusted.collect(to);
        assertEq(to.balance, cut);
        assertEq(_ethOwed(address(trusted)), 0);
    }

    function test_rule_revertsForNonOwnerUnknownJobOrPastDeadline() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms,) = _challenged();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        trusted.rule(jobId, 0);
        vm.startPrank(judge);
        vm.expectRevert(abi.encodeWithSelector(ITrustedArbiter.ArbiterUnknownDispute.selector, 77));
        trusted.rule(77, 0);
        vm.warp(vm.getBlockTimestamp() + terms.disputeWindow + 1);
        uint256 deadline = market.jobState(jobId).time;
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketTooLate.selector, jobId, deadline));
        trusted.rule(jobId, 0);
        vm.stopPrank();
    }

    function test_collect_revertsForNonOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        trusted.collect(payable(address(this)));
    }

    function test_receive_rejectsStrayETH() public {
        vm.expectRevert(abi.encodeWithSelector(ITrustedArbiter.ArbiterNotMarket.selector, address(this)));
        (bool ok,) = address(trusted).call{value: 1}("");
        ok;
    }
}
