"""One Python exception per Solidity custom error of the Assay contracts (and the OpenZeppelin
errors they can raise), so callers can `except MarketWrongStatus` instead of comparing names. Each
carries the error's arguments in `args_by_name`. A test checks that every error in the shipped
ABIs has its class here."""

from __future__ import annotations

from ._errors import ContractRevert


class AddressEmptyCode(ContractRevert):
    """* There's no code at `target` (it is not a contract)."""


class ArbiterAlreadyCommitted(ContractRevert):
    """Raised when `member` commits twice on `jobId`."""


class ArbiterBadConfig(ContractRevert):
    """Raised by the constructor on a zero address or a parameter out of bounds."""


class ArbiterBadReveal(ContractRevert):
    """Raised when `member` reveals a vote on `jobId` that does not match its commitment (or none)."""


class ArbiterDisputeExists(ContractRevert):
    """Raised when the market opens a second dispute for `jobId`."""


class ArbiterNotMarket(ContractRevert):
    """Raised when `caller` is not the market (or, in `receive`, neither market nor registry)."""


class ArbiterNotMember(ContractRevert):
    """Raised when `who` is not on the committee of `jobId`."""


class ArbiterNothingToWithdraw(ContractRevert):
    """Raised when `account` withdraws with nothing owed."""


class ArbiterUnknownDispute(ContractRevert):
    """Raised when `jobId` has no open dispute here."""


class ArbiterWrongPhase(ContractRevert):
    """Raised when an action on `jobId` comes in phase `current` instead of `expected`."""


class EnforcedPause(ContractRevert):
    """* The operation failed because the contract is paused."""


class ExpectedPause(ContractRevert):
    """* The operation failed because the contract is not paused."""


class FailedCall(ContractRevert):
    """* A call to an address target failed. The target may have reverted."""


class InsufficientBalance(ContractRevert):
    """* The ETH balance of the account is not enough to perform the operation."""


class MarketBadAllowlist(ContractRevert):
    """Raised when an allowlist is longer than `MAX_ALLOWLIST` or names address(0)."""


class MarketBadBatch(ContractRevert):
    """Raised when batch arrays differ in length or exceed `MAX_BATCH`."""


class MarketBadChallenge(ContractRevert):
    """Raised when a challenge is not by a staked verifier of the model, or the bond is wrong."""


class MarketBadConsumer(ContractRevert):
    """Raised when a consumer has no code or asks for more than `MAX_CALLBACK_GAS`."""


class MarketBadDeadlines(ContractRevert):
    """Raised unless now < claimDeadline < resultDeadline <= now + `MAX_JOB_DURATION`."""


class MarketBadInput(ContractRevert):
    """Raised when a job has neither inline input nor an input URI with a hash, or both."""


class MarketBadParams(ContractRevert):
    """Raised when a parameter is out of its hard-coded bounds."""


class MarketBadRedundancy(ContractRevert):
    """Raised when `redundancy` is 0 or above `MAX_REDUNDANCY`."""


class MarketBadResult(ContractRevert):
    """Raised when inline result bytes do not hash to the result hash or exceed `MAX_INLINE_RESULT`."""


class MarketBadSlot(ContractRevert):
    """Raised when `slot` is not below the job's redundancy."""


class MarketClaimClosed(ContractRevert):
    """Raised when a slot is taken after the claim deadline."""


class MarketCommitmentMismatch(ContractRevert):
    """Raised when a reveal does not match its commitment."""


class MarketInputTooLarge(ContractRevert):
    """Raised when inline input is longer than `max` bytes."""


class MarketInsufficientGas(ContractRevert):
    """Raised when `settle` gets less gas than the consumer callback is promised."""


class MarketNotArbiter(ContractRevert):
    """Raised when `caller` is not the arbiter."""


class MarketNotCancellable(ContractRevert):
    """Raised when a job that has taken slots is cancelled."""


class MarketNotEligible(ContractRevert):
    """Raised when `caller` may not take `slot` of `jobId` now (not drawn, not allowlisted, not serving
    the model, or holding another slot of the job)."""


class MarketNotRequester(ContractRevert):
    """Raised when `caller` is not the job's requester."""


class MarketNotWorker(ContractRevert):
    """Raised when `caller` is not the worker of the slot it acts on."""


