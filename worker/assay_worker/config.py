"""Worker configuration: a TOML file, overridden by $ASSAY_WORKER_* variables, overridden by
command-line flags; validated with messages that name the setting.

    rpc_url = "https://rpc.example"
    ws_url = "wss://rpc.example/ws"   # optional: new blocks pushed instead of polled
    deployments = "deployments"
    models = ["sentence-transformers/all-MiniLM-L6-v2"]
    keystore = "worker-key.json"      # password: $ASSAY_WORKER_PASSWORD or password_file
    stake = "0.5"                     # ETH of free stake to keep
    [api]
    port = 8600
    public_url = "https://my-rig.example:8600"
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Any

from assay import ConfigError, TxPolicy
from assay._keys import check_private_file, decrypt_keystore
from assay._models import VerificationMode
from assay.batch import MAX_BATCH_ITEMS
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from .runtimes import BUILTIN_RUNTIMES, KINDS, RuntimeSpec

KEY_ENV = "ASSAY_WORKER_KEY"
PASSWORD_ENV = "ASSAY_WORKER_PASSWORD"

_file_values: ContextVar[dict[str, Any] | None] = ContextVar("worker_config_file", default=None)


class ApiConfig(BaseModel):
    """Where the worker's HTTP API (health, results) listens and how requesters reach it."""

    model_config = {"extra": "forbid"}
    host: str = "127.0.0.1"
    port: int = Field(8600, ge=0, le=65535)
    public_url: str | None = None


class FeeConfig(BaseModel):
    """How the worker prices its transactions (EIP-1559):

    [fees]
    max_fee_gwei = "50"      # never pay more per gas; above it, steps wait
    priority_fee_gwei = "1"  # default: the node's suggestion
    replace_after = 30       # seconds before a stuck transaction is re-sent with higher fees
    """

    model_config = {"extra": "forbid"}
    max_fee_gwei: Decimal | None = Field(None, gt=0)
    priority_fee_gwei: Decimal | None = Field(None, ge=0)
    replace_after: float = Field(30.0, gt=0, le=3600)

    def policy(self) -> TxPolicy:
        def wei(gwei: Decimal | None) -> int | None:
            return None if gwei is None else int(gwei * 10**9)

        return TxPolicy(
            max_fee_per_gas=wei(self.max_fee_gwei),
            priority_fee=wei(self.priority_fee_gwei),
            replace_after=self.replace_after,
        )


class DeclaredModel(BaseModel):
    """A model beyond the built-in ones, served by a runtime kind (see docs/runtimes.md), as an
    inline table (one line, as TOML wants) among the names in `models`:

        models = [
          "assay/echo-v1",
          { kind = "hf-textgen", name = "a/tiny", path = "/m", weights_digest = "sha256:...", verification = "exact" },
        ]

    or, when every model is declared, as `[[models]]` tables. The worker registers a declared
    model on chain (anyone may) before joining its draws."""

    model_config = {"extra": "forbid"}
    kind: str
    name: str
    weights_digest: str
    verification: VerificationMode
    path: Path | None = None
    base_url: str | None = None
    audit_bps: int = Field(0, ge=0, le=10_000)
    min_collateral: int = Field(10**15, ge=0)
    memory_mb: int | None = Field(
        None, gt=0, description="(GPU) MiB it needs: part of its manifest and id, used before it is measured"
    )
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("memory_mb", mode="before")
    @classmethod
    def _whole_mib(cls, memory_mb: object) -> object:
        if isinstance(memory_mb, bool):  # pydantic would read true as 1 MiB
            raise ValueError("memory_mb must be a whole number of MiB")
        return memory_mb

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown runtime kind {kind!r}; choose from {sorted(KINDS)}")
        return kind

    def spec(self) -> RuntimeSpec:
        return RuntimeSpec(**self.model_dump())


