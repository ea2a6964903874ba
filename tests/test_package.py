"""The distribution itself: shipped artifacts match the sources, the SDK needs no torch or
compiler, the public API is curated, and the worker's command line fails clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import assay
import pytest
from assay import ECHO, MINILM_L6_V2, ConfigError, errors, load_artifact
from assay._artifacts import CONTRACTS
from eth_abi.abi import encode
from eth_utils.crypto import keccak

ROOT = Path(__file__).resolve().parent.parent


def run_python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False
    )


def test_shipped_artifacts_match_the_contract_sources() -> None:
    check = run_python("scripts/export_artifacts.py", "--check")
    assert check.returncode == 0, check.stderr + check.stdout
    assert {item["name"] for item in load_artifact("AssayMarket").abi if item["type"] == "function"} >= {
        "postJob",
        "accept",
        "submitResult",
        "commit",
        "reveal",
        "challenge",
        "settle",
        "withdraw",
    }


def test_sdk_imports_without_torch_or_a_compiler() -> None:
    probe = "import sys, assay; bad = {'torch', 'sentence_transformers', 'solcx'} & set(sys.modules); print(bad)"
    result = run_python("-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "set()"


def test_public_api_is_exactly_all() -> None:
    public = {name for name in dir(assay) if not name.startswith("_")} - {"devnet"}
    assert public == set(assay.__all__)


def test_every_contract_error_has_a_python_exception() -> None:
    abi_errors = {
        item["name"] for contract in CONTRACTS for item in load_artifact(contract).abi if item["type"] == "error"
    }
    named = {name for name in errors.__all__ if issubclass(getattr(errors, name), errors.ContractRevert)}
    assert abi_errors == named - {"ContractRevert"}


def test_model_ids_are_stable_hashes_of_the_manifests() -> None:
    assert ECHO.model_id != MINILM_L6_V2.model_id
    # the canonical form is part of the protocol: other clients must derive the same id
    canonical = b'{"name":"assay/echo-v1","runtime":"echo","verification":"exact","weights_digest":"none"}'
    assert ECHO.canonical_json() == canonical
    assert ECHO.manifest_hash == keccak(canonical)
    # modelId = keccak256(abi.encode(manifestHash, mode, auditBps, minCollateral)), as ModelRegistry.idOf
    on_chain = keccak(encode(["(bytes32,uint8,uint16,uint128)"], [(keccak(canonical), 0, 0, 10**15)]))
    assert ECHO.model_id == on_chain


def test_worker_refuses_to_start_without_a_key() -> None:
    env = {key: value for key, value in os.environ.items() if key != "ASSAY_WORKER_KEY"}
    result = run_python("-m", "assay_worker", env=env)
    assert result.returncode == 2
    assert "no worker key" in result.stderr and "ASSAY_WORKER_KEY" in result.stderr


def test_worker_rejects_unknown_model() -> None:
    env = os.environ | {"ASSAY_WORKER_KEY": "0x" + "11" * 32}
    result = run_python("-m", "assay_worker", "--model", "gpt-17", env=env)
    assert result.returncode == 2
    assert "invalid choice: 'gpt-17'" in result.stderr


def test_development_keys_exist_only_for_the_local_chain() -> None:
    from assay.devnet import ANVIL_KEYS, dev_key

    assert dev_key(1, 31337) == ANVIL_KEYS[1]
    with pytest.raises(ConfigError, match="local chain 31337 only, not chain 1"):
        dev_key(1, 1)
    with pytest.raises(ConfigError, match="not 10"):
        dev_key(10, 31337)
