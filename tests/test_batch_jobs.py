"""Batch jobs against a real worker on anvil: one job of many inputs is run in model batches of
the worker's batch size, answered with one result per input in one transaction, and settled and
paid once; the all-MiniLM sentiment model labels a batch of real sentences; a batch the worker
must not take (malformed, too many inputs, too little pay per input, an input the model
refuses) is refused before any slot is taken, with the reason logged, and so is one whose result
would be larger than requesters fetch."""

from __future__ import annotations

import json
import resource
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from assay import ECHO, SENTIMENT_MINILM, AssayClient, Deployment, JobPhase
from assay.batch import BATCH_TAG, decode_batch, encode_batch, item_count
from assay.devnet import ANVIL_KEYS
from assay_worker.daemon import Worker, _Progress, _run_model
from assay_worker.results import ResultStore
from eth_account import Account
from web3 import Web3

from .conftest import local_market, publish, wait_for, worker_process
from .test_worker_resume import SLOW, serve, serve_and_post, settings_for

MIN_REWARD = 10**14  # wei a slot, and an input of a batch, must pay (ASSAY_WORKER_MIN_REWARD below)


def test_batch_jobs_run_as_model_batches_and_refuse_what_they_must(
    tmp_path: Path, result_server: tuple[ResultStore, str]
) -> None:
    worker_address = Account.from_key(ANVIL_KEYS[2]).address
    env = {"ASSAY_WORKER_BATCH_SIZE": "8", "ASSAY_WORKER_MAX_BATCH_ITEMS": "64", "ASSAY_WORKER_MIN_REWARD": "0.0001"}
    with local_market(tmp_path) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        worker = worker_process(chain, tmp_path, models=(ECHO.name, SENTIMENT_MINILM.name), extra_env=env)
        try:
            worker.wait_ready()
            texts = [f"input number {n}" for n in range(40)]
            echoed = requester.post_batch(ECHO, texts, reward=40 * MIN_REWARD)
            moods = ["I love this, it is wonderful.", "This is awful, I hate it.", "What a great day!"]
            labelled = requester.post_batch(SENTIMENT_MINILM, moods, reward=3 * MIN_REWARD)
            refused = {
                "malformed": requester.post_job(ECHO, BATCH_TAG + b"\x00" * 40, reward=MIN_REWARD),
                "too many": requester.post_batch(ECHO, ["x"] * 65, reward=65 * MIN_REWARD),
                "too cheap": requester.post_batch(ECHO, ["y"] * 10, reward=10 * MIN_REWARD - 1),
                "blank input": requester.post_batch(SENTIMENT_MINILM, ["fine", "  "], reward=2 * MIN_REWARD),
            }
            # 1.5 MB of input whose echo (JSON escapes each e-acute to 6 bytes) exceeds the 4 MiB
            # a requester fetches: failed after the run, before any slot is taken
            huge = ["\u00e9" * 11_500] * 64
            _, huge_uri = publish(result_server, encode_batch(huge))
            too_big = requester.post_batch(ECHO, huge, reward=64 * MIN_REWARD, input_uri=huge_uri)
            echo_result = echoed.wait(timeout=120)
            sentiment_result = labelled.wait(timeout=240)
            wait_for(lambda: worker.health()["jobs_refused"] == len(refused), timeout=60)
            wait_for(lambda: worker.health()["jobs_failed"] == 1, timeout=60)
            health = worker.health()
        finally:
            assert worker.stop() == 0
        log = (tmp_path / "worker2.log").read_text()

        assert [json.loads(item)["text"] for item in echo_result.items()] == texts
        assert sentiment_result.items() == [b"positive", b"negative", b"positive"]
        for job in (echoed, labelled):
            info = job.info()
            assert info.phase == JobPhase.CLOSED and info.success and info.worker == worker_address
            assert info.paid is not None and info.fee is not None and info.paid + info.fee == info.terms.reward
            assert [e.name for e in job.history()].count("ResultSubmitted") == 1  # one answer for all inputs
        assert "batch of 65 inputs; this worker takes at most 64" in log
        assert f"pays {(10 * MIN_REWARD - 1) // 10} wei an input (min_reward {MIN_REWARD})" in log
        assert "batch input 1: input is blank" in log
        assert "malformed batch document" in log or "canonical ABI encoding" in log
        for why, job in refused.items():
            assert [e.name for e in job.history()] == ["JobPosted"], why  # no slot taken by anyone
            assert f"job {job.id}" in log, why
        assert health["jobs_refused"] == len(refused) and health["jobs_failed"] == 1
        assert f"job {too_big.id}" in log and "requesters fetch at most 4194304" in log
        assert [e.name for e in too_big.history()] == ["JobPosted"]
        assert requester.stake_of(worker_address).locked == 0  # nothing held for the refused jobs


