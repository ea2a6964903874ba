"""A model declared in the worker's configuration (not built in): the worker registers it on
chain, joins its draws and serves a text-generation job with the Hugging Face runtime; the
result equals what the runtime gives when run directly."""

from __future__ import annotations

import json
from pathlib import Path

from assay import AssayClient
from assay.devnet import ANVIL_KEYS
from assay_worker.runtimes import HFTextGenRuntime

from .conftest import local_market, worker_process
from .tiny_models import build_tiny_gpt2, tiny_gpt2_spec


def test_worker_serves_a_declared_text_generation_model(tmp_path: Path) -> None:
    spec = tiny_gpt2_spec(build_tiny_gpt2(tmp_path / "tiny-gpt2"))
    prompt = json.dumps({"prompt": "Assay is", "max_new_tokens": 6, "seed": 7, "temperature": 0.8}).encode()
    with local_market(tmp_path) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        assert not requester.models.functions.isRegistered(spec.manifest.model_id).call()
        worker = worker_process(
            chain, tmp_path, models=(), extra_env={"ASSAY_WORKER_MODELS": json.dumps([spec.as_config()])}
        )
        try:
            worker.wait_ready()
            assert requester.models.functions.isRegistered(spec.manifest.model_id).call()
            result = requester.post_job(spec.manifest, prompt, reward=10**15).wait(timeout=120)
        finally:
            assert worker.stop() == 0

    direct = HFTextGenRuntime(spec)
    direct.load()
    assert result.payload == direct.run([prompt])[0]
    assert result.json()["text"]  # sampled with the job's seed: the same bytes on any worker
