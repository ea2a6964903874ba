"""A model declared as data, so a config file can name models beyond the built-in ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assay import ModelManifest
from assay._models import VerificationMode

from ._base import RuntimeLoadError


@dataclass(frozen=True)
class RuntimeSpec:
    """A model for a runtime `kind` (`hf-textgen`, `onnx-embedding`, `openai-http` or a
    registered plugin's): where its weights or server are, and the manifest fields. The
    manifest's `runtime` is the kind, so the same weights served by two runtimes are two models
    (their results differ in the last bits, so verifiers must not mix them).

    >>> spec = RuntimeSpec("hf-textgen", "acme/tiny-gpt2", "sha256:...", "llm-greedy", path=Path("/models/tiny"))
    >>> spec.manifest.runtime
    'hf-textgen'
    """

    kind: str
    name: str
    weights_digest: str
    verification: VerificationMode
    path: Path | None = None
    base_url: str | None = None
    audit_bps: int = 0
    min_collateral: int = 10**15
    memory_mb: int | None = None
    """(GPU) memory in MiB the model needs, until it is measured at its first load; part of
    the manifest (see `ModelManifest.memory_mb`)."""
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def manifest(self) -> ModelManifest:
        return ModelManifest(
            name=self.name,
            runtime=self.kind,
            weights_digest=self.weights_digest,
            verification=self.verification,
            audit_bps=self.audit_bps,
            min_collateral=self.min_collateral,
            memory_mb=self.memory_mb,
        )

    def as_config(self) -> dict[str, Any]:
        """This model as one entry of a worker config's `models` (a TOML table, or JSON in
        `ASSAY_WORKER_MODELS`): the fields that are set, paths as text."""
        entry = {key: value for key, value in asdict(self).items() if value is not None}
        if self.path is not None:
            entry["path"] = str(self.path)
        entry["options"] = dict(self.options)
        return entry

    def require_path(self) -> Path:
        if self.path is None:
            raise RuntimeLoadError(f"{self.name}: a {self.kind} model needs a 'path'")
        return Path(self.path)

    def settings(self, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """`options` over `defaults`; unknown keys and values of the wrong type are refused, so a
        typo in a config file fails at start rather than silently using a default."""
        unknown = sorted(set(self.options) - set(defaults))
        if unknown:
            raise RuntimeLoadError(f"{self.name}: unknown {self.kind} option(s) {unknown}; known: {sorted(defaults)}")
        merged = dict(defaults)
        for key, value in self.options.items():
            if not _fits(value, defaults[key]):
                kind = type(defaults[key]).__name__
                raise RuntimeLoadError(f"{self.name}: option {key!r} must be a {kind}, got {value!r}")
            merged[key] = float(value) if isinstance(defaults[key], float) else value
        return merged


def _fits(value: object, default: object) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))
