"""Shared CLI plumbing: global options, the account, the client, output and the error type."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount
from rich.console import Console
from web3 import Web3

from .._client import AssayClient, account_from_key, as_address, chain_id_of
from .._deployments import Deployment
from .._errors import ConfigError
from .._keys import decrypt_keystore
from .._rpc import http_provider
from ..devnet import dev_key

KEY_ENV = "ASSAY_PRIVATE_KEY"
KEYSTORE_ENV = "ASSAY_KEYSTORE"
PASSWORD_ENV = "ASSAY_KEYSTORE_PASSWORD"

console = Console(stderr=True, highlight=False)
"""Progress and messages go to stderr so stdout stays clean for --json."""
output = Console(highlight=False)
"""What a command was asked for (tables) goes to stdout, so it can be piped."""


@dataclass
class Settings:
    rpc_url: str
    deployments: str | None
    keystore: str | None
    dev_account: int | None

    def client(self, *, signer: bool = True) -> AssayClient:
        """A client for the configured chain; with the account when `signer`."""
        w3 = Web3(http_provider(self.rpc_url, timeout=30))
        account = self.account(w3) if signer else None
        return AssayClient(w3, account, deployment=self.deployments)

    def account(self, w3: Web3) -> LocalAccount:
        if self.dev_account is not None:
            try:
                return account_from_key(dev_key(self.dev_account, chain_id_of(w3)))
            except ConfigError as exc:
                raise click.UsageError(f"--dev-account: {exc}") from None
        if self.keystore:
            return load_keystore(Path(self.keystore))
        key = os.environ.get(KEY_ENV)
        if key:
            try:
                return account_from_key(key)
            except ConfigError:
                raise click.UsageError(f"${KEY_ENV} is not a private key (0x and 64 hex digits)") from None
        raise click.UsageError(
            f"no account: pass --keystore FILE (password from ${PASSWORD_ENV} or a prompt), set ${KEY_ENV}, "
            "or use --dev-account N on a local chain"
        )


def load_keystore(path: Path) -> LocalAccount:
    """Decrypt an eth-account keystore; the password comes from the environment or a hidden prompt."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = click.prompt(f"password for {path.name}", hide_input=True, err=True)
    try:
        return decrypt_keystore(path, password)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def parse_eth(value: str) -> int:
    """'0.01' (ETH) -> wei; refuses negative, infinite, malformed and out-of-range amounts."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not an amount of ETH") from None
    if not amount.is_finite():
        raise click.BadParameter(f"{value!r} is not an amount of ETH")
    if amount < 0:
        raise click.BadParameter("amounts cannot be negative")
    wei = int(Web3.to_wei(amount, "ether"))
    if wei >= 2**128:
        raise click.BadParameter(f"{value} ETH is more than the market can hold (amounts are uint128 wei)")
    return wei


class AddressType(click.ParamType):
    """An Ethereum address in any letter case, given back checksummed."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return as_address(value, "")
        except ConfigError:
            self.fail(f"{value!r} is not an Ethereum address (0x and 40 hex digits)", param, ctx)


ADDRESS = AddressType()


def eth(wei: int) -> str:
    return f"{Web3.from_wei(wei, 'ether')} ETH"


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


pass_settings = click.make_pass_decorator(Settings)
json_option = click.option("--json", "as_json", is_flag=True, help="print machine-readable JSON to stdout")


def show_deployment(deployment: Deployment, as_json: bool, note: str, extra: dict[str, Any] | None = None) -> None:
    """Print a deployment's addresses (as JSON: the deployments file's fields)."""
    contracts = json.loads(deployment.to_json())["contracts"]
    if as_json:
        emit_json({"chain_id": deployment.chain_id, "contracts": contracts} | (extra or {}))
        return
    console.print(note)
    for name, address in contracts.items():
        console.print(f"  {name:<17} {address}")
