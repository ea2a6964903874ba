// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test, Vm} from "forge-std/Test.sol";
import {MarketBase} from "./MarketBase.t.sol";
import {AssayMarket} from "../../contracts/AssayMarket.sol";
import {IAssayMarket} from "../../contracts/interfaces/IAssayMarket.sol";
import {ArbiterDouble} from "./doubles/ArbiterDouble.sol";
import {TestToken} from "./doubles/Tokens.sol";

interface IHandlerHost {
    function modelIdForHandler() external view returns (bytes32);
    function postedTermsForHandler(Vm.Log[] memory logs) external pure returns (IAssayMarket.JobTerms memory);
}

/// @notice Drives single-slot ETH jobs through random steps (post, submit, challenge, rule,
/// settle, withdraw, time), keeping the escrow of open jobs and the bonds of open challenges as
/// ghost sums.
contract SingleSlotHandler is Test {
    IHandlerHost internal immutable base;
    AssayMarket internal immutable market;
    ArbiterDouble internal immutable arbiter;
    TestToken internal immutable token;
    address internal immutable challenger;
    address[] internal actors;

    struct Live {
        uint256 jobId;
        IAssayMarket.JobTerms terms;
        IAssayMarket.Outcome outcome;
        bool bondHeld; // challenged and not yet ruled on
    }

    Live[] internal live;
    uint256 public ghostEscrow;
    uint256 public ghostTokenEscrow;
    uint256 public ghostBonds;
    uint256 public ghostPaidOut;
    uint256 public settledCount;
    uint256 public challengedCount;
    uint256 public ruledCount;
    mapping(uint256 jobId => uint256) public settleCount;

    constructor(
        IHandlerHost base_,
        AssayMarket market_,
        ArbiterDouble arbiter_,
        TestToken token_,
        address challenger_,
        address[] memory actors_
    ) {
        base = base_;
        market = market_;
        arbiter = arbiter_;
        token = token_;
        challenger = challenger_;
        actors = actors_;
    }

    /// @dev a job paying ETH, or (`inToken`) the allowlisted ERC-20; collateral and bonds stay in ETH
    function post(uint256 reward, bool inToken) external {
        reward = bound(reward, 1, 5 ether);
        IAssayMarket.JobRequest memory request = IAssayMarket.JobRequest({
            modelId: base.modelIdForHandler(),
            token: inToken ? address(token) : address(0),
            reward: uint128(reward),
            redundancy: 1,
            claimDeadline: uint40(vm.getBlockTimestamp() + 1 hours),
            resultDeadline: uint40(vm.getBlockTimestamp() + 2 hours),
            consumer: address(0),
            callbackGas: 0,
            inputHash: bytes32(0),
            allowlist: new address[](0)
        });
        address requester = actors[0];
        if (inToken) {
            token.mint(requester, reward);
            vm.prank(requester);
            token.approve(address(market), reward);
        } else {
            vm.deal(requester, reward);
        }
        vm.recordLogs();
        vm.prank(requester);
        uint256 jobId = market.postJob{value: inToken ? 0 : reward}(request, "in", "");
        IAssayMarket.JobTerms memory terms = base.postedTermsForHandler(vm.getRecordedLogs());
        live.push();
        Live storage l = live[live.length - 1];
        l.jobId = jobId;
        l.terms = terms;
        if (inToken) ghostTokenEscrow += reward;
        else ghostEscrow += reward;
    }

    function submit(uint256 index, bytes32 resultHash) external {
        if (live.length == 0 || resultHash == 0) return;
        Live storage l = live[index % live.length];
        if (l.outcome.worker != address(0) || l.terms.assignees[0] == address(0)) return;
        if (vm.getBlockTimestamp() > l.terms.claimDeadline) return;
        vm.prank(l.terms.assignees[0]);
        try market.submitResult(l.jobId, l.terms, resultHash, "", "") {
            l.outcome = IAssayMarket.Outcome(l.terms.assignees[0], resultHash, address(0));
        } catch {}
    }

    /// @dev a staked verifier of the model bonds the job's collateral against its result
    function challenge(uint256 index) external {
        if (live.length == 0) return;
        Live storage l = live[index % live.length];
        if (l.outcome.worker == address(0) || l.outcome.worker == challenger || l.outcome.challenger != address(0)) {
            return;
        }
        uint256 bond = l.terms.collateral;
        vm.deal(challenger, bond);
        vm.prank(challenger);
        try market.challenge{value: bond}(l.jobId, l.terms, l.outcome) {
            l.outcome.challenger = challenger;
            l.bondHeld = true;
            ghostBonds += bond;
            ++challengedCount;
        } catch {}
    }

    /// @dev the arbiter upholds (`valid`) or overturns the result of a challenged job; either way
    /// the ruling credits the bond (to the worker and the arbiter, or back to the challenger)
    function rule(uint256 index, bool valid) external {
        if (live.length == 0) return;
        uint256 i = index % live.length;
        if (!live[i].bondHeld) return;
        try arbiter.ruleOn(live[i].jobId, valid ? 1 : 0) {
            ++ruledCount;
            live[i].bondHeld = false;
            ghostBonds -= live[i].terms.collateral;
            _closeIfDone(i);
        } catch {}
    }

    function settle(uint256 index) external {
        if (live.length == 0) return;
        uint256 i = index % live.length;
        Live memory l = live[i];
        try market.settle(l.jobId, l.terms, l.outcome, "") {
            _closeIfDone(i);
        } catch {}
    }

    /// @dev once the market has deleted a job, its escrow and any bond are no longer held for it
    function _closeIfDone(uint256 i) internal {
        Live memory l = live[i];
        if (uint256(market.jobState(l.jobId).status) != 0) return;
        if (l.terms.token == address(0)) ghostEscrow -= l.terms.reward;
        else ghostTokenEscrow -= l.terms.reward;
        if (l.bondHeld) ghostBonds -= l.terms.collateral; // no ruling in time: the bond is refunded
        ++settleCount[l.jobId];
        ++settledCount;
        live[i] = live[live.length - 1];
        live.pop();
    }

    function warp(uint256 seconds_) external {
        vm.warp(vm.getBlockTimestamp() + bound(seconds_, 1, 3 hours));
        vm.roll(vm.getBlockNumber() + 1);
    }

    function withdraw(uint256 who, bool inToken) external {
        address account = actors[who % actors.length];
        address asset = inToken ? address(token) : address(0);
        uint256 owed = market.balanceOf(asset, account);
        if (owed == 0) return;
        vm.prank(account);
        market.withdraw(asset);
        if (!inToken) ghostPaidOut += owed;
    }

    function liveCount() external view returns (uint256) {
        return live.length;
    }
}

