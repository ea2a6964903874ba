// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IArbiterMarket} from "./interfaces/IArbiter.sol";
import {IAssayMarket} from "./interfaces/IAssayMarket.sol";
import {ITrustedArbiter} from "./interfaces/ITrustedArbiter.sol";

/// @title TrustedArbiter
/// @notice One key rules on disputes; for early testnets, before a committee of verifiers is
/// staked. See `ITrustedArbiter`.
contract TrustedArbiter is ITrustedArbiter, Ownable2Step, ReentrancyGuardTransient {
    /// @notice The market whose disputes this arbiter decides.
    address public immutable market;

    mapping(uint256 jobId => uint64 deadline) private _deadlines;

    /// @param market_ the market (its address precomputed when the market is deployed after this)
    /// @param owner_ the key that rules
    constructor(address market_, address owner_) Ownable(owner_) {
        if (market_ == address(0)) revert ArbiterBadConfig();
        market = market_;
    }

    /// @notice Accepts the arbiter's rewards from the market only.
    receive() external payable {
        if (msg.sender != market) revert ArbiterNotMarket(msg.sender);
    }

    /// @inheritdoc ITrustedArbiter
    function deadlineOf(uint256 jobId) external view returns (uint64) {
        return _deadlines[jobId];
    }

    /// @notice Records a dispute for the owner to rule on. Market only.
    function openDispute(
        uint256 jobId,
        bytes32 modelId,
        bytes32 inputHash,
        address[] calldata workers,
        bytes32[] calldata resultHashes,
        uint64 deadline
    ) external {
        if (msg.sender != market) revert ArbiterNotMarket(msg.sender);
        if (_deadlines[jobId] != 0) revert ArbiterDisputeExists(jobId);
        _deadlines[jobId] = deadline;
        emit DisputeOpened(jobId, modelId, inputHash, workers, resultHashes, deadline);
    }

    /// @inheritdoc ITrustedArbiter
    function rule(uint256 jobId, uint256 validMask) external onlyOwner {
        if (_deadlines[jobId] == 0) revert ArbiterUnknownDispute(jobId);
        // the market checks the job is still disputed and the deadline has not passed
        uint256 reward = IArbiterMarket(market).rule(jobId, validMask);
        emit DisputeRuled(jobId, validMask, reward);
    }

    /// @inheritdoc ITrustedArbiter
    function collect(address payable to) external onlyOwner nonReentrant {
        uint256 amount = IAssayMarket(market).balanceOf(address(0), address(this));
        emit RewardsCollected(to, amount);
        IAssayMarket(market).withdraw(address(0));
        Address.sendValue(to, amount);
    }
}
