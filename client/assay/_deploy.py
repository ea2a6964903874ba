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
from ._errors import TransactionFailed


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


def deploy_contracts(w3: Web3, deployer: LocalAccount, params: MarketParams = MarketParams()) -> Deployment:
    """Deploy StakingRegistry then JobMarket. The registry needs the market's address and the
    market checks the registry's, so the market's CREATE address is computed first."""
    nonce = w3.eth.get_transaction_count(deployer.address, "pending")
    market_address = create_address(deployer.address, nonce + 1)
    start_block = w3.eth.block_number
    staking = _deploy(w3, deployer, "StakingRegistry", nonce, market_address, params.unstake_cooldown)
    market = _deploy(
        w3,
        deployer,
        "JobMarket",
        nonce + 1,
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


def _deploy(w3: Web3, deployer: LocalAccount, name: str, nonce: int, *args: object) -> ChecksumAddress:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(*args).build_transaction({"from": deployer.address, "nonce": nonce})
    tx_hash = w3.eth.send_raw_transaction(deployer.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    if receipt["status"] != 1 or receipt["contractAddress"] is None:
        raise TransactionFailed(f"deploying {name} reverted (tx {tx_hash.hex()})")
    return to_checksum_address(receipt["contractAddress"])
