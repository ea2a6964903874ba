"""Accounts: what the client needs of a signer, and loading encrypted eth-account keystores
(refusing key files that others can read)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from eth_account import Account
from eth_account.datastructures import SignedTransaction
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

from ._errors import ConfigError


@runtime_checkable
class Signer(Protocol):
    """What the client needs of an account: its address and transaction signing. eth-account's
    `LocalAccount` is one; an adapter for a KMS, an HSM or a hardware wallet can be another."""

    @property
    def address(self) -> ChecksumAddress: ...

    def sign_transaction(self, transaction_dict: Any) -> SignedTransaction: ...


def check_private_file(path: Path) -> None:
    """Raise `ConfigError` when `path` is readable or writable by group or others."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} is accessible to other users (mode {stat.filemode(mode)}); run: chmod 600 {path}")


def decrypt_keystore(path: str | os.PathLike[str], password: str) -> LocalAccount:
    """The account in the eth-account keystore (V3 JSON) at `path`, decrypted with `password`;
    `ConfigError` when the file is readable by others, unreadable, or the password is wrong."""
    path = Path(path)
    check_private_file(path)
    try:
        encrypted = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read keystore {path}: {exc}") from exc
    if not isinstance(encrypted, dict) or "crypto" not in {key.lower() for key in encrypted}:
        raise ConfigError(f"{path} is not an eth-account keystore (no 'crypto' section)")
    try:
        account: LocalAccount = Account.from_key(Account.decrypt(encrypted, password))
    except ValueError:
        raise ConfigError(f"wrong password for keystore {path}") from None
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a valid eth-account keystore (missing {exc})") from None
    return account
