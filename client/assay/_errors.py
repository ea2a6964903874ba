"""Exceptions raised by Assay. Catch `AssayError` to catch them all.

AssayError
├── ConfigError            bad arguments, missing deployment, wrong chain
│   ├── DeploymentNotFound
│   └── ChainMismatch
├── ChainError             the RPC or a transaction failed
│   ├── TransactionFailed  mined but reverted, or never mined in time
│   ├── InsufficientFunds  the account cannot pay for what it asked (reward, bond, gas)
│   ├── FeeCapExceeded     the base fee is above the configured max_fee_per_gas
│   └── ContractRevert     a contract custom error, decoded with its arguments
├── StorageError           a payload could not be fetched or stored
│   ├── PayloadTooLarge
│   ├── UnsafeURI          not http(s), or pointing into a private network
│   └── ResultMismatch     the fetched payload does not match its on-chain hash
├── BatchFormatError       bytes that claim to be a batch of inputs or results do not decode
└── JobError               a job did not produce a result
    ├── JobTimeout
    └── JobNotCompleted    refunded, cancelled or expired
"""

from __future__ import annotations

from typing import Any


class AssayError(Exception):
    """Root of every error Assay raises."""


class ConfigError(AssayError):
    """Raised when arguments or configuration are invalid."""


class DeploymentNotFound(ConfigError):
    """Raised when no deployments file names the contracts for a chain."""


class ChainMismatch(ConfigError):
    """Raised when the RPC's chain id differs from the deployment's."""


class ChainError(AssayError):
    """Raised when the RPC fails or a transaction does not go through."""


class TransactionFailed(ChainError):
    """Raised when a transaction reverted on chain or was not mined in time."""


class InsufficientFunds(ChainError):
    """Raised when the account lacks the ETH or tokens for what it asked; nothing was sent."""


class FeeCapExceeded(ChainError):
    """Raised when the chain's base fee (or gas price) is above `TxPolicy.max_fee_per_gas`; nothing was sent."""

    def __init__(self, function: str, cap: int, base_fee: int) -> None:
        self.function = function
        self.cap = cap
        self.base_fee = base_fee
        super().__init__(
            f"{function} not sent: the base fee is {base_fee} wei per gas, above the cap max_fee_per_gas={cap} wei"
        )


class ContractRevert(ChainError):
    """Raised when a contract call reverts with a custom error; `name` and `args` decode it."""

    def __init__(self, name: str, args: dict[str, Any], function: str) -> None:
        self.name = name
        self.args_by_name = args
        self.function = function
        shown = ", ".join(f"{key}={value!r}" for key, value in args.items())
        super().__init__(f"{function} reverted: {name}({shown})")


class StorageError(AssayError):
    """Raised when a payload cannot be fetched or stored."""


class PayloadTooLarge(StorageError):
    """Raised when a payload exceeds the allowed size."""


class UnsafeURI(StorageError):
    """Raised when a URI is not http(s) or resolves to a private, loopback or link-local address."""


class ResultMismatch(StorageError):
    """Raised when a fetched payload's hash differs from the hash committed on chain."""


class BatchFormatError(AssayError):
    """Raised when bytes that start with the batch tag are not a well-formed batch document, or
    a payload read as a batch is not one (see `assay.batch`)."""


class JobError(AssayError):
    """Raised when a job does not deliver a result."""


class JobTimeout(JobError):
    """Raised when `Job.wait` runs out of time; the job may still complete later."""


class NoWorkerAvailable(JobTimeout):
    """Raised when `Job.wait` runs out of time on a job that no worker can take: none is staked
    for its model. The escrow comes back with `job.refund()` after the claim deadline."""


class JobNotCompleted(JobError):
    """Raised when a job ended, or can only end, without a result (refunded, cancelled, expired)."""
