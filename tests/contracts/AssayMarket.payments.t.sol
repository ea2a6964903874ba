// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketBase} from "./MarketBase.t.sol";
import {IAssayMarket} from "../../contracts/interfaces/IAssayMarket.sol";
import {SentimentOracle} from "../../contracts/examples/SentimentOracle.sol";
import {TestToken, FeeOnTransferToken, RevertingConsumer, GasBurningConsumer} from "./doubles/Tokens.sol";

/// @notice Token rewards and consumer callbacks.
contract AssayMarketPaymentsTest is MarketBase {
    TestToken internal token;

    function setUp() public override {
        super.setUp();
        token = new TestToken();
        vm.prank(owner);
        market.configureToken(address(token), true, 1e18);
        token.mint(requester, 100 ether);
        vm.prank(requester);
        token.approve(address(market), type(uint256).max);
    }

    function test_postJob_tokenRewardLifecyclePaysInToken() public {
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        request.token = address(token);
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(request);
        assertEq(token.balanceOf(address(market)), REWARD);
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "r");
        vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
        market.settle(jobId, terms, outcome, "");
        uint256 fee = uint256(REWARD) * 250 / 10_000;
        assertEq(market.balanceOf(address(token), outcome.worker), REWARD - fee);
        vm.prank(outcome.worker);
        market.withdraw(address(token));
        assertEq(token.balanceOf(outcome.worker), REWARD - fee);
        assertEq(token.balanceOf(address(market)), fee);
    }

    function test_postJob_rejectsFeeOnTransferToken() public {
        FeeOnTransferToken bad = new FeeOnTransferToken();
        vm.prank(owner);
        market.configureToken(address(bad), true, 1e18);
        bad.mint(requester, 10 ether);
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        request.token = address(bad);
        vm.startPrank(requester);
        bad.approve(address(market), type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAssayMarket.MarketTokenShortfall.selector, address(bad), REWARD - REWARD / 100, REWARD
            )
        );
        market.postJob(request, "x", "");
        vm.stopPrank();
        assertEq(bad.balanceOf(requester), 10 ether);
    }

    function test_postJob_rejectsTokenNotAllowed() public {
        TestToken other = new TestToken();
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        request.token = address(other);
        vm.expectRevert(abi.encodeWithSelector(IAssayMarket.MarketTokenNotAllowed.selector, address(other)));
        vm.prank(requester);
        market.postJob(request, "x", "");
    }

    function test_configureToken_delistingKeepsEscrowWithdrawable() public {
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        request.token = address(token);
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(request);
        vm.prank(owner);
        market.configureToken(address(token), false, 0);
        vm.warp(uint256(terms.claimDeadline) + 1);
        market.settle(jobId, terms, _none(), "");
        vm.prank(requester);
        market.withdraw(address(token));
        assertEq(token.balanceOf(requester), 100 ether);
    }

    function test_callback_deliversVerifiedLabelToOracle() public {
        (SentimentOracle oracle, uint256 jobId) = _ask("what a lovely day");
        IAssayMarket.JobTerms memory terms = _postedTerms();
        assertEq(terms.consumer, address(oracle));
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "positive");
        vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
        market.settle(jobId, terms, outcome, "positive");
        SentimentOracle.Answer memory answer = oracle.answerOf(jobId);
        assertTrue(answer.settled && answer.success);
        assertEq(answer.label, "positive");
        assertEq(answer.resultHash, keccak256("positive"));
    }

    function test_deliver_recordsTheLabelASettlerLeftOut() public {
        (SentimentOracle oracle, uint256 jobId) = _answeredWithoutLabel();
        vm.expectEmit(address(oracle));
        emit SentimentOracle.Answered(jobId, true, "positive");
        vm.prank(makeAddr("anyone"));
        oracle.deliver(jobId, "positive");
        assertEq(oracle.answerOf(jobId).label, "positive");
    }

    function test_deliver_revertsWhenTheLabelDoesNotHashToTheResult() public {
        (SentimentOracle oracle, uint256 jobId) = _answeredWithoutLabel();
        vm.expectRevert(abi.encodeWithSelector(SentimentOracle.OracleWrongLabel.selector, jobId, keccak256("positive")));
        oracle.deliver(jobId, "negative");
    }

    function test_deliver_revertsWhenTheLabelIsKnown() public {
        (SentimentOracle oracle, uint256 jobId) = _answeredWithoutLabel();
        oracle.deliver(jobId, "positive");
        vm.expectRevert(abi.encodeWithSelector(SentimentOracle.OracleNothingToDeliver.selector, jobId));
        oracle.deliver(jobId, "positive");
    }

    function test_deliver_revertsWhenTheVerifiedResultIsEmpty() public {
        (SentimentOracle oracle, uint256 jobId) = _ask("...");
        IAssayMarket.JobTerms memory terms = _postedTerms();
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "");
        vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
        market.settle(jobId, terms, outcome, "");
        assertTrue(oracle.answerOf(jobId).success);
        vm.expectRevert(abi.encodeWithSelector(SentimentOracle.OracleNothingToDeliver.selector, jobId));
        oracle.deliver(jobId, "");
    }

    function test_deliver_revertsWhenTheQuestionWasNotPaid() public {
        (SentimentOracle oracle, uint256 jobId) = _ask("meh");
        vm.expectRevert(abi.encodeWithSelector(SentimentOracle.OracleNothingToDeliver.selector, jobId));
        oracle.deliver(jobId, "positive");
        IAssayMarket.JobTerms memory terms = _postedTerms();
        vm.warp(uint256(terms.claimDeadline) + 1);
        market.settle(jobId, terms, _none(), ""); // refunded
        vm.expectRevert(abi.encodeWithSelector(SentimentOracle.OracleNothingToDeliver.selector, jobId));
        oracle.deliver(jobId, "positive");
    }

    /// @dev a new oracle, asked `text` by the requester (its job's terms are in the recorded logs)
    function _ask(string memory text) private returns (SentimentOracle oracle, uint256 jobId) {
        oracle = new SentimentOracle(market, modelId);
        vm.recordLogs();
        vm.prank(requester);
        jobId = oracle.ask{value: REWARD}(
            text, uint40(vm.getBlockTimestamp() + 1 hours), uint40(vm.getBlockTimestamp() + 2 hours)
        );
    }

    /// @dev a question paid for and settled by a stranger who passed no result bytes
    function _answeredWithoutLabel() private returns (SentimentOracle oracle, uint256 jobId) {
        (oracle, jobId) = _ask("what a lovely day");
        IAssayMarket.JobTerms memory terms = _postedTerms();
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "positive");
        vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
        vm.prank(makeAddr("stranger"));
        market.settle(jobId, terms, outcome, "");
        SentimentOracle.Answer memory answer = oracle.answerOf(jobId);
        assertTrue(answer.settled && answer.success);
        assertEq(answer.label.length, 0);
        assertEq(answer.resultHash, keccak256("positive"));
    }

    function test_callback_refundReachesTheAsker() public {
        (SentimentOracle oracle, uint256 jobId) = _ask("meh");
        IAssayMarket.JobTerms memory terms = _postedTerms();
        vm.warp(uint256(terms.claimDeadline) + 1);
        market.settle(jobId, terms, _none(), "");
        assertEq(oracle.refundOf(requester), REWARD);
        uint256 before = requester.balance;
        vm.prank(requester);
        oracle.reclaim();
        assertEq(requester.balance, before + REWARD);
    }

    function test_callback_revertingConsumerCannotBlockSettlement() public {
        _settleWithConsumer(address(new RevertingConsumer()));
    }

    function test_callback_gasBurningConsumerCannotBlockSettlement() public {
        _settleWithConsumer(address(new GasBurningConsumer()));
    }

    function test_settle_revertsWhenCallbackWouldBeStarved() public {
        (uint256 jobId, IAssayMarket.JobTerms memory terms, IAssayMarket.Outcome memory outcome) =
            _submittedWithConsumer(address(new GasBurningConsumer()));
        vm.expectRevert();
        market.settle{gas: 150_000}(jobId, terms, outcome, "");
        assertEq(uint256(market.jobState(jobId).status), uint256(IAssayMarket.Status.Submitted));
    }

    function _submittedWithConsumer(address consumer)
        private
        returns (uint256 jobId, IAssayMarket.JobTerms memory terms, IAssayMarket.Outcome memory outcome)
    {
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        request.consumer = consumer;
        request.callbackGas = 200_000;
        (jobId, terms) = _post(request);
        outcome = _submit(jobId, terms, "r");
        vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
    }

    function _settleWithConsumer(address consumer) private {
        (uint256 jobId, IAssayMarket.JobTerms memory terms, IAssayMarket.Outcome memory outcome) =
            _submittedWithConsumer(consumer);
        vm.expectEmit(address(market));
        emit IAssayMarket.CallbackFailed(jobId, consumer);
        market.settle(jobId, terms, outcome, "");
        assertGt(_ethOwed(outcome.worker), 0);
        assertEq(uint256(market.phaseOf(jobId, terms)), uint256(IAssayMarket.Phase.Closed));
    }
}
