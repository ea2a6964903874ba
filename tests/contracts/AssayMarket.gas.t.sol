// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {console} from "forge-std/console.sol";
import {Vm} from "forge-std/Vm.sol";
import {MarketBase} from "./MarketBase.t.sol";
import {IAssayMarket} from "../../contracts/interfaces/IAssayMarket.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {TestToken} from "./doubles/Tokens.sol";

/// @notice Gas per step and per lifecycle, printed for docs/gas.md. Run with
/// `forge test --isolate --match-contract AssayMarketGas -vv`: --isolate runs every call as its own
/// transaction, so figures include the 21,000 base cost and cold storage access like on a chain.
contract AssayMarketGas is MarketBase {
    uint256 private _total;

    function _step(string memory name) private {
        Vm.Gas memory g = vm.lastCallGas();
        _total += g.gasTotalUsed;
        console.log(name, g.gasTotalUsed);
    }

    function _lifecycleSingle(string memory label, IAssayMarket.JobRequest memory request) private {
        _lifecycle(label, request, "hello", "");
    }

    function _lifecycle(
        string memory label,
        IAssayMarket.JobRequest memory request,
        bytes memory input,
        string memory uri
    ) private {
        _total = 0;
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(request, input, uri);
        _step(string.concat(label, " postJob"));
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "result");
        _step(string.concat(label, " submitResult"));
        vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
        market.settle(jobId, terms, outcome, "");
        _step(string.concat(label, " settle"));
        console.log(string.concat(label, " lifecycle total"), _total);
    }

    /// @dev runs jobs like `template` until the treasury and every worker serving the model hold
    /// a balance in its token, as on a live market (the steady state the figures are for)
    function _warmUp(IAssayMarket.JobRequest memory template) private {
        address[] memory servers = new address[](workers.length + 1);
        for (uint256 i; i < workers.length; ++i) {
            servers[i] = workers[i];
        }
        servers[workers.length] = verifier;
        for (uint256 round; round < 50 && !_allEarned(template.token, servers); ++round) {
            template.claimDeadline = uint40(vm.getBlockTimestamp() + 1 hours);
            template.resultDeadline = uint40(vm.getBlockTimestamp() + 2 hours);
            (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(template);
            IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "result");
            vm.warp(vm.getBlockTimestamp() + terms.challengeWindow);
            market.settle(jobId, terms, outcome, "");
        }
        assertTrue(_allEarned(template.token, servers), "warm-up did not pay every worker");
    }

    function _allEarned(address token, address[] memory servers) private view returns (bool) {
        if (market.balanceOf(token, market.treasury()) == 0) return false;
        for (uint256 i; i < servers.length; ++i) {
            if (market.balanceOf(token, servers[i]) == 0) return false;
        }
        return true;
    }

    function test_gas_singleSlotEth() public {
        // the first job on a fresh market writes the treasury's and the worker's balances from zero
        _lifecycleSingle("r=1 ETH (first)", _request(modelId, 1, REWARD));
        _warmUp(_request(modelId, 1, REWARD));
        _lifecycleSingle("r=1 ETH", _request(modelId, 1, REWARD));
    }

    function test_gas_singleSlotToken() public {
        TestToken token = new TestToken();
        vm.prank(owner);
        market.configureToken(address(token), true, 1e18);
        token.mint(requester, 1_000 ether);
        vm.prank(requester);
        token.approve(address(market), type(uint256).max);
        IAssayMarket.JobRequest memory request = _request(modelId, 1, REWARD);
        request.token = address(token);
        _lifecycleSingle("r=1 ERC-20 (first)", request);
        _warmUp(request);
        request.claimDeadline = uint40(vm.getBlockTimestamp() + 1 hours);
        request.resultDeadline = uint40(vm.getBlockTimestamp() + 2 hours);
        _lifecycleSingle("r=1 ERC-20", request);
    }

    function test_gas_threeSlotMajority() public {
        for (uint256 round; round < 2; ++round) {
            if (round == 1) _warmUp(_request(modelId, 1, REWARD));
            _total = 0;
            (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(3);
            _step("r=3 postJob");
            bytes32 h = keccak256("a");
            for (uint256 i; i < 3; ++i) {
                vm.prank(terms.assignees[i]);
                market.commit(jobId, terms, i, _commitment(jobId, terms.assignees[i], h));
                _step("r=3 commit");
            }
            for (uint256 i; i < 3; ++i) {
                vm.prank(terms.assignees[i]);
                market.reveal(jobId, terms, i, h, bytes32(uint256(7)), "", "");
                _step("r=3 reveal");
            }
            vm.roll(vm.getBlockNumber() + 1);
            market.settle(jobId, terms, _none(), "");
            _step("r=3 settle");
            console.log("r=3 lifecycle total", _total);
        }
    }

    function test_gas_challengedJob() public {
        _warmUp(_request(modelId, 1, REWARD));
        _total = 0;
        (uint256 jobId, IAssayMarket.JobTerms memory terms) = _post(1);
        _step("challenged postJob");
        IAssayMarket.Outcome memory outcome = _submit(jobId, terms, "wrong");
        _step("challenged submitResult");
        address challenger = outcome.worker == verifier ? workers[0] : verifier;
        vm.prank(challenger);
        market.challenge{value: terms.collateral}(jobId, terms, outcome);
        _step("challenged challenge");
        outcome.challenger = challenger;
        arbiter.ruleOn(jobId, 0);
        _step("challenged rule (via arbiter)");
        market.settle(jobId, terms, outcome, "");
        _step("challenged settle");
        console.log("challenged lifecycle total", _total);
    }

    function test_gas_batchOf50() public {
        _warmUp(_request(modelId, 1, REWARD));
        uint256 n = 50;
        IAssayMarket.JobRequest[] memory requests = new IAssayMarket.JobRequest[](n);
        bytes[] memory inputs = new bytes[](n);
        string[] memory uris = new string[](n);
        for (uint256 i; i < n; ++i) {
            requests[i] = _request(modelId, 1, REWARD / 100);
            requests[i].allowlist = new address[](1);
            requests[i].allowlist[0] = workers[0];
            inputs[i] = "hello";
        }
        vm.recordLogs();
        vm.prank(requester);
        uint256 first = market.postJobs{value: n * (REWARD / 100)}(requests, inputs, uris);
        uint256 postGas = vm.lastCallGas().gasTotalUsed;
        Vm.Log[] memory logs = vm.getRecordedLogs();
        IAssayMarket.JobTerms[] memory terms = new IAssayMarket.JobTerms[](n);
        uint256 k;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == IAssayMarket.JobPosted.selector) {
                (terms[k++],,) = abi.decode(logs[i].data, (IAssayMarket.JobTerms, bytes, string));
            }
        }
        bytes[] memory submits = new bytes[](n);
        bytes[] memory settles = new bytes[](n);
        for (uint256 i; i < n; ++i) {
            bytes32 h = keccak256(abi.encode(i));
            submits[i] = abi.encodeCall(market.submitResult, (first + i, terms[i], h, "", ""));
            settles[i] = abi.encodeCall(
                market.settle, (first + i, terms[i], IAssayMarket.Outcome(workers[0], h, address(0)), "")
            );
        }
        vm.prank(workers[0]);
        market.multicall(submits);
        uint256 submitGas = vm.lastCallGas().gasTotalUsed;
        vm.warp(vm.getBlockTimestamp() + terms[0].challengeWindow);
        market.multicall(settles);
        uint256 settleGas = vm.lastCallGas().gasTotalUsed;
        console.log("batch of 50: postJobs per job", postGas / n);
        console.log("batch of 50: submit multicall per job", submitGas / n);
        console.log("batch of 50: settle multicall per job", settleGas / n);
        console.log("batch of 50: lifecycle per job", (postGas + submitGas + settleGas) / n);
        assertEq(_ethOwed(workers[0]) > 0, true);
    }

    /// @dev one job whose input is a batch document of 50 inputs of 45 bytes (client/assay/batch.py:
    /// abi.encode(BATCH_TAG, items)), carried in calldata and, second, hosted (only its hash on chain)
    function test_gas_batchJobOf50Inputs() public {
        _warmUp(_request(modelId, 1, REWARD));
        bytes[] memory items = new bytes[](50);
        for (uint256 i; i < items.length; ++i) {
            items[i] = bytes(string.concat("Assay pays GPU owners for verified inf ", vm.toString(100_000 + i)));
            assertEq(items[i].length, 45);
        }
        bytes memory input = abi.encode(bytes32(bytes.concat(hex"ff", "assay.batch/1")), items);
        _lifecycle("batch job of 50 inputs, inline:", _request(modelId, 1, REWARD), input, "");
        console.log("batch job of 50 inputs, inline: per input", _total / items.length);
        IAssayMarket.JobRequest memory hosted = _request(modelId, 1, REWARD);
        hosted.inputHash = keccak256(input);
        _lifecycle("batch job of 50 inputs, by URI:", hosted, "", "https://inputs.example/batch-1");
        console.log("batch job of 50 inputs, by URI: per input", _total / items.length);
    }

    function test_gas_floorReference() public {
        // a plain transfer, to read the 21,000 base cost off the same meter
        (bool ok,) = payable(makeAddr("sink")).call{value: 1}("");
        assertTrue(ok);
        IModelRegistry.Model memory m = models.modelOf(modelId);
        assertEq(m.minCollateral, MIN_COLLATERAL);
    }
}
