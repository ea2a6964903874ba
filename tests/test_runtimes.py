"""Runtimes: built-in names still work, declared models bind their weights digest, and the
text-generation, ONNX and OpenAI-HTTP runtimes give reproducible results on real (tiny or
packaged) models and a real HTTP server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from assay import ECHO, MINILM_L6_V2, SENTIMENT_MINILM
from assay.devnet import free_port
from assay_worker import runtimes
from assay_worker.runtimes import (
    MINILM_L6_V2_ONNX,
    BackendStatusError,
    BackendTimeout,
    EchoRuntime,
    HFTextGenRuntime,
    OnnxEmbeddingRuntime,
    OpenAIHTTPRuntime,
    RuntimeLoadError,
    RuntimeSpec,
    SentenceEmbeddingRuntime,
    SentimentRuntime,
    create_runtime,
    register_runtime,
    sha256_file,
    weights_digest,
)
from assay_worker.runtimes import onnx_embedding as onnx_module
from assay_worker.runtimes.openai_http import _seconds

from .openai_server import OpenAIServer
from .tiny_models import build_tiny_gpt2, tiny_gpt2_spec

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Verifiable inference needs deterministic runtimes.",
    "hi",
    "Accents (é, ü) and emoji 🚀 tokenise too, and this longer sentence pads the shorter ones in its batch.",
]


def request(prompt: str, **fields: Any) -> bytes:
    return json.dumps({"prompt": prompt, **fields}).encode()


def result(data: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(data)
    return decoded


# --- registry and specs ---------------------------------------------------------------------


def test_builtin_names_create_the_runtimes_they_always_did() -> None:
    assert isinstance(create_runtime(ECHO.name), EchoRuntime)
    assert isinstance(create_runtime(MINILM_L6_V2.name), SentenceEmbeddingRuntime)
    assert isinstance(create_runtime(SENTIMENT_MINILM.name), SentimentRuntime)
    assert isinstance(create_runtime(MINILM_L6_V2_ONNX.name), OnnxEmbeddingRuntime)
    assert create_runtime(MINILM_L6_V2.name).manifest.model_id == MINILM_L6_V2.model_id
    with pytest.raises(RuntimeLoadError, match="unknown model 'nope'"):
        create_runtime("nope")


def test_echo_result_bytes_are_unchanged() -> None:
    (output,) = create_runtime(ECHO.name).run(["héllo".encode()])
    assert output == (
        b'{"length":6,"model":"assay/echo-v1",'
        b'"sha256":"3c48591d8d098a4538f5e013dfcf406e948eac4d3277b10bf614e295d6068179","text":"h\\u00e9llo"}'
    )


def test_a_spec_is_a_model_of_its_own_runtime_kind(tmp_path: Path) -> None:
    spec = RuntimeSpec("hf-textgen", "test/m", "sha256:00", "llm-greedy", path=tmp_path, options={"dtype": "float32"})
    assert spec.manifest.runtime == "hf-textgen"
    assert spec.manifest.model_id != replace(spec, kind="openai-http").manifest.model_id
    assert isinstance(create_runtime(spec), HFTextGenRuntime)
    # same weights, other runtime: another model, because the result bytes differ
    assert MINILM_L6_V2_ONNX.weights_digest == MINILM_L6_V2.weights_digest
    assert MINILM_L6_V2_ONNX.model_id != MINILM_L6_V2.model_id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "tensorflow"}, "unknown runtime kind 'tensorflow'"),
        ({"options": {"dtpye": "float16"}}, r"unknown hf-textgen option\(s\) \['dtpye'\]"),
        ({"options": {"default_max_new_tokens": "32"}}, "option 'default_max_new_tokens' must be a int"),
        ({"options": {"default_max_new_tokens": True}}, "option 'default_max_new_tokens' must be a int"),
        ({"path": None}, "needs a 'path'"),
    ],
)
def test_a_bad_spec_is_refused_when_the_runtime_is_created(change: dict[str, Any], message: str) -> None:
    spec = replace(RuntimeSpec("hf-textgen", "test/m", "sha256:00", "llm-greedy", path=Path(".")), **change)
    with pytest.raises(RuntimeLoadError, match=message):
        create_runtime(spec)


def test_a_plugin_registers_a_runtime_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtimes, "KINDS", dict(runtimes.KINDS))

    class Upper:
        def __init__(self, spec: RuntimeSpec) -> None:
            self.manifest = spec.manifest

        def load(self) -> None:
            return None

        def check_input(self, data: bytes) -> str | None:
            return None

        def run(self, inputs: list[bytes]) -> list[bytes]:
            return [data.upper() for data in inputs]

    class Unloadable(Upper):
        def unload(self) -> None:
            return None

        def memory_bytes(self) -> int:
            return 0

    with pytest.raises(TypeError, match="Upper lacks unload, memory_bytes"):
        register_runtime("upper", Upper)
    register_runtime("upper", Unloadable)
    runtime = create_runtime(RuntimeSpec("upper", "test/upper", "none", "exact"))
    assert runtime.run([b"abc"]) == [b"ABC"]
    assert runtime.manifest.runtime == "upper"
    with pytest.raises(ValueError, match="already registered"):
        register_runtime("hf-textgen", Unloadable)


def test_weights_digest_covers_every_shard_and_its_name(tmp_path: Path) -> None:
    single = tmp_path / "single"
    single.mkdir()
    (single / "model.safetensors").write_bytes(b"weights")
    assert (
        weights_digest(single)
        == weights_digest(single / "model.safetensors")
        == sha256_file(single / "model.safetensors")
    )
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    (sharded / "model-00001-of-00002.safetensors").write_bytes(b"first")
    (sharded / "model-00002-of-00002.safetensors").write_bytes(b"second")
    before = weights_digest(sharded)
    (sharded / "model-00002-of-00002.safetensors").write_bytes(b"secone")
    changed = weights_digest(sharded)
    (sharded / "model-00002-of-00002.safetensors").rename(sharded / "model-00003-of-00002.safetensors")
    assert len({before, changed, weights_digest(sharded)}) == 3
    with pytest.raises(RuntimeLoadError, match="no weights"):
        weights_digest(tmp_path)  # shards live one level down, not here


def test_importing_the_runtimes_loads_no_model_framework() -> None:
    probe = (
        "import sys, assay_worker.runtimes; "
        "print(sorted({'torch', 'transformers', 'onnxruntime', 'sentence_transformers'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


# --- text generation (tiny GPT-2) -----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="module")
def textgen(tiny_gpt2: Path) -> HFTextGenRuntime:
    runtime = HFTextGenRuntime(tiny_gpt2_spec(tiny_gpt2))
    runtime.load()
    return runtime


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"plain prompt", None),
        (request("p", max_new_tokens=4, seed=1, temperature=0.5), None),
        (b"\xff\xfe", "not UTF-8"),
        (b"   ", "blank"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", None),  # not an object: plain text
        (b'{"prompt": 3}', "'prompt' must be a string"),
        (request("p", max_tokens=4), r"unknown key\(s\) \['max_tokens'\]"),
        (request("p", max_new_tokens=0), r"must be in \[1, 256\]"),
        (request("p", max_new_tokens=True), "'max_new_tokens' must be an integer"),
        (request("p", temperature=0.7), "needs a 'seed'"),
        (request("p", seed=1, temperature=0), "must be > 0"),
        (request("p", seed=-1), r"must be in \[0, 2\*\*63\)"),
        (request("x" * 100), "context is 128"),
    ],
)
def test_textgen_check_input(textgen: HFTextGenRuntime, data: bytes, problem: str | None) -> None:
    found = textgen.check_input(data)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert re.search(problem, found), found


def test_greedy_decoding_is_deterministic_and_matches_transformers_generate(tiny_gpt2: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    inputs = [b"Hello, world", request("Once upon a time", max_new_tokens=12)]
    first, second = HFTextGenRuntime(tiny_gpt2_spec(tiny_gpt2)), HFTextGenRuntime(tiny_gpt2_spec(tiny_gpt2))
    first.load()
    second.load()
    outputs = first.run(inputs)
    assert outputs == second.run(inputs)
    greedy = result(outputs[1])
    assert greedy["model"] == "test/tiny-gpt2"
    # an independent reference: transformers' own greedy search picks the same tokens
    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2)
    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2).eval()
    prompt = tokenizer("Once upon a time", return_tensors="pt")
    with torch.inference_mode():
        generated = model.generate(**prompt, max_new_tokens=12, do_sample=False, pad_token_id=1)
    expected = generated[0, prompt.input_ids.shape[1] :].tolist()
    if 0 in expected:  # generation stopped at the end-of-text token, which results leave out
        assert greedy["finish_reason"] == "stop"
        expected = expected[: expected.index(0)]
    else:
        assert greedy["finish_reason"] == "length"
    assert greedy["tokens"] == expected
    assert greedy["text"] == tokenizer.decode(expected, skip_special_tokens=True)


def test_seeded_sampling_is_reproducible_and_depends_on_the_seed(textgen: HFTextGenRuntime) -> None:
    seven = request("Once upon a time", max_new_tokens=16, seed=7, temperature=1.5)
    eight = request("Once upon a time", max_new_tokens=16, seed=8, temperature=1.5)
    greedy = request("Once upon a time", max_new_tokens=16)
    alone = textgen.run([seven])[0]
    assert textgen.run([seven])[0] == alone
    assert textgen.run([eight, seven])[1] == alone  # a batch neighbour draws from its own generator
    assert result(textgen.run([eight])[0])["tokens"] != result(alone)["tokens"]
    assert result(textgen.run([greedy])[0])["tokens"] != result(alone)["tokens"]


def test_a_batch_gives_what_each_input_gives_alone(textgen: HFTextGenRuntime) -> None:
    inputs = [
        b"a",
        "A longer prompt, with é and 🚀, so the others are left-padded".encode(),
        request("Mixed", max_new_tokens=3),
        request("sampled in a batch", max_new_tokens=9, seed=123, temperature=0.8),
        b"Hello, world",
    ]
    batched = textgen.run(inputs)
    assert batched == [textgen.run([data])[0] for data in inputs]
    assert [len(result(output)["tokens"]) for output in batched] == [32, 32, 3, 9, 32]
    assert textgen.run([]) == []


def test_tampered_weights_are_refused(tiny_gpt2: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_gpt2, tmp_path / "copy"))
    spec = tiny_gpt2_spec(copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01  # one bit of one weight
    weights.write_bytes(bytes(data))
    with pytest.raises(RuntimeLoadError) as refused:
        HFTextGenRuntime(spec).load()
    assert spec.weights_digest in str(refused.value)
    assert weights_digest(copy) in str(refused.value)
    assert "refusing to serve" in str(refused.value)


# --- ONNX Runtime (all-MiniLM-L6-v2) --------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


def minilm_onnx(cache: Path, **changes: Any) -> OnnxEmbeddingRuntime:
    spec = RuntimeSpec(
        "onnx-embedding",
        MINILM_L6_V2_ONNX.name,
        MINILM_L6_V2_ONNX.weights_digest,
        "embedding",
        path=onnx_module.minilm_path(),
        options={"cache_dir": str(cache)},
    )
    return OnnxEmbeddingRuntime(replace(spec, **changes))


def test_onnx_embeddings_match_sentence_transformers(onnx_cache: Path) -> None:
    onnx = minilm_onnx(onnx_cache)
    onnx.load()
    torch_runtime = SentenceEmbeddingRuntime()
    torch_runtime.load()
    assert onnx.manifest.model_id == MINILM_L6_V2_ONNX.model_id
    inputs = [sentence.encode() for sentence in SENTENCES]
    ours = np.array([result(output)["embedding"] for output in onnx.run(inputs)])
    theirs = np.array([result(output)["embedding"] for output in torch_runtime.run(inputs)])
    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = (ours * theirs).sum(axis=1)
    assert (cosine >= 0.999).all(), cosine
    # different sentences stay apart: the check above is not met by any unit vector
    assert (ours[0] @ theirs[1]) < 0.9
    assert onnx.run(inputs[2:3]) == onnx.run(inputs)[2:3]  # padding does not leak into a row


def test_onnx_export_is_cached_and_the_source_digest_checked(onnx_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    minilm_onnx(onnx_cache).load()  # exported by now (by this call or the test above)
    assert len(list(onnx_cache.glob("*.onnx"))) == 1

    def no_export(*args: object) -> None:
        raise AssertionError("exported again although the cache holds the model")

    monkeypatch.setattr(onnx_module, "export_encoder", no_export)
    cached = minilm_onnx(onnx_cache)
    cached.load()
    assert result(cached.run([b"hi"])[0])["dimension"] == 384
    wrong = "sha256:" + "0" * 64
    with pytest.raises(RuntimeLoadError, match=f"names {wrong}; refusing") as refused:
        minilm_onnx(onnx_cache, weights_digest=wrong).load()
    assert MINILM_L6_V2.weights_digest in str(refused.value)


# --- OpenAI-compatible HTTP server ----------------------------------------------------------


@pytest.fixture(scope="module")
def server(textgen: HFTextGenRuntime) -> Iterator[OpenAIServer]:
    with OpenAIServer(textgen, "tiny") as running:
        yield running


@contextmanager
def http_runtime(server: OpenAIServer, **options: Any) -> Iterator[OpenAIHTTPRuntime]:
    spec = RuntimeSpec(
        "openai-http",
        "test/tiny-gpt2-http",
        "sha256:unchecked",
        "llm-greedy",
        base_url=server.base_url,
        options={"api_model": "tiny", "backoff": 0.01, **options},
    )
    runtime = OpenAIHTTPRuntime(spec)
    runtime.load()
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.mark.parametrize("endpoint", ["completions", "chat"])
def test_http_backend_gives_the_direct_runtimes_completion(
    server: OpenAIServer, textgen: HFTextGenRuntime, endpoint: str
) -> None:
    inputs = [
        b"Hello, world",
        request("Once upon a time", max_new_tokens=5),
        request("Once upon a time", max_new_tokens=7, seed=42, temperature=0.9),
    ]
    with http_runtime(server, endpoint=endpoint) as runtime:
        remote = [result(output) for output in runtime.run(inputs)]
    direct = [result(output) for output in textgen.run(inputs)]
    assert [(r["text"], r["finish_reason"]) for r in remote] == [(d["text"], d["finish_reason"]) for d in direct]
    assert {r["model"] for r in remote} == {"test/tiny-gpt2-http"}
    assert remote[1]["text"] != remote[2]["text"]  # the seed and temperature reached the server


def test_http_backend_retries_server_errors_then_raises_a_typed_error(server: OpenAIServer) -> None:
    with http_runtime(server, attempts=3) as runtime:
        server.completions, server.fail_next = 0, 1
        assert result(runtime.run([b"hi"])[0])["text"]  # one 500, then the retry succeeds
        assert server.completions == 2
        server.completions, server.fail_next = 0, 10
        with pytest.raises(BackendStatusError) as failed:
            runtime.run([b"hi"])
        assert failed.value.status == 500
        assert "injected failure" in str(failed.value)
        assert server.completions == 3
    server.fail_next = 0


def test_http_backend_waits_as_long_as_a_busy_server_asks(server: OpenAIServer) -> None:
    """A 429 or 503 with `Retry-After` is retried after the pause the server names, not the
    (here much shorter) backoff; a server asking for more than `max_retry_after` is not waited for."""
    with http_runtime(server, attempts=3, backoff=0.01, max_retry_after=5) as runtime:
        server.fail_status, server.retry_after, server.fail_next = 429, "1", 1
        server.completion_times.clear()
        assert result(runtime.run([b"hi"])[0])["text"]
        first, second = server.completion_times
        assert second - first >= 1.0
        server.fail_status, server.retry_after, server.fail_next = 503, "3600", 5
        server.completion_times.clear()
        with pytest.raises(BackendStatusError) as refused:
            runtime.run([b"hi"])
        assert (refused.value.status, refused.value.retry_after) == (503, 3600.0)
        assert len(server.completion_times) == 1  # given up at once: the jobs are let go, not held an hour
    server.fail_status, server.retry_after, server.fail_next = 500, None, 0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert _seconds("7") == 7.0
    assert _seconds("-3") == 0.0
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 <= (_seconds(in_a_minute) or 0) <= 60
    assert _seconds("soon") is None and _seconds(None) is None


def test_http_backend_times_out_with_a_typed_error(server: OpenAIServer) -> None:
    server.delay = 0.5
    try:
        with (
            http_runtime(server, timeout=0.1, attempts=2) as runtime,
            pytest.raises(BackendTimeout, match=r"did not answer within 0\.1 s"),
        ):
            runtime.run([b"hi"])
    finally:
        server.delay = 0.0


def test_http_backend_refuses_to_load_an_unserved_model_or_a_dead_server(server: OpenAIServer) -> None:
    with (
        pytest.raises(RuntimeLoadError, match=r"does not serve 'other'; it serves \['tiny'\]"),
        http_runtime(server, api_model="other"),
    ):
        pass
    dead = RuntimeSpec("openai-http", "test/x", "none", "llm-greedy", base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RuntimeLoadError, match="cannot reach"):
        OpenAIHTTPRuntime(dead).load()
