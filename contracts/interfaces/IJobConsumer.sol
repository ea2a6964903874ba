// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IJobConsumer
/// @notice Implemented by a dApp contract that posts jobs and wants their outcome delivered.
/// The market calls it once per job, when the job is paid out or refunded, with at most the
/// job's `callbackGas`. A reverting or gas-hungry consumer cannot block payment or refund:
/// the market records the failure in `CallbackFailed` and carries on.
interface IJobConsumer {
    /// @notice Delivers the outcome of job `jobId`.
    /// @param jobId the job
    /// @param success true when a verified result was paid for, false when the job was refunded
    /// @param resultHash the accepted result's hash (zero when `success` is false)
    /// @param result the result bytes (at most 4,096, checked against `resultHash`) when whoever
    /// settled the job passed them; empty otherwise. Anyone may settle, and may pass no bytes: a
    /// consumer that needs them should accept an empty `result` and fetch it by `resultHash`, or
    /// settle its jobs itself
    function onJobSettled(uint256 jobId, bool success, bytes32 resultHash, bytes calldata result) external;
}