class MarketNothingToWithdraw(ContractRevert):
    """Raised when `account` withdraws `token` with a zero balance."""


class MarketSlotTaken(ContractRevert):
    """Raised when a slot is already taken."""


class MarketTermsMismatch(ContractRevert):
    """Raised when the terms (and outcome) passed do not hash to what job `jobId` stored."""


class MarketTokenNotAllowed(ContractRevert):
    """Raised when a reward token is not allowlisted."""


class MarketTokenShortfall(ContractRevert):
    """Raised when a token transfer delivers `received` instead of `expected` (fee-on-transfer tokens)."""


class MarketTooEarly(ContractRevert):
    """Raised when an action comes before its window opens at `opensAt`."""


class MarketTooLate(ContractRevert):
    """Raised when a result or commitment arrives after `deadline`."""


class MarketUnexpectedETH(ContractRevert):
    """Raised when ETH arrives from anyone but the worker registry."""


class MarketWrongStatus(ContractRevert):
    """Raised when job `jobId` is `current` but the call needs `expected`."""


class MarketWrongValue(ContractRevert):
    """Raised when the ETH sent differs from the ETH rewards asked for."""


class MarketZeroHash(ContractRevert):
    """Raised when a result hash or commitment is zero."""


class MarketZeroReward(ContractRevert):
    """Raised when a job asks for no reward, or less than one wei per slot."""


class ModelAlreadyRegistered(ContractRevert):
    """Raised when `modelId` is registered already."""


class ModelBadAuditRate(ContractRevert):
    """Raised when `auditBps` exceeds 10,000."""


class ModelMissingManifest(ContractRevert):
    """Raised when a model's manifest hash is zero or its URI empty."""


class ModelUnknown(ContractRevert):
    """Raised when `modelId` is not registered."""


class OracleNotMarket(ContractRevert):
    """Raised when a callback comes from anyone but the market."""


class OracleNothingToDeliver(ContractRevert):
    """Raised when question `jobId` has no verified answer whose label is missing."""


class OracleNothingToReclaim(ContractRevert):
    """Raised when `caller` reclaims nothing."""


class OracleWrongLabel(ContractRevert):
    """Raised when a delivered label does not hash to question `jobId`'s verified result."""


class OwnableInvalidOwner(ContractRevert):
    """* The owner is not a valid owner account. (eg. `address(0)`)."""


class OwnableUnauthorizedAccount(ContractRevert):
    """* The caller account is not authorized to perform an operation."""


class ReentrancyGuardReentrantCall(ContractRevert):
    """* Unauthorized reentrant call."""


class RegistryAlreadyServing(ContractRevert):
    """Raised when `worker` joins a model it already serves."""


class RegistryBadConfig(ContractRevert):
    """Raised by the constructor on a zero address or a cooldown above its bound."""


class RegistryCooldownActive(ContractRevert):
    """Raised when `worker` withdraws before `unlockAt`."""


class RegistryInsufficientFree(ContractRevert):
    """Raised when `worker` has less free stake than `needed`."""


class RegistryInsufficientLocked(ContractRevert):
    """Raised when `worker` has less locked stake than `needed`."""


class RegistryNotAuthorized(ContractRevert):
    """Raised when `caller` is neither the market nor the arbiter."""


class RegistryNotServing(ContractRevert):
    """Raised when `worker` leaves a model it does not serve."""


class RegistryNothingToWithdraw(ContractRevert):
    """Raised when `worker` withdraws with nothing unstaking."""


class RegistryTooManyModels(ContractRevert):
    """Raised when `worker` already serves `max` models."""


class RegistryUnknownModel(ContractRevert):
    """Raised when a worker joins a model that the model registry does not know."""


class RegistryZeroAmount(ContractRevert):
    """Raised when a stake, unstake, lock, unlock or slash names zero wei."""


class SortitionWeightOverflow(ContractRevert):
    """Raised when a draw weight or a sum of weights does not fit in 128 bits."""


class SafeERC20FailedOperation(ContractRevert):
    """* An operation with an ERC-20 token failed."""


CONTRACT_ERRORS: dict[str, type[ContractRevert]] = {
    cls.__name__: cls for cls in ContractRevert.__subclasses__() if cls.__module__ == __name__
}
