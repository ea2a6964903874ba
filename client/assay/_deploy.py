"""Deploying the Assay contracts with web3 alone, from the artifacts shipped in the package."""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3

from ._artifacts import load_artifact
from ._deployments import Deployment
from ._errors import ConfigError, TransactionFailed
from ._transactions import send_transaction


@dataclass(frozen=True)
class MarketParams:
    """Deployment parameters; the contracts reject values outside their hard-coded bounds."""

    treasury: str | None = None
    """Receiver of protocol fees; defaults to the deployer."""
    fee_bps: int = 250
    collateral_bps: int = 10_000
    min_collateral: int = 10**15
    challenge_window: int = 60
    unstake_cooldown: int = 86_400

    def __post_init__(self) -> None:
        # the contracts enforce these bounds too; checking first avoids deploying a registry
        # whose market then fails to deploy
        for name, bound in _BOUNDS:
            if not 0 <= getattr(self, name) <= bound:
                raise ConfigError(f"{name} must be between 0 and {bound}, got {getattr(self, name)}")


_BOUNDS = (
    ("fee_bps", 1_000),  # JobMarket.MAX_FEE_BPS
    ("collateral_bps", 50_000),  # JobMarket.MAX_COLLATERAL_BPS
    ("challenge_window", 7 * 86_400),  # JobMarket.MAX_CHALLENGE_WINDOW
    ("unstake_cooldown", 30 * 86_400),  # StakingRegistry.MAX_COOLDOWN
    ("min_collateral", 2**128 - 1),
)


def deploy_contracts(w3: Web3, deployer: LocalAccount, params: MarketParams = MarketParams()) -> Deployment:
    """Deploy StakingRegistry then JobMarket. The registry needs the market's address and the
    market checks the registry's, so the market's CREATE address is computed first."""
    nonce = w3.eth.get_transaction_count(deployer.address, "pending")
    market_address = create_address(deployer.address, nonce + 1)
    start_block = w3.eth.block_number
    staking = _deploy(w3, deployer, "StakingRegistry", market_address, params.unstake_cooldown)
    market = _deploy(
        w3,
        deployer,
        "JobMarket",
        staking,
        params.treasury or deployer.address,
        params.fee_bps,
        params.collateral_bps,
        params.min_collateral,
        params.challenge_window,
    )
    if market != market_address:
        raise TransactionFailed(f"JobMarket landed at {market}, expected {market_address}")
    return Deployment(w3.eth.chain_id, market, staking, start_block)


def create_address(sender: str, nonce: int) -> ChecksumAddress:
    """The address a CREATE from `sender` at `nonce` deploys to."""
    return to_checksum_address(keccak(rlp.encode([to_canonical_address(sender), nonce]))[12:])


def _deploy(w3: Web3, deployer: LocalAccount, name: str, *args: object) -> ChecksumAddress:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = send_transaction(w3, deployer, factory.constructor(*args))
    if receipt["contractAddress"] is None:
        raise TransactionFailed(f"deploying {name} created no contract (tx {receipt['transactionHash'].hex()})")
    return to_checksum_address(receipt["contractAddress"])
