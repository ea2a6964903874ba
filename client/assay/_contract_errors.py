"""One Python exception per Solidity custom error of the Assay contracts, so callers can
`except MarketWrongStatus` instead of comparing names. Each carries the error's arguments in
`args_by_name`. A test checks that every error in the shipped ABIs has its class here."""

from __future__ import annotations

from ._errors import ContractRevert


class MarketWrongStatus(ContractRevert):
    """Raised when a job is not in the status the call needs (`current` vs `expected`)."""


class MarketZeroReward(ContractRevert):
    """Raised when a job is posted without reward."""


class MarketRewardTooLarge(ContractRevert):
    """Raised when a reward does not fit in 128 bits."""


class MarketBadDeadlines(ContractRevert):
    """Raised unless now < claimDeadline < resultDeadline."""


class MarketMissingInput(ContractRevert):
    """Raised when a job has no input (nor input hash and URI)."""


class MarketInputTooLarge(ContractRevert):
    """Raised when inline input exceeds the market's limit."""


class MarketClaimClosed(ContractRevert):
    """Raised when claiming after the claim deadline."""


class MarketResultLate(ContractRevert):
    """Raised when a result arrives after the result deadline."""


class MarketZeroResultHash(ContractRevert):
    """Raised when a result hash is zero."""


class MarketNotWorker(ContractRevert):
    """Raised when someone other than the job's worker submits its result."""


class MarketNotRequester(ContractRevert):
    """Raised when someone other than the requester cancels a job."""


class MarketChallengeWindowOpen(ContractRevert):
    """Raised when finalizing before the challenge window has ended."""


class MarketNotRefundable(ContractRevert):
    """Raised when refunding a job before its pending deadline has passed."""


class MarketNothingToWithdraw(ContractRevert):
    """Raised when withdrawing a zero market balance."""


class MarketUnexpectedETH(ContractRevert):
    """Raised when ETH is sent to the market directly."""


class MarketBadConfig(ContractRevert):
    """Raised when deploying the market with parameters out of bounds."""


class StakingZeroAmount(ContractRevert):
    """Raised when staking, unstaking, locking or slashing zero wei."""


class StakingInsufficientFree(ContractRevert):
    """Raised when a worker's free stake is below what is needed (stake more first)."""


class StakingInsufficientLocked(ContractRevert):
    """Raised when a worker's locked stake is below what is released or slashed."""


class StakingCooldownActive(ContractRevert):
    """Raised when withdrawing stake before its cooldown has passed (`unlockAt`)."""


class StakingNothingToWithdraw(ContractRevert):
    """Raised when withdrawing stake with nothing unstaking."""


class StakingNotMarket(ContractRevert):
    """Raised when anyone but the market locks, unlocks or slashes stake."""


class StakingZeroMarket(ContractRevert):
    """Raised when deploying the registry without a market address."""


class StakingCooldownTooLong(ContractRevert):
    """Raised when deploying the registry with a cooldown beyond its bound."""


class ReentrancyGuardReentrantCall(ContractRevert):
    """Raised when a call re-enters a guarded function."""


class SafeCastOverflowedUintDowncast(ContractRevert):
    """Raised when an amount does not fit the contract's storage type."""


class FailedCall(ContractRevert):
    """Raised when an ETH transfer to the recipient failed (it rejects ETH)."""


class InsufficientBalance(ContractRevert):
    """Raised when a contract lacks the ETH for a transfer."""


CONTRACT_ERRORS: dict[str, type[ContractRevert]] = {
    cls.__name__: cls for cls in ContractRevert.__subclasses__() if cls.__module__ == __name__
}
