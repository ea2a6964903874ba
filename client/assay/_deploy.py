"""Deploying the Assay contracts with web3 alone, from the artifacts shipped in the package."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import rlp
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3

from ._artifacts import Artifact, load_artifact
from ._deployments import Deployment
from ._errors import ConfigError, TransactionFailed
from ._models import BUILTIN_MODELS, ModelManifest
from ._transactions import send_transaction


@dataclass(frozen=True)
class MarketParams:
    """Deployment parameters (`IAssayMarket.Params` plus the registry's and the arbiter's); the
    contracts reject values outside their hard-coded bounds, and so does this class, first."""

    treasury: str | None = None
    """Receiver of protocol fees; defaults to the deployer."""
    fee_bps: int = 250
    collateral_bps: int = 15_000
    arbiter_share_bps: int = 1_000
    accept_window: int = 60
    reveal_window: int = 600
    challenge_window: int = 600
    dispute_window: int = 3_600
    no_show_penalty: int = 10**15
    unstake_cooldown: int = 86_400
    arbiter: Literal["trusted", "committee"] = "trusted"
    """`trusted`: the deployer rules (testnets); `committee`: staked verifiers vote."""
    committee_size: int = 3
    committee_deposit: int = 10**16
    committee_penalty: int = 5 * 10**15
    models: tuple[ModelManifest, ...] = field(default_factory=lambda: tuple(BUILTIN_MODELS.values()))
    """Models registered right after deployment."""

    def __post_init__(self) -> None:
        for name, low, high in _BOUNDS:
            if not low <= getattr(self, name) <= high:
                raise ConfigError(f"{name} must be between {low} and {high}, got {getattr(self, name)}")
        if self.arbiter not in ("trusted", "committee"):
            raise ConfigError(f"arbiter must be 'trusted' or 'committee', got {self.arbiter!r}")

    def on_chain(self) -> tuple[int, ...]:
        """The `IAssayMarket.Params` struct."""
        return (
            self.fee_bps,
            self.collateral_bps,
            self.arbiter_share_bps,
            self.accept_window,
            self.reveal_window,
            self.challenge_window,
            self.dispute_window,
            self.no_show_penalty,
        )


_DAY = 86_400
_BOUNDS = (  # the contracts' constants (AssayMarket.MAX_*, WorkerRegistry.MAX_COOLDOWN, CommitteeArbiter)
    ("fee_bps", 0, 1_000),
    ("collateral_bps", 0, 50_000),
    ("arbiter_share_bps", 0, 5_000),
    ("accept_window", 1, 7 * _DAY),
    ("reveal_window", 1, 7 * _DAY),
    ("challenge_window", 1, 7 * _DAY),
    ("dispute_window", 1, 30 * _DAY),
    ("no_show_penalty", 0, 10**18),
    ("unstake_cooldown", 0, 30 * _DAY),
    ("committee_size", 1, 15),
    ("committee_deposit", 0, 2**128 - 1),
    ("committee_penalty", 0, 2**128 - 1),
)


def deploy_contracts(w3: Web3, deployer: LocalAccount, params: MarketParams = MarketParams()) -> Deployment:
    """Deploy JobSettlement, ModelRegistry, WorkerRegistry, the arbiter and AssayMarket, then
    register `params.models`. The registry and the arbiter need the market's address and the
    market checks theirs, so CREATE addresses are computed from the deployer's nonce first."""
    nonce = w3.eth.get_transaction_count(deployer.address, "pending")
    arbiter_at = create_address(deployer.address, nonce + 3)
    market_at = create_address(deployer.address, nonce + 4)
    start_block = w3.eth.block_number
    settlement = deploy_artifact(w3, deployer, "JobSettlement")
    models = deploy_artifact(w3, deployer, "ModelRegistry")
    registry = deploy_artifact(w3, deployer, "WorkerRegistry", market_at, arbiter_at, models, params.unstake_cooldown)
    treasury = params.treasury or deployer.address
    arbiter_args: tuple[object, ...]
    if params.arbiter == "trusted":
        kind, arbiter_args = "TrustedArbiter", (market_at, deployer.address)
    else:
        kind = "CommitteeArbiter"
        arbiter_args = (
            market_at,
            registry,
            treasury,
            params.committee_size,
            params.committee_deposit,
            params.committee_penalty,
        )
    arbiter = deploy_artifact(w3, deployer, kind, *arbiter_args)
    market = deploy_artifact(
        w3,
        deployer,
        "AssayMarket",
        registry,
        models,
        arbiter,
        treasury,
        params.on_chain(),
        deployer.address,
        libraries={"JobSettlement": settlement},
    )
    if (arbiter, market) != (arbiter_at, market_at):
        raise TransactionFailed(f"contracts landed at {arbiter}, {market}; expected {arbiter_at}, {market_at}")
    deployment = Deployment(w3.eth.chain_id, market, registry, models, arbiter, start_block, kind)
    register_models(w3, deployer, deployment, params.models)
    return deployment


def register_models(
    w3: Web3, account: LocalAccount, deployment: Deployment, manifests: Iterable[ModelManifest]
) -> list[bytes]:
    """Register each manifest that the model registry does not know yet; return their ids."""
    registry = w3.eth.contract(address=deployment.models, abi=load_artifact("ModelRegistry").abi)
    ids = []
    for manifest in manifests:
        if not registry.functions.isRegistered(manifest.model_id).call():
            send_transaction(w3, account, registry.functions.registerModel(manifest.on_chain(), manifest.manifest_uri))
        ids.append(manifest.model_id)
    return ids


def create_address(sender: str, nonce: int) -> ChecksumAddress:
    """The address a CREATE from `sender` at `nonce` deploys to."""
    return to_checksum_address(keccak(rlp.encode([to_canonical_address(sender), nonce]))[12:])


def link(artifact: Artifact, libraries: dict[str, str]) -> str:
    """The artifact's bytecode with every library placeholder replaced by its address."""
    code = artifact.bytecode
    for source, names in artifact.link_references.items():
        for name in names:
            if name not in libraries:
                raise ConfigError(f"{artifact.name} needs library {name} linked")
            placeholder = "__$" + keccak(text=f"{source}:{name}").hex()[:34] + "$__"
            code = code.replace(placeholder, libraries[name][2:].lower())
    return code


def deploy_artifact(
    w3: Web3, deployer: LocalAccount, name: str, *args: object, libraries: dict[str, str] | None = None
) -> ChecksumAddress:
    """Deploy the shipped contract `name` (e.g. the example `SentimentOracle`) with `args`."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=link(artifact, libraries or {}))
    receipt = send_transaction(w3, deployer, factory.constructor(*args))
    if receipt["contractAddress"] is None:
        raise TransactionFailed(f"deploying {name} created no contract (tx {receipt['transactionHash'].hex()})")
    return to_checksum_address(receipt["contractAddress"])
