"""Worker configuration: a TOML file, overridden by $ASSAY_WORKER_* variables, overridden by
command-line flags; validated with messages that name the setting.

    rpc_url = "https://rpc.example"
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

from assay import BUILTIN_MODELS, ConfigError
from assay._keys import check_private_file, decrypt_keystore
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

KEY_ENV = "ASSAY_WORKER_KEY"
PASSWORD_ENV = "ASSAY_WORKER_PASSWORD"

_file_values: ContextVar[dict[str, Any] | None] = ContextVar("worker_config_file", default=None)


class ApiConfig(BaseModel):
    """Where the worker's HTTP API (health, results) listens and how requesters reach it."""

    model_config = {"extra": "forbid"}
    host: str = "127.0.0.1"
    port: int = Field(8600, ge=0, le=65535)
    public_url: str | None = None


class WorkerConfig(BaseSettings):
    """Every setting of a worker; see the module docstring for the file format."""

    model_config = SettingsConfigDict(env_prefix="ASSAY_WORKER_", env_nested_delimiter="__", extra="forbid")

    rpc_url: str = "http://127.0.0.1:8545"
    deployments: str | None = None
    models: list[str] = ["assay/echo-v1"]
    keystore: Path | None = None
    password_file: Path | None = None
    results_dir: Path = Path(".assay/results")
    journal: Path = Path(".assay/journal.sqlite")
    stake: Decimal = Field(Decimal("0.1"), ge=0, description="ETH of free stake to keep")
    poll_interval: float = Field(0.5, gt=0, le=60)
    confirmations: int = Field(0, ge=0, le=64, description="blocks a job's log must be buried under")
    open_claiming: bool = Field(True, description="also take slots left open after the draw rounds")
    allow_private_uris: bool | None = None
    api: ApiConfig = Field(default_factory=ApiConfig)

    @field_validator("models")
    @classmethod
    def _known_models(cls, models: list[str]) -> list[str]:
        unknown = [name for name in models if name not in BUILTIN_MODELS]
        if unknown or not models:
            raise ValueError(f"unknown model(s) {unknown}; choose from {sorted(BUILTIN_MODELS)}")
        return models

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
