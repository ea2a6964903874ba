"""Loading accounts from encrypted eth-account keystores, refusing key files others can read."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ._errors import ConfigError


def check_private_file(path: Path) -> None:
    """Raise `ConfigError` when `path` is readable or writable by group or others."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} is accessible to other users (mode {stat.filemode(mode)}); run: chmod 600 {path}")


def decrypt_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt the keystore at `path` (which must be private to its owner)."""
    check_private_file(path)
    try:
        encrypted = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read keystore {path}: {exc}") from exc
    try:
        account: LocalAccount = Account.from_key(Account.decrypt(encrypted, password))
    except ValueError:
        raise ConfigError(f"wrong password for keystore {path}") from None
    return account
