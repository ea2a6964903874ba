// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IArbiter, IArbiterMarket} from "../../../contracts/interfaces/IArbiter.sol";

/// @notice Test stand-in for an arbiter: records each dispute and forwards whatever ruling a test gives.
contract ArbiterDouble is IArbiter {
    struct Opened {
        bytes32 modelId;
        address[] workers;
        bytes32[] resultHashes;
        uint64 deadline;
    }

    address public immutable market;
    mapping(uint256 jobId => Opened) private _opened;
    uint256 public disputes;

    constructor(address market_) {
        market = market_;
    }

    receive() external payable {}

    function openDispute(
        uint256 jobId,
        bytes32 modelId,
        bytes32,
        address[] calldata workers,
        bytes32[] calldata resultHashes,
        uint64 deadline
    ) external {
        require(msg.sender == market, "not market");
        _opened[jobId] = Opened(modelId, workers, resultHashes, deadline);
        ++disputes;
    }

    function ruleOn(uint256 jobId, uint256 validMask) external returns (uint256) {
        return IArbiterMarket(market).rule(jobId, validMask);
    }

    function opened(uint256 jobId) external view returns (Opened memory) {
        return _opened[jobId];
    }
}
