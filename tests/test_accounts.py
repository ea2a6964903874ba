"""The accounts a client can sign with, on anvil: a private key, an encrypted keystore file with
its password, and an external signer that only exposes an address and `sign_transaction`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from assay import ECHO, AssayClient, ConfigError, Deployment, JobPhase, Signer, load_keystore
from assay.devnet import ANVIL_KEYS
from eth_account import Account
from eth_account.datastructures import SignedTransaction
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3

REWARD = 10**15


class CountingSigner:
    """Stands in for a KMS or hardware wallet: the key never leaves it, it only signs."""

    def __init__(self, key: str) -> None:
        self._account: LocalAccount = Account.from_key(key)
        self.signed = 0

    @property
    def address(self) -> ChecksumAddress:
        return self._account.address

    def sign_transaction(self, transaction_dict: Any) -> SignedTransaction:
        self.signed += 1
        return self._account.sign_transaction(transaction_dict)


def keystore(tmp_path: Path, key: str, password: str, mode: int = 0o600) -> Path:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(Account.encrypt(key, password)))
    path.chmod(mode)
    return path


def test_a_keystore_file_and_its_password_sign_jobs(w3: Web3, deployment: Deployment, tmp_path: Path) -> None:
    path = keystore(tmp_path, ANVIL_KEYS[1], "correct horse")
    client = AssayClient(w3, load_keystore(path, "correct horse"), deployment=deployment)
    assert client.address == Account.from_key(ANVIL_KEYS[1]).address
    job = client.post_job(ECHO, "from a keystore", reward=REWARD)
    assert job.terms.requester == client.address and job.status() == JobPhase.ASSIGNING


def test_a_keystore_is_refused_with_the_wrong_password_or_loose_permissions(tmp_path: Path) -> None:
    path = keystore(tmp_path, ANVIL_KEYS[1], "correct horse")
    with pytest.raises(ConfigError, match="wrong password"):
        load_keystore(path, "battery staple")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_keystore(path, "correct horse")
    with pytest.raises(ConfigError, match="cannot read"):
        load_keystore(tmp_path / "missing.json", "x")
    for text in ("{}", "[]", '{"crypto": {}}'):
        (tmp_path / "odd.json").write_text(text)
        (tmp_path / "odd.json").chmod(0o600)
        with pytest.raises(ConfigError, match=r"not (an|a valid) eth-account keystore"):
            load_keystore(tmp_path / "odd.json", "x")


def test_an_external_signer_signs_every_transaction(w3: Web3, deployment: Deployment) -> None:
    signer = CountingSigner(ANVIL_KEYS[3])
    assert isinstance(signer, Signer)
    client = AssayClient(w3, signer, deployment=deployment)
    job = client.post_job(ECHO, "signed elsewhere", reward=REWARD)
    assert signer.signed == 1 and job.terms.requester == signer.address
    job.cancel()
    client.withdraw()
    assert signer.signed == 3 and client.balance() == 0


def test_an_object_that_cannot_sign_is_refused(w3: Web3, deployment: Deployment) -> None:
    with pytest.raises(ConfigError, match="private key or a Signer, got bytes"):
        AssayClient(w3, bytes.fromhex(ANVIL_KEYS[1][2:]), deployment=deployment)  # type: ignore[arg-type]
    for bad in ("0x1234", "not hex at all", ANVIL_KEYS[1] + "00"):
        with pytest.raises(ConfigError, match="not 32 bytes of hex") as caught:
            AssayClient(w3, bad, deployment=deployment)
        assert bad not in str(caught.value)  # a key is never echoed
