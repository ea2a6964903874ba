"""A worker runs jobs of one model in batches and submits each batch in one transaction
(`multicall`), publishing results to an Assay gateway it uploads to as a staked signer, and
leaves jobs that pay less than its `min_reward` alone; `max_active_jobs` caps the slots it holds."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import httpx
from assay import ECHO, AssayClient, JobPhase
from assay.devnet import ANVIL_KEYS

from .conftest import (
    MARKET_PARAMS,
    gateway_server,
    local_market,
    metric_samples,
    time_travel,
    wait_for,
    worker_process,
)

JOBS = 20
BATCH = 8
LAST_BLOCK = "assay_worker_last_scanned_block"


def test_jobs_run_in_batches_and_results_go_to_the_gateway(tmp_path: Path) -> None:
    with local_market(tmp_path) as (chain, deployed), gateway_server(chain.url, tmp_path, "--min-stake", "0.05") as url:
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        env = {"ASSAY_WORKER_BATCH_SIZE": str(BATCH), "ASSAY_WORKER_BATCH_WAIT": "3", "ASSAY_WORKER_STORAGE": url}
        env["ASSAY_WORKER_MIN_REWARD"] = "0.0005"  # ETH a slot
        worker = worker_process(chain, tmp_path, extra_env=env)
        try:
            worker.wait_ready()
            texts = [f"batched job {n}" for n in range(JOBS)]
            cheap = requester.post_job(ECHO, "not worth it", reward=10**14)
            jobs = requester.post_jobs(ECHO, texts, reward=10**15)
            results = [job.wait(timeout=120) for job in jobs]
            metrics = httpx.get(f"{worker.url}/metrics", timeout=5).text
        finally:
            assert worker.stop() == 0

        assert [result.json()["text"] for result in results] == texts
        assert all(result.uri.startswith(f"{url}/blobs/0x") for result in results)
        assert [job.status() for job in jobs] == [JobPhase.CLOSED] * JOBS
        assert cheap.status() == JobPhase.ASSIGNING  # drawn for this worker, which let it lapse
        submitted = requester.market.events.ResultSubmitted.get_logs(from_block=0)
        assert Counter(log["args"]["jobId"] for log in submitted) == Counter(job.id for job in jobs)
        per_tx = Counter(log["transactionHash"] for log in submitted)
        # 20 jobs seen together, at most 8 per batch: 3 transactions (20 without batching)
        assert sorted(per_tx.values()) == [4, 8, 8]
        counters = dict(line.split("{")[0:1] + line.split()[-1:] for line in metrics.splitlines() if "{" in line)
        assert float(counters["assay_worker_batches_total"]) == 3
        assert float(counters["assay_worker_batched_jobs_total"]) == JOBS


def test_max_active_jobs_limits_the_slots_held_at_once(tmp_path: Path) -> None:
    params = dataclasses.replace(MARKET_PARAMS, challenge_window=300)  # submitted jobs stay held until time moves
    with local_market(tmp_path, params) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        worker = worker_process(chain, tmp_path, extra_env={"ASSAY_WORKER_MAX_ACTIVE_JOBS": "2"})
        try:
            worker.wait_ready()
            texts = [f"limited {n}" for n in range(5)]  # deadlines far enough for the clock moves below
            jobs = requester.post_jobs(ECHO, texts, reward=10**15, claim_timeout=3_600, result_timeout=7_200)
            for held_before in (0, 2, 4):
                expected = min(held_before + 2, len(jobs))
                wait_for(lambda expected=expected: submitted(requester) == expected)  # type: ignore[misc]
                scanned = gauge(worker.url, LAST_BLOCK)
                wait_for(lambda scanned=scanned: gauge(worker.url, LAST_BLOCK) >= scanned + 3)  # type: ignore[misc]
                assert submitted(requester) == expected  # three more rounds took nothing beyond the limit
                time_travel(chain.w3, 301)  # the held jobs become settleable; the worker settles them
            assert [job.wait(timeout=60).json()["text"] for job in jobs] == texts
        finally:
            assert worker.stop() == 0
        events = requester.market.events
        changes = [(log["blockNumber"], +1) for log in events.ResultSubmitted.get_logs(from_block=0)]
        changes += [(log["blockNumber"], -1) for log in events.JobSettled.get_logs(from_block=0)]

    held, most = 0, 0
    for _, change in sorted(changes, key=lambda item: (item[0], item[1])):  # settlements first within a block
        held += change
        most = max(most, held)
    assert most == 2 and held == 0


def submitted(requester: AssayClient) -> int:
    return len(requester.market.events.ResultSubmitted.get_logs(from_block=0))


def gauge(url: str, name: str) -> float:
    return metric_samples(httpx.get(f"{url}/metrics", timeout=5).text)[(name, "")]
