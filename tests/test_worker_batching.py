"""A worker runs jobs of one model in batches and submits each batch in one transaction
(`multicall`), publishing results to an Assay gateway it uploads to as a staked signer, and
leaves jobs that pay less than its `min_reward` alone."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
from assay import ECHO, AssayClient, JobPhase
from assay.devnet import ANVIL_KEYS

from .conftest import gateway_server, local_market, worker_process

JOBS = 20
BATCH = 8


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
