"""Model runtimes behind one small interface (`Runtime`): `load()` once, which checks the
weights against the manifest's digest, then `check_input(data)` before claiming a job and
`run(inputs)` in batches.

Built-in models are created by name, declared models from a `RuntimeSpec`:

>>> create_runtime("assay/echo-v1").run([b"hi"])
[b'{"length":2,"model":"assay/echo-v1","sha256":"8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4","text":"hi"}']

A plugin is a class taking a `RuntimeSpec` that implements `Runtime`; `register_runtime(kind,
cls)` makes specs of that kind create it. Heavy imports (torch, transformers, onnxruntime)
happen inside `load()`, so the worker starts and the SDK imports without them."""

from __future__ import annotations

from collections.abc import Callable

from assay import ECHO, MINILM_L6_V2, SENTIMENT_MINILM

from ._base import (
    BackendError,
    BackendProtocolError,
    BackendStatusError,
    BackendTimeout,
    ModelRuntimeError,
    Runtime,
    RuntimeLoadError,
    check_weights,
    module_bytes,
    sha256_file,
    weights_digest,
)
from .echo import EchoRuntime
from .hf_textgen import HFTextGenRuntime
from .onnx_embedding import MINILM_L6_V2_ONNX, OnnxEmbeddingRuntime
from .openai_http import OpenAIHTTPRuntime
from .sentence import SentenceEmbeddingRuntime, SentimentRuntime
from .spec import RuntimeSpec

__all__ = [
    "BUILTIN_RUNTIMES",
    "KINDS",
    "MINILM_L6_V2_ONNX",
    "BackendError",
    "BackendProtocolError",
    "BackendStatusError",
    "BackendTimeout",
    "EchoRuntime",
    "HFTextGenRuntime",
    "ModelRuntimeError",
    "OnnxEmbeddingRuntime",
    "OpenAIHTTPRuntime",
    "Runtime",
    "RuntimeLoadError",
    "RuntimeSpec",
    "SentenceEmbeddingRuntime",
    "SentimentRuntime",
    "check_weights",
    "create_runtime",
    "module_bytes",
    "register_runtime",
    "sha256_file",
    "weights_digest",
]

BUILTIN_RUNTIMES: dict[str, Callable[[], Runtime]] = {
    ECHO.name: EchoRuntime,
    MINILM_L6_V2.name: SentenceEmbeddingRuntime,
    SENTIMENT_MINILM.name: SentimentRuntime,
    MINILM_L6_V2_ONNX.name: OnnxEmbeddingRuntime.minilm,
}
"""Models served by name, with no configuration."""

KINDS: dict[str, Callable[[RuntimeSpec], Runtime]] = {
    "hf-textgen": HFTextGenRuntime,
    "onnx-embedding": OnnxEmbeddingRuntime,
    "openai-http": OpenAIHTTPRuntime,
}
"""Runtime kinds a `RuntimeSpec` can name."""


RUNTIME_METHODS = ("load", "check_input", "run", "unload", "memory_bytes")


def register_runtime(kind: str, factory: Callable[[RuntimeSpec], Runtime]) -> None:
    """Make `RuntimeSpec(kind=kind, ...)` create `factory(spec)`: the plugin hook."""
    if kind in KINDS:
        raise ValueError(f"runtime kind {kind!r} is already registered")
    missing = [
        name for name in RUNTIME_METHODS if isinstance(factory, type) and not callable(getattr(factory, name, None))
    ]
    if missing:
        raise TypeError(f"runtime kind {kind!r}: {factory.__name__} lacks {', '.join(missing)} (see Runtime)")
    KINDS[kind] = factory


def create_runtime(model: str | RuntimeSpec) -> Runtime:
    """A fresh, unloaded runtime for a built-in model name or a declared model."""
    if isinstance(model, RuntimeSpec):
        try:
            factory = KINDS[model.kind]
        except KeyError:
            raise RuntimeLoadError(
                f"{model.name}: unknown runtime kind {model.kind!r}; known: {', '.join(sorted(KINDS))}"
            ) from None
        return factory(model)
    try:
        return BUILTIN_RUNTIMES[model]()
    except KeyError:
        raise RuntimeLoadError(
            f"unknown model {model!r}; this worker serves {', '.join(sorted(BUILTIN_RUNTIMES))}"
        ) from None
