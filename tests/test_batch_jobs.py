"""Batch jobs against a real worker on anvil: one job of many inputs is run in model batches of
the worker's batch size, answered with one result per input in one transaction, and settled and
paid once; the all-MiniLM sentiment model labels a batch of real sentences; a batch the worker
must not take (malformed, too many inputs, too little pay per input, an input the model
refuses) is refused before any slot is taken, with the reason logged, and so is one whose result
would be larger than requesters fetch."""

from __future__ import annotations

import json
from pathlib import Path

from assay import ECHO, SENTIMENT_MINILM, AssayClient, JobPhase
from assay.batch import BATCH_TAG, encode_batch
from assay.devnet import ANVIL_KEYS
from assay_worker.results import ResultStore
from eth_account import Account

from .conftest import local_market, publish, wait_for, worker_process

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
