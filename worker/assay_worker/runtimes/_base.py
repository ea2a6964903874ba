"""What every runtime shares: the `Runtime` protocol, the errors, canonical result bytes and
the weights digest that binds a manifest to the files a runtime loads.

ModelRuntimeError
├── RuntimeLoadError      the model cannot be loaded, or its weights differ from the manifest
└── BackendError          a remote model server failed a request
    ├── BackendStatusError    it answered with an HTTP error status
    ├── BackendTimeout        it did not answer in time
    └── BackendProtocolError  its answer is not what the API promises
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Protocol

from assay import ModelManifest


class ModelRuntimeError(RuntimeError):
    """Root of the errors runtimes raise."""


class RuntimeLoadError(ModelRuntimeError):
    """Raised when a model cannot be loaded or its weights do not match the manifest."""


class BackendError(ModelRuntimeError):
    """Raised when a remote model server fails a request."""


class BackendStatusError(BackendError):
    """Raised when a model server answers with an HTTP error status."""

    def __init__(self, url: str, status: int, body: str, retry_after: float | None = None) -> None:
        super().__init__(f"{url} answered HTTP {status}: {body[:300]}")
        self.url = url
        self.status = status
        self.body = body
        self.retry_after = retry_after
        """Seconds the server asked us to wait (its `Retry-After` header), if it said."""


class BackendTimeout(BackendError):
    """Raised when a model server does not answer in time, after every retry."""


class BackendProtocolError(BackendError):
    """Raised when a model server's answer does not have the shape its API promises."""


class Runtime(Protocol):
    manifest: ModelManifest

    def load(self) -> None: ...

    def check_input(self, data: bytes) -> str | None:
        """Why this runtime cannot serve `data`, or None: checked before claiming a job. It may
        be called while `run` works on another thread (the worker checks the next batch while
        the model runs this one): guard whatever the two share."""

    def run(self, inputs: list[bytes]) -> list[bytes]: ...

    def unload(self) -> None:
        """Drop the model (to make room for another); `load` brings it back."""

    def memory_bytes(self) -> int:
        """Memory the loaded model holds on its device (0 for a model served elsewhere)."""


def module_bytes(module: Any) -> int:
    """Bytes of a torch module's parameters and buffers, on whatever device they are."""
    tensors = [*module.parameters(), *module.buffers()]
    return sum(int(t.numel()) * int(t.element_size()) for t in tensors)


def canonical(record: dict[str, Any]) -> bytes:
    # sorted keys, no whitespace: equal results give equal bytes and so equal hashes
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


def embedding_results(manifest: ModelManifest, vectors: Any) -> list[bytes]:
    """Each row of `vectors` (a 2-D numpy array) as an embedding result. `tolist()` gives the
    same Python floats as converting each element, at a quarter of the cost: a 384-float
    result is most of the worker's own CPU time per input."""
    return [
        canonical({"model": manifest.name, "dimension": len(vector), "embedding": vector})
        for vector in vectors.tolist()
    ]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def weights_digest(path: Path) -> str:
    """The digest a manifest names for the weights at `path`: a file's sha256; for a directory,
    the sha256 of its `model.safetensors`, or, for sharded weights, the sha256 of the lines
    `<shard name> <shard sha256>` over the sorted `*.safetensors` shards (so adding, dropping or
    renaming a shard changes it too)."""
    if path.is_file():
        return sha256_file(path)
    single = path / "model.safetensors"
    if single.is_file():
        return sha256_file(single)
    shards = sorted(path.glob("*.safetensors"))
    if not shards:
        raise RuntimeLoadError(f"no weights at {path}: expected a file or a directory of *.safetensors")
    listing = "".join(f"{shard.name} {sha256_file(shard).removeprefix('sha256:')}\n" for shard in shards)
    return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()


def check_weights(manifest: ModelManifest, path: Path) -> None:
    """Refuse to serve weights whose digest differs from the one the manifest commits to."""
    if not path.exists():
        raise RuntimeLoadError(f"{manifest.name}: no weights at {path}")
    actual = weights_digest(path)
    if actual != manifest.weights_digest:
        raise RuntimeLoadError(
            f"weights at {path} hash to {actual}, but the manifest of {manifest.name} "
            f"names {manifest.weights_digest}; refusing to serve a different model"
        )


def not_loaded(manifest: ModelManifest) -> RuntimeLoadError:
    return RuntimeLoadError(f"{manifest.name} is not loaded")


def decode_text(data: bytes) -> tuple[str | None, str | None]:
    """`(text, None)` for non-blank UTF-8 input, else `(None, why not)`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"input is not UTF-8 text ({exc.reason} at byte {exc.start})"
    return (text, None) if text.strip() else (None, "input is blank")
