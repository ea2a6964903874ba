"""Worker configuration: file < environment < flags, validation messages, key handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from assay import ECHO, MINILM_L6_V2, ConfigError
from assay.devnet import ANVIL_KEYS
from assay_worker.config import DeclaredModel, WorkerConfig
from assay_worker.runtimes import RuntimeSpec
from eth_account import Account


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file = write(
        tmp_path / "worker.toml",
        f'rpc_url = "http://file:1"\nmodels = ["{MINILM_L6_V2.name}"]\nstake = "2.5"\n[api]\nport = 9000\n',
    )
    monkeypatch.setenv("ASSAY_WORKER_RPC_URL", "http://env:2")
    monkeypatch.setenv("ASSAY_WORKER_API__HOST", "0.0.0.0")
    config = WorkerConfig.load(config_file, poll_interval=2.0)
    assert config.rpc_url == "http://env:2"
    assert config.models == [MINILM_L6_V2.name]
    assert str(config.stake) == "2.5" and config.poll_interval == 2.0
    assert (config.api.host, config.api.port) == ("0.0.0.0", 9000)
    assert WorkerConfig.load(config_file, rpc_url="http://flag:3").rpc_url == "http://flag:3"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('models = ["gpt-17"]', "models: Value error, unknown model"),
        ("[api]\nportt = 1", "api.portt: Extra inputs are not permitted"),
        ("poll_interval = -1", "poll_interval: Input should be greater than 0"),
        ("stake = 'lots'", "stake: Input should be a valid decimal"),
        ("rpc_url = ", "is not valid TOML"),
    ],
)
def test_invalid_config_names_the_setting(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"invalid worker config|not valid TOML") as caught:
        WorkerConfig.load(write(tmp_path / "worker.toml", text))
    assert message in str(caught.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        WorkerConfig.load(tmp_path / "absent.toml")


def test_keystore_with_password_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSAY_WORKER_PASSWORD", raising=False)
    keystore = write(tmp_path / "key.json", json.dumps(Account.encrypt(ANVIL_KEYS[2], "s3cret")))
    password = write(tmp_path / "password", "s3cret\n")
    config = WorkerConfig.load(
        write(tmp_path / "worker.toml", f'keystore = "{keystore}"\npassword_file = "{password}"')
    )
    assert config.account().address == Account.from_key(ANVIL_KEYS[2]).address
    password.write_text("wrong\n")
    with pytest.raises(ConfigError, match="wrong password"):
        config.account()


def test_key_files_readable_by_others_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_WORKER_PASSWORD", "s3cret")
    keystore = write(tmp_path / "key.json", json.dumps(Account.encrypt(ANVIL_KEYS[2], "s3cret")), mode=0o644)
    config = WorkerConfig.load(keystore=keystore)
    with pytest.raises(ConfigError, match=r"accessible to other users .*chmod 600"):
        config.account()


def test_worker_command_reports_bad_config_and_exits_2(tmp_path: Path) -> None:
    bad = write(tmp_path / "worker.toml", f'models = ["{ECHO.name}", "nope"]')
    result = subprocess.run(
        [sys.executable, "-m", "assay_worker", "--config", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "invalid worker config" in result.stderr and "nope" in result.stderr and "Traceback" not in result.stderr


def test_declared_models_fees_and_storage(tmp_path: Path) -> None:
    declared = (
        f'kind = "hf-textgen", name = "acme/tiny-gpt2", path = "{tmp_path}", weights_digest = "sha256:00", '
        'verification = "llm-greedy", options = { max_new_tokens = 4 }'
    )
    config = WorkerConfig.load(
        write(
            tmp_path / "worker.toml",
            f"""models = [
  "{ECHO.name}",
  "assay/all-MiniLM-L6-v2-onnx",
  {{ {declared} }},
]
storage = "ipfs+http://127.0.0.1:5001"
batch_size = 8
batch_wait = 0.25
[fees]
max_fee_gwei = "50"
priority_fee_gwei = "1.5"
replace_after = 12
""",
        )
    )
    echo, onnx, declared = config.runtime_models()
    assert (echo, onnx) == (ECHO.name, "assay/all-MiniLM-L6-v2-onnx")
    assert not isinstance(declared, str)
    assert (declared.kind, declared.name, declared.path, dict(declared.options)) == (
        "hf-textgen",
        "acme/tiny-gpt2",
        tmp_path,
        {"max_new_tokens": 4},
    )
    assert declared.manifest.runtime == "hf-textgen" and declared.manifest.verification == "llm-greedy"
    policy = config.fees.policy()
    assert (policy.max_fee_per_gas, policy.priority_fee, policy.replace_after) == (50 * 10**9, 15 * 10**8, 12)
    assert (config.storage, config.batch_size, config.batch_wait) == ("ipfs+http://127.0.0.1:5001", 8, 0.25)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[models]]\nkind = "tensorflow"\nname = "x"\nweights_digest = "sha256:0"\nverification = "exact"',
            "unknown runtime kind 'tensorflow'",
        ),
        (
            '[[models]]\nkind = "hf-textgen"\nname = "x"\nweights_digest = "sha256:0"\nverification = "fuzzy"',
            "models.0.DeclaredModel.verification",
        ),
        ('[fees]\nmax_fee_gwei = "-1"', "fees.max_fee_gwei: Input should be greater than 0"),
        ("batch_size = 0", "batch_size: Input should be greater than or equal to 1"),
        (
            '[[models]]\nkind = "hf-textgen"\nname = "x"\nweights_digest = "sha256:0"\nverification = "exact"\n'
            "memory_mb = true",
            "memory_mb must be a whole number of MiB",
        ),
    ],
)
def test_invalid_declared_model_or_fees(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="invalid worker config") as caught:
        WorkerConfig.load(write(tmp_path / "worker.toml", text))
    assert message in str(caught.value)


def test_a_runtime_spec_round_trips_through_a_config_entry() -> None:
    spec = RuntimeSpec(
        "hf-textgen",
        "acme/tiny",
        "sha256:" + "ab" * 32,
        "llm-greedy",
        path=Path("/models/tiny"),
        memory_mb=512,
        options={"dtype": "float32"},
    )
    entry = json.loads(json.dumps(spec.as_config()))  # as ASSAY_WORKER_MODELS carries it
    assert entry["path"] == "/models/tiny" and "base_url" not in entry
    assert DeclaredModel(**entry).spec() == spec
    served = RuntimeSpec("openai-http", "acme/served", "none", "exact", base_url="http://127.0.0.1:9/v1")
    assert DeclaredModel(**served.as_config()).spec() == served