class WorkerConfig(BaseSettings):
    """Every setting of a worker; see the module docstring for the file format."""

    model_config = SettingsConfigDict(env_prefix="ASSAY_WORKER_", env_nested_delimiter="__", extra="forbid")

    rpc_url: str = "http://127.0.0.1:8545"
    ws_url: str | None = Field(None, pattern=r"^wss?://", description="websocket endpoint: new blocks pushed")
    deployments: str | None = None
    models: list[str | DeclaredModel] = ["assay/echo-v1"]
    keystore: Path | None = None
    password_file: Path | None = None
    results_dir: Path = Path(".assay/results")
    journal: Path = Path(".assay/journal.sqlite")
    stake: Decimal = Field(Decimal("0.1"), ge=0, description="ETH of free stake to keep")
    poll_interval: float = Field(0.5, gt=0, le=60)
    confirmations: int = Field(0, ge=0, le=64, description="blocks a job's log must be buried under")
    open_claiming: bool = Field(True, description="also take slots left open after the draw rounds")
    batch_size: int = Field(
        16, ge=1, le=256, description="most model inputs (jobs, or a batch job's inputs) in one model call"
    )
    batch_wait: float = Field(0.0, ge=0, le=60, description="seconds a job may wait for a fuller batch")
    result_retention_days: float = Field(
        30.0, ge=1, description="days results are kept and served; results of unfinished jobs are always kept"
    )
    model_timeout: float = Field(
        600.0, gt=0, description="seconds one model call may run before the worker lets its jobs go and reports wedged"
    )
    memory_budget_mb: float | None = Field(
        None, gt=0, description="(GPU) memory models may hold at once; least recently used ones are unloaded"
    )
    min_reward: Decimal = Field(
        Decimal(0), ge=0, description="ETH a slot of an ETH job (or each input of a batch job) must pay to be taken"
    )
    max_batch_items: int = Field(256, ge=1, le=MAX_BATCH_ITEMS, description="most inputs of a batch job to take")
    max_active_jobs: int | None = Field(None, ge=1, description="most slots held at once (each locks collateral)")
    deadline_margin: float = Field(10.0, ge=0, le=86_400, description="seconds before a result deadline to stop taking")
    allow_private_uris: bool | None = None
    storage: str | None = Field(None, description="publish results to: ipfs+http://host:5001 or an Assay gateway URL")
    fees: FeeConfig = Field(default_factory=lambda: FeeConfig())
    api: ApiConfig = Field(default_factory=ApiConfig)

    @field_validator("models")
    @classmethod
    def _known_models(cls, models: list[str | DeclaredModel]) -> list[str | DeclaredModel]:
        unknown = [name for name in models if isinstance(name, str) and name not in BUILTIN_RUNTIMES]
        if unknown or not models:
            raise ValueError(f"unknown model(s) {unknown}; choose from {sorted(BUILTIN_RUNTIMES)} or declare one")
        return models

    def runtime_models(self) -> list[str | RuntimeSpec]:
        """`models` as `create_runtime` takes them."""
        return [model if isinstance(model, str) else model.spec() for model in self.models]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # flags beat the environment, which beats the file
        return init_settings, env_settings, InitSettingsSource(settings_cls, init_kwargs=_file_values.get() or {})

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, **overrides: Any) -> WorkerConfig:
        """Read `path` (TOML), apply the environment and `overrides`; `ConfigError` on any problem."""
        values: dict[str, Any] = {}
        if path is not None:
            try:
                with open(path, "rb") as handle:
                    values = tomllib.load(handle)
            except OSError as exc:
                raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"config {path} is not valid TOML: {exc}") from exc
        token = _file_values.set(values)
        try:
            return cls(**{key: value for key, value in overrides.items() if value is not None})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, error['loc'])) or 'config'}: {error['msg']}" for error in exc.errors()
            )
            raise ConfigError(f"invalid worker config{f' in {path}' if path else ''}: {problems}") from None
        finally:
            _file_values.reset(token)

    def account(self) -> LocalAccount:
        """The worker's key: the keystore (password from $ASSAY_WORKER_PASSWORD or password_file),
        else $ASSAY_WORKER_KEY."""
        if self.keystore is not None:
            password = os.environ.get(PASSWORD_ENV)
            if password is None and self.password_file is not None:
                check_private_file(self.password_file)
                password = self.password_file.read_text().rstrip("\n")
            if password is None:
                raise ConfigError(f"keystore {self.keystore} needs ${PASSWORD_ENV} or password_file")
            return decrypt_keystore(self.keystore, password)
        key = os.environ.get(KEY_ENV)
        if key:
            account: LocalAccount = Account.from_key(key)
            return account
        raise ConfigError(f"no worker key: set keystore in the config (recommended) or ${KEY_ENV}")