def test_model_timeout_watches_each_model_call_not_the_whole_batch_job(
    w3: Web3, deployment: Deployment, tmp_path: Path
) -> None:
    """Two batch jobs of 4 inputs at batch size 2: each job takes two model calls of 0.5 s, longer
    in all than the 0.8 s model_timeout, yet no call is stuck, so both are answered."""
    serve(w3, deployment, SLOW)
    requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment)
    jobs = [requester.post_batch(SLOW.manifest, [f"{j}-{i}" for i in range(4)], reward=10**15) for j in range(2)]
    operator = AssayClient(w3, ANVIL_KEYS[2], deployment=deployment)
    worker = Worker(operator, settings_for(SLOW, tmp_path, batch_size=2, model_timeout=0.8))
    try:
        worker._poll_once()
        assert worker.wedged is None
        assert [worker.journal.get(job.id).state for job in jobs] == ["submitted", "submitted"]  # type: ignore[union-attr]
        answers = [worker.store.get(job.info().result_hash or b"") for job in jobs]
    finally:
        worker.model_thread.shutdown()
        worker.journal.close()
    assert [decode_batch(answer or b"") for answer in answers] == [
        [f"{j}-{i}".encode() for i in range(4)] for j in range(2)
    ]


def test_a_batch_whose_items_all_point_at_one_large_item_is_refused_cheaply(
    w3: Web3, deployment: Deployment, tmp_path: Path, result_server: tuple[ResultStore, str]
) -> None:
    """4,096 offsets naming one 400 kB item (a 531 kB document by URI): read naively, 1.6 GB of
    copies. The worker refuses it within 1.5 GB of address space and goes on."""
    count, size = 4_096, 400_000
    document = BATCH_TAG + (64).to_bytes(32, "big") + count.to_bytes(32, "big")
    document += (32 * count).to_bytes(32, "big") * count + size.to_bytes(32, "big") + b"a" * size
    _, uri = publish(result_server, document)
    (honest,) = serve_and_post(w3, deployment, SLOW, ["honest"])
    hostile = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment).post_job(
        SLOW.manifest, document, reward=10**15, input_uri=uri
    )
    operator = AssayClient(w3, ANVIL_KEYS[2], deployment=deployment)
    worker = Worker(operator, settings_for(SLOW, tmp_path))
    with Path("/proc/self/status").open() as status:
        used = int(next(line for line in status if line.startswith("VmSize")).split()[1]) * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (used + 1_500_000_000, hard))
    try:
        worker._poll_once()
        assert worker.counters.refused == 1 and hostile.id not in worker.views
        assert worker.journal.get(honest.id).state == "submitted"  # type: ignore[union-attr]
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        worker.model_thread.shutdown()
        worker.journal.close()
    assert hostile.status() == JobPhase.ASSIGNING


class Picky:
    """Wraps each input in <>; fails any model call holding b"BAD" (alone: that input fails)."""

    manifest = ECHO

    def run(self, inputs: list[bytes]) -> list[bytes]:
        if b"BAD" in inputs:
            raise RuntimeError("bad input")
        return [b"<" + data + b">" for data in inputs]


def test_run_model_keeps_each_jobs_results_in_order_and_apart() -> None:
    nested = encode_batch([b"n1", b"n2"])
    inputs = [
        b"a",
        encode_batch([b"b1", b"b2", b"b3"]),
        b"c",
        encode_batch([b"d1", b"BAD", b"d3"]),
        encode_batch([nested]),  # a batch inside a batch is one opaque input
        b"e",
    ]
    results, _ = _run_model(Picky(), inputs, 3, _Progress())  # type: ignore[arg-type]
    assert results[0] == b"<a>" and results[2] == b"<c>" and results[5] == b"<e>"
    assert decode_batch(results[1]) == [b"<b1>", b"<b2>", b"<b3>"]  # type: ignore[arg-type]
    assert isinstance(results[3], RuntimeError)  # one bad input fails its whole batch job, no other
    assert decode_batch(results[4]) == [b"<" + nested + b">"]  # type: ignore[arg-type]


def test_jobs_are_cut_where_their_inputs_fill_whole_model_calls() -> None:
    """Batch size 32: single jobs go 32 to a batch as before; 100-input batch jobs go three to a
    batch (300 inputs: one part-filled call in 10, against one in 4 when each ran alone), since
    no earlier cut fills whole calls and 8 calls' worth (256) is the most a batch waits for."""

    def job(inputs: int) -> tuple[Any, int]:
        data = b"plain" if inputs == 1 else encode_batch([b"x"] * inputs)
        return SimpleNamespace(input=data), 0

    def sizes(waiting: list[tuple[Any, int]]) -> list[list[int]]:
        worker = SimpleNamespace(settings=SimpleNamespace(batch_size=32))
        return [[item_count(view.input) for view, _ in batch] for batch in Worker._model_batches(worker, waiting)]  # type: ignore[arg-type]

    assert sizes([job(1) for _ in range(70)]) == [[1] * 32, [1] * 32, [1] * 6]
    assert sizes([job(100) for _ in range(10)]) == [[100] * 3, [100] * 3, [100] * 3, [100]]
    assert sizes([job(16), job(16), job(100), job(1000), job(5)]) == [[16, 16], [100, 1000], [5]]
