"""Model residency under a memory budget, with the real all-MiniLM-L6-v2 runtimes: sizes are
measured at load, the least recently used model is unloaded to make room, a reloaded model gives
the same bytes, and a worker serving two such models within a budget for one answers jobs of
both (unloading and reloading them as jobs alternate)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from assay import MINILM_L6_V2, SENTIMENT_MINILM, AssayClient
from assay.devnet import ANVIL_KEYS
from assay_worker.residency import Residency
from assay_worker.runtimes import Runtime, RuntimeLoadError, create_runtime

from .conftest import local_market, worker_process

BUDGET_MB = 150.0  # one MiniLM (about 87 MB of float32 weights) fits, two do not


def runtimes() -> dict[bytes, Runtime]:
    return {m.model_id: create_runtime(m.name) for m in (MINILM_L6_V2, SENTIMENT_MINILM)}


def test_least_recently_used_model_makes_room_and_reloads_identically() -> None:
    loads: list[str] = []
    served = runtimes()
    residency = Residency(served, BUDGET_MB, {}, lambda name, _seconds: loads.append(name))
    embedding = residency.acquire(MINILM_L6_V2.model_id)
    first = embedding.run([b"the same sentence"])
    size = residency.footprints_mb()[MINILM_L6_V2.name]
    assert 80 < size < 100  # measured: 22.7 M float32 parameters

    sentiment = residency.acquire(SENTIMENT_MINILM.model_id)
    assert sentiment.run([b"I love it"]) == [b"positive"]
    assert list(residency.footprints_mb()) == [SENTIMENT_MINILM.name] and residency.evictions == 1
    with pytest.raises(RuntimeLoadError, match="not loaded"):
        embedding.run([b"unloaded"])

    assert residency.acquire(MINILM_L6_V2.model_id).run([b"the same sentence"]) == first
    assert residency.evictions == 2 and loads == [MINILM_L6_V2.name, SENTIMENT_MINILM.name, MINILM_L6_V2.name]
    assert residency.acquire(MINILM_L6_V2.model_id) is embedding and len(loads) == 3  # resident: no reload


def test_declared_sizes_limit_what_is_preloaded_and_oversized_models_are_refused() -> None:
    declared = {MINILM_L6_V2.model_id: 90.0, SENTIMENT_MINILM.model_id: 90.0}
    residency = Residency(runtimes(), BUDGET_MB, declared, lambda *_: None)
    residency.preload()
    assert list(residency.footprints_mb()) == [MINILM_L6_V2.name] and residency.evictions == 0
    unlimited = Residency(runtimes(), None, {}, lambda *_: None)
    unlimited.preload()
    assert len(unlimited.footprints_mb()) == 2
    with pytest.raises(RuntimeLoadError, match=r"larger than the memory budget of 50\.0 MB"):
        Residency(runtimes(), 50.0, declared, lambda *_: None)


def test_worker_alternates_two_models_within_a_budget_for_one(tmp_path: Path) -> None:
    with local_market(tmp_path) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        worker = worker_process(
            chain,
            tmp_path,
            models=(MINILM_L6_V2.name, SENTIMENT_MINILM.name),
            extra_env={"ASSAY_WORKER_MEMORY_BUDGET_MB": str(BUDGET_MB), "ASSAY_WORKER_BATCH_SIZE": "1"},
        )
        try:
            worker.wait_ready()
            texts = ["I am very happy today", "This was an awful day"]
            for text in texts:  # each job's model is the one not in memory
                vector = requester.post_job(MINILM_L6_V2, text, reward=10**15).wait(timeout=120, until="submitted")
                label = requester.post_job(SENTIMENT_MINILM, text, reward=10**15).wait(timeout=120, until="submitted")
                assert len(vector.json()["embedding"]) == 384
                assert label.payload == (b"positive" if "happy" in text else b"negative")
            metrics = httpx.get(f"{worker.url}/metrics").text
            values = {
                line.split("{")[0]: float(line.split()[-1])
                for line in metrics.splitlines()
                if line.startswith(("assay_worker_model_evictions_total", "assay_worker_model_loads_total"))
            }
            assert values["assay_worker_model_evictions_total"] >= 3
            assert values["assay_worker_model_loads_total"] >= 4
            assert len(httpx.get(f"{worker.url}/health").json()["loaded_models"]) == 1
        finally:
            assert worker.stop() == 0