/// @notice Drives three-slot exact-mode jobs: honest workers commit and reveal the true hash, one
/// liar commits another hash and may not reveal; every step may be skipped or come late. Keeps the
/// escrow of open jobs as a ghost sum, and flags any slash of a worker that revealed the truth.
contract RedundantHandler is Test {
    IHandlerHost internal immutable base;
    AssayMarket internal immutable market;
    address internal immutable liar;
    address[] internal actors;

    bytes32 internal constant SALT = bytes32(uint256(7));

    struct Live {
        uint256 jobId;
        IAssayMarket.JobTerms terms;
    }

    Live[] internal live;
    uint256 public ghostEscrow;
    uint256 public ghostPaidOut;
    uint256 public settledCount;
    bool public honestSlashed;
    mapping(uint256 jobId => uint256) public settleCount;
    mapping(uint256 jobId => mapping(address worker => bytes32)) internal revealed;

    constructor(IHandlerHost base_, AssayMarket market_, address[] memory actors_, address liar_) {
        base = base_;
        market = market_;
        actors = actors_;
        liar = liar_;
    }

    function truth(uint256 jobId) public pure returns (bytes32) {
        return keccak256(abi.encode("truth", jobId));
    }

    function _answer(uint256 jobId, address worker) internal view returns (bytes32) {
        return worker == liar ? keccak256(abi.encode("lie", jobId)) : truth(jobId);
    }

    function post(uint256 reward) external {
        reward = bound(reward, 3, 5 ether);
        IAssayMarket.JobRequest memory request = IAssayMarket.JobRequest({
            modelId: base.modelIdForHandler(),
            token: address(0),
            reward: uint128(reward),
            redundancy: 3,
            claimDeadline: uint40(vm.getBlockTimestamp() + 1 hours),
            resultDeadline: uint40(vm.getBlockTimestamp() + 2 hours),
            consumer: address(0),
            callbackGas: 0,
            inputHash: bytes32(0),
            allowlist: new address[](0)
        });
        address requester = actors[0];
        vm.deal(requester, reward);
        vm.recordLogs();
        vm.prank(requester);
        uint256 jobId = market.postJob{value: reward}(request, "in", "");
        live.push();
        Live storage l = live[live.length - 1];
        l.jobId = jobId;
        l.terms = base.postedTermsForHandler(vm.getRecordedLogs());
        ghostEscrow += reward;
    }

    /// @dev every assigned worker of the job commits (the ones whose slot is still empty)
    function commit(uint256 index) external {
        if (live.length == 0) return;
        Live storage l = live[index % live.length];
        for (uint256 slot; slot < 3; ++slot) {
            address worker = l.terms.assignees[slot];
            if (worker == address(0)) continue;
            bytes32 commitment = keccak256(abi.encode(l.jobId, worker, _answer(l.jobId, worker), SALT));
            vm.prank(worker);
            try market.commit(l.jobId, l.terms, slot, commitment) {} catch {}
        }
    }

    /// @dev every committed worker reveals, except that the liar stays silent when `liarSilent`
    function reveal(uint256 index, bool liarSilent) external {
        if (live.length == 0) return;
        Live storage l = live[index % live.length];
        for (uint256 slot; slot < 3; ++slot) {
            address worker = l.terms.assignees[slot];
            if (worker == address(0) || (worker == liar && liarSilent)) continue;
            bytes32 answer = _answer(l.jobId, worker);
            vm.prank(worker);
            try market.reveal(l.jobId, l.terms, slot, answer, SALT, "", "") {
                revealed[l.jobId][worker] = answer;
            } catch {}
        }
    }

    function settle(uint256 index) external {
        if (live.length == 0) return;
        uint256 i = index % live.length;
        Live memory l = live[i];
        vm.recordLogs();
        try market.settle(l.jobId, l.terms, IAssayMarket.Outcome(address(0), 0, address(0)), "") {
            Vm.Log[] memory logs = vm.getRecordedLogs();
            for (uint256 k; k < logs.length; ++k) {
                if (logs[k].topics[0] != IAssayMarket.WorkerSlashed.selector) continue;
                address slashed = address(uint160(uint256(logs[k].topics[2])));
                if (revealed[l.jobId][slashed] == truth(l.jobId)) honestSlashed = true;
            }
            if (uint256(market.jobState(l.jobId).status) == 0) {
                ghostEscrow -= l.terms.reward;
                ++settleCount[l.jobId];
                ++settledCount;
                live[i] = live[live.length - 1];
                live.pop();
            }
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(vm.getBlockTimestamp() + bound(seconds_, 1, 20 minutes));
        vm.roll(vm.getBlockNumber() + 1);
    }

    function withdraw(uint256 who) external {
        address account = actors[who % actors.length];
        uint256 owed = market.balanceOf(address(0), account);
        if (owed == 0) return;
        vm.prank(account);
        market.withdraw(address(0));
        ghostPaidOut += owed;
    }

    /// @dev moves the clock past every deadline and settles until nothing is open (a dispute
    /// with no ruling needs two settles: one opens it, one closes it after the dispute window)
    function settleEverything() external {
        for (uint256 round; round < 3 && live.length != 0; ++round) {
            vm.warp(vm.getBlockTimestamp() + 40 days);
            vm.roll(vm.getBlockNumber() + 1);
            for (uint256 i = live.length; i > 0; --i) {
                this.settle(i - 1);
            }
        }
    }

    function liveCount() external view returns (uint256) {
        return live.length;
    }
}

/// @notice Solvency and conservation of the market's ETH and of an allowlisted ERC-20 under random
/// single-slot job traffic, challenges and rulings included.
/// The default profile keeps CI fast; `FOUNDRY_PROFILE=deep` runs 256 x 500 = 128,000 calls per invariant.
/// forge-config: default.invariant.runs = 16
/// forge-config: default.invariant.depth = 100
/// forge-config: deep.invariant.runs = 256
/// forge-config: deep.invariant.depth = 500
contract AssayMarketInvariantTest is MarketBase {
    SingleSlotHandler internal handler;
    TestToken internal token;
    address[] internal actors;

    function setUp() public override {
        super.setUp();
        token = new TestToken();
        vm.prank(owner);
        market.configureToken(address(token), true, 1e18);
        actors.push(requester);
        actors.push(treasury);
        for (uint256 i; i < workers.length; ++i) {
            actors.push(workers[i]);
        }
        actors.push(verifier);
        actors.push(address(arbiter)); // paid its share of forfeits; may withdraw like anyone
        handler = new SingleSlotHandler(IHandlerHost(address(this)), market, arbiter, token, verifier, actors);
        targetContract(address(handler));
    }

    function modelIdForHandler() external view returns (bytes32) {
        return modelId;
    }

    function postedTermsForHandler(Vm.Log[] memory logs) external pure returns (IAssayMarket.JobTerms memory terms) {
        for (uint256 i = logs.length; i > 0; --i) {
            if (logs[i - 1].topics[0] == IAssayMarket.JobPosted.selector) {
                (terms,,) = abi.decode(logs[i - 1].data, (IAssayMarket.JobTerms, bytes, string));
                return terms;
            }
        }
        revert("no JobPosted");
    }

    function _owedSum() private view returns (uint256 sum) {
        for (uint256 i; i < actors.length; ++i) {
            sum += market.balanceOf(address(0), actors[i]);
        }
    }

    /// the market holds exactly the escrow of open jobs, the bonds of open challenges and every
    /// balance it owes
    function invariant_marketSolventAndExact() public view {
        assertEq(address(market).balance, handler.ghostEscrow() + handler.ghostBonds() + _owedSum());
    }

    /// the market holds exactly the token escrow of open token jobs and every token balance it owes
    function invariant_tokenSolventAndExact() public view {
        uint256 owed;
        for (uint256 i; i < actors.length; ++i) {
            owed += market.balanceOf(address(token), actors[i]);
        }
        assertEq(token.balanceOf(address(market)), handler.ghostTokenEscrow() + owed);
    }

    /// how often the challenge paths ran (shown with -vv), not only posting and settling
    function afterInvariant() public {
        emit log_named_uint("challenged", handler.challengedCount());
        emit log_named_uint("ruled", handler.ruledCount());
        emit log_named_uint("closed", handler.settledCount());
    }

    /// the registry holds exactly the stake it accounts for
    function invariant_registryConserves() public view {
        uint256 sum;
        for (uint256 i; i < actors.length; ++i) {
            sum += registry.stakeOf(actors[i]).free + registry.stakeOf(actors[i]).locked;
        }
        assertEq(address(registry).balance, sum);
    }
}

/// @notice Three-slot jobs with an honest majority and a liar under random steps: solvency, exact
/// conservation, the honest never slashed, and every job closed once the clock passes its deadlines.
/// forge-config: default.invariant.runs = 16
/// forge-config: default.invariant.depth = 100
/// forge-config: deep.invariant.runs = 256
/// forge-config: deep.invariant.depth = 500
contract AssayMarketRedundantInvariantTest is MarketBase {
    RedundantHandler internal handler;
    address[] internal actors;

    function setUp() public override {
        super.setUp();
        actors.push(requester);
        actors.push(treasury);
        for (uint256 i; i < workers.length; ++i) {
            actors.push(workers[i]);
        }
        actors.push(verifier);
        handler = new RedundantHandler(IHandlerHost(address(this)), market, actors, workers[3]);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = RedundantHandler.post.selector;
        selectors[1] = RedundantHandler.commit.selector;
        selectors[2] = RedundantHandler.reveal.selector;
        selectors[3] = RedundantHandler.settle.selector;
        selectors[4] = RedundantHandler.warp.selector;
        selectors[5] = RedundantHandler.withdraw.selector;
        targetSelector(FuzzSelector(address(handler), selectors));
    }

    function modelIdForHandler() external view returns (bytes32) {
        return modelId;
    }

    function postedTermsForHandler(Vm.Log[] memory logs) external pure returns (IAssayMarket.JobTerms memory terms) {
        for (uint256 i = logs.length; i > 0; --i) {
            if (logs[i - 1].topics[0] == IAssayMarket.JobPosted.selector) {
                (terms,,) = abi.decode(logs[i - 1].data, (IAssayMarket.JobTerms, bytes, string));
                return terms;
            }
        }
        revert("no JobPosted");
    }

    function _owedSum() private view returns (uint256 sum) {
        for (uint256 i; i < actors.length; ++i) {
            sum += market.balanceOf(address(0), actors[i]);
        }
        sum += market.balanceOf(address(0), address(arbiter));
    }

    function _stakeSum() private view returns (uint256 sum) {
        for (uint256 i; i < actors.length; ++i) {
            sum += registry.stakeOf(actors[i]).free + registry.stakeOf(actors[i]).locked;
        }
    }

    /// the market holds exactly the escrow of open jobs plus every balance it owes
    function invariant_redundantMarketSolventAndExact() public view {
        assertEq(address(market).balance, handler.ghostEscrow() + _owedSum());
    }

    /// the registry holds exactly the stake it accounts for
    function invariant_redundantRegistryConserves() public view {
        assertEq(address(registry).balance, _stakeSum());
    }

    /// a worker that revealed the true result is never slashed
    function invariant_honestNeverSlashed() public view {
        assertFalse(handler.honestSlashed());
    }

    /// once every deadline has passed, every job closes, at most once, and the market owes only balances
    function afterInvariant() public {
        handler.settleEverything();
        assertEq(handler.liveCount(), 0);
        assertEq(handler.ghostEscrow(), 0);
        assertEq(address(market).balance, _owedSum());
        assertFalse(handler.honestSlashed());
    }
}
