// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test, Vm} from "forge-std/Test.sol";
import {AssayMarket} from "../../contracts/AssayMarket.sol";
import {WorkerRegistry} from "../../contracts/WorkerRegistry.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {IAssayMarket} from "../../contracts/interfaces/IAssayMarket.sol";
import {IArbiter} from "../../contracts/interfaces/IArbiter.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IWorkerRegistry} from "../../contracts/interfaces/IWorkerRegistry.sol";
import {ArbiterDouble} from "./doubles/ArbiterDouble.sol";

/// @notice Shared fixture for AssayMarket tests: a model registry, a worker registry, an arbiter
/// that forwards test rulings, the market, four staked workers serving one exact-mode model.
abstract contract MarketBase is Test {
    AssayMarket internal market;
    ModelRegistry internal models;
    WorkerRegistry internal registry;
    ArbiterDouble internal arbiter;

    address internal owner = makeAddr("owner");
    address internal treasury = makeAddr("treasury");
    address internal requester = makeAddr("requester");
    address internal verifier = makeAddr("verifier");
    address[] internal workers;
    bytes32 internal modelId;
    bytes32 internal auditedModelId;
    bytes32 internal embeddingModelId;

    uint128 internal constant REWARD = 1 ether;
    uint128 internal constant MIN_COLLATERAL = 0.01 ether;
    uint256 internal constant STAKE = 10 ether;

    function setUp() public virtual {
        uint256 nonce = vm.getNonce(address(this));
        address arbiterAt = vm.computeCreateAddress(address(this), nonce + 2);
        address marketAt = vm.computeCreateAddress(address(this), nonce + 3);
        models = new ModelRegistry();
        registry = new WorkerRegistry(marketAt, arbiterAt, models, 1 days);
        IArbiter arbiterDeployed = _deployArbiter(marketAt);
        assertEq(address(arbiterDeployed), arbiterAt);
        market = new AssayMarket(
            IWorkerRegistry(address(registry)),
            IModelRegistry(address(models)),
            arbiterDeployed,
            treasury,
            defaultParams(),
            owner
        );
        assertEq(address(market), marketAt);
        modelId = _register(IModelRegistry.VerificationMode.Exact, 0, "echo");
        auditedModelId = _register(IModelRegistry.VerificationMode.Exact, 10_000, "audited");
        embeddingModelId = _register(IModelRegistry.VerificationMode.Embedding, 0, "minilm");
        for (uint256 i; i < 4; ++i) {
            address w = makeAddr(string.concat("worker", vm.toString(i)));
            workers.push(w);
            _stakeAndServe(w, STAKE);
        }
        _stakeAndServe(verifier, STAKE);
        vm.deal(requester, 1_000 ether);
    }

    /// @dev deploys exactly one contract, the arbiter; suites override it to test a real arbiter
    function _deployArbiter(address marketAt) internal virtual returns (IArbiter) {
        arbiter = new ArbiterDouble(marketAt);
        return arbiter;
    }

    function defaultParams() internal pure returns (IAssayMarket.Params memory) {
        return IAssayMarket.Params({
            feeBps: 250,
            collateralBps: 15_000,
            arbiterShareBps: 1_000,
            acceptWindow: 60,
            revealWindow: 600,
            challengeWindow: 600,
            disputeWindow: 3_600,
            noShowPenalty: 0.001 ether
        });
    }

    function _register(IModelRegistry.VerificationMode mode, uint16 auditBps, string memory name)
        internal
        returns (bytes32)
    {
        return models.registerModel(
            IModelRegistry.Model(keccak256(bytes(name)), mode, auditBps, MIN_COLLATERAL), string.concat("ipfs://", name)
        );
    }

    function _stakeAndServe(address who, uint256 amount) internal {
        vm.deal(who, amount + 100 ether);
        vm.startPrank(who);
        registry.stake{value: amount}();
        registry.joinModel(modelId);
        registry.joinModel(auditedModelId);
        registry.joinModel(embeddingModelId);
        vm.stopPrank();
    }

    function _request(bytes32 model, uint8 redundancy, uint128 reward)
        internal
        view
        returns (IAssayMarket.JobRequest memory)
    {
        return IAssayMarket.JobRequest({
            modelId: model,
            token: address(0),
            reward: reward,
            redundancy: redundancy,
            claimDeadline: uint40(vm.getBlockTimestamp() + 1 hours),
            resultDeadline: uint40(vm.getBlockTimestamp() + 2 hours),
            consumer: address(0),
            callbackGas: 0,
            inputHash: bytes32(0),
            allowlist: new address[](0)
        });
    }

    /// @dev posts as `requester` and returns the terms from the JobPosted event, as a client would
    function _post(IAssayMarket.JobRequest memory request)
        internal
        returns (uint256 jobId, IAssayMarket.JobTerms memory terms)
    {
        return _post(request, "hello", "");
    }

    function _post(IAssayMarket.JobRequest memory request, bytes memory input, string memory uri)
        internal
        returns (uint256 jobId, IAssayMarket.JobTerms memory terms)
    {
        vm.recordLogs();
        vm.prank(requester);
        jobId = market.postJob{value: request.token == address(0) ? request.reward : 0}(request, input, uri);
        terms = _postedTerms();
    }

    function _post(uint8 redundancy) internal returns (uint256, IAssayMarket.JobTerms memory) {
        return _post(_request(modelId, redundancy, REWARD));
    }

    function _postedTerms() internal returns (IAssayMarket.JobTerms memory terms) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = logs.length; i > 0; --i) {
            if (logs[i - 1].topics[0] == IAssayMarket.JobPosted.selector) {
                (terms,,) = abi.decode(logs[i - 1].data, (IAssayMarket.JobTerms, bytes, string));
                return terms;
            }
        }
        revert("no JobPosted");
    }

    function _none() internal pure returns (IAssayMarket.Outcome memory) {
        return IAssayMarket.Outcome(address(0), 0, address(0));
    }

    function _submit(uint256 jobId, IAssayMarket.JobTerms memory terms, bytes memory result)
        internal
        returns (IAssayMarket.Outcome memory)
    {
        address worker = terms.assignees[0];
        vm.prank(worker);
        market.submitResult(jobId, terms, keccak256(result), "http://worker/result", result);
        return IAssayMarket.Outcome(worker, keccak256(result), address(0));
    }

    function _commitment(uint256 jobId, address worker, bytes32 resultHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(jobId, worker, resultHash, bytes32(uint256(7))));
    }

    /// @dev every assignee commits then reveals `results[i]`
    function _commitReveal(uint256 jobId, IAssayMarket.JobTerms memory terms, bytes32[] memory results) internal {
        for (uint256 i; i < terms.redundancy; ++i) {
            vm.prank(terms.assignees[i]);
            market.commit(jobId, terms, i, _commitment(jobId, terms.assignees[i], results[i]));
        }
        for (uint256 i; i < terms.redundancy; ++i) {
            vm.prank(terms.assignees[i]);
            market.reveal(jobId, terms, i, results[i], bytes32(uint256(7)), "", "");
        }
        vm.roll(vm.getBlockNumber() + 1);
    }

    function _locked(address worker) internal view returns (uint256) {
        return registry.stakeOf(worker).locked;
    }

    function _free(address worker) internal view returns (uint256) {
        return registry.stakeOf(worker).free;
    }

    function _ethOwed(address account) internal view returns (uint256) {
        return market.balanceOf(address(0), account);
    }
}
