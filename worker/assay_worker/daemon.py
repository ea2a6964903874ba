"""The worker loop: watch for jobs, take the slots we are drawn for (or may claim), run, publish,
submit (r = 1) or commit and reveal (r >= 2), then settle.

Each step is decided from the job's state on chain, so repeating a step is harmless, and each
transaction is preceded by an intent in the journal, so a crash at any point is resumed on the
next start (see `journal.py`)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from assay import (
    AssayClient,
    AssayError,
    BatchFormatError,
    ChainError,
    ContractRevert,
    JobEvent,
    JobPhase,
    JobTerms,
    Storage,
    StorageError,
    TransactionFailed,
    commitment_of,
    fetch_payload,
    gas_cost,
)
from assay._calldata import Calldata
from assay._jobs import ZERO_ADDRESS
from assay._rpc import raw_request
from assay.batch import decode_batch, encode_batch, is_batch, item_count
from assay.storage import MAX_PAYLOAD_BYTES
from eth_abi.exceptions import DecodingError
from tenacity import before_sleep_log, retry, retry_if_exception_type, stop_after_delay, wait_exponential_jitter
from web3.exceptions import Web3Exception
from web3.types import TxReceipt

from .api import ApiServer, create_app
from .heads import HeadWatcher
from .idle import IdleReason, idle_reason
from .journal import FINISHED, Journal, JournalRecord, recent_jobs
from .metrics import metrics_text
from .residency import Residency
from .results import ResultStore
from .runtimes import Runtime, RuntimeLoadError, RuntimeSpec, create_runtime
from .tracker import JobView, LogScanner

log = logging.getLogger("assay.worker")

PIPELINE_CALLS = 8
"""Model calls a batch of jobs may fill before the next batch starts (see `Worker._model_batches`)."""

PIPELINE_DEPTH = 2
"""Batches handed to the model thread before the worker waits for the oldest to submit it: one
runs, one waits behind it, so a slow transaction (longer than a model call) does not idle the model."""

STARTUP_RETRY_SECONDS = 120
"""How long start-up keeps retrying an unreachable RPC before giving up with an error."""

REORG_MARGIN = 12
"""Blocks re-scanned below the saved cursor on start: logs of reorganised blocks are seen again."""

MAX_INLINE_RESULT = 4_096
"""Longest result carried on chain (`AssayMarket.MAX_INLINE_RESULT`), for consumer contracts."""

MAX_CALLS_PER_TX = 32
"""Steps sent in one `multicall` transaction (submits of ~70k gas each stay far below block limits)."""

LATEST = "latest"
MAX_BACKOFF = 15.0
"""Longest pause between rounds while the RPC endpoint keeps failing (doubling from poll_interval)."""
IDLE_CHECK = 15.0
"""Seconds between checks of why the worker is idle (two or three RPC reads each)."""
PRUNE_INTERVAL = 3600.0
"""Seconds between deletions of results older than `result_retention_days`."""
IDLE_ROUND = 10.0
"""Seconds between rounds with no job in flight while new blocks are pushed (a keepalive)."""
LOAD_AT_ONCE = 50
"""Job ids in one eth_getLogs filter when jobs are read again from the market's start."""
READ_BATCH = 200
"""Read calls per JSON-RPC batch request."""

FAILPOINTS = {"submitResult": "submit", "commit": "commit", "reveal": "reveal", "settle": "settle"}
"""Testing only: with $ASSAY_WORKER_FAILPOINT=<step> the worker SIGKILLs itself right after that
step's transaction returns and before the journal records its outcome, the worst moment."""


@dataclass
class WorkerSettings:
    """What a worker serves and how it behaves; see `assay_worker.__main__` for the options."""

    models: list[str | RuntimeSpec]
    results_dir: str
    journal_path: str
    host: str = "127.0.0.1"
    port: int = 8600
    public_url: str | None = None
    stake: int = 10**17
    poll_interval: float = 0.5
    ws_url: str | None = None
    """The node's websocket endpoint: new blocks are pushed and start a round at once."""
    confirmations: int = 0
    open_claiming: bool = True
    """Also take slots nobody was drawn for (after two accept windows), not only our own draws."""
    batch_size: int = 16
    """Most inputs in one model call: a job counts one, a batch job its inputs. The model thread
    gets jobs in groups that fill whole calls (up to `PIPELINE_CALLS` calls' worth, or one larger
    job), each group's results submitted in one transaction."""
    batch_wait: float = 0.0
    """Seconds a job may wait for a fuller batch of its model (the latency budget)."""
    result_retention_days: float = 30.0
    """Days a stored result is kept (and served at /results) after it was computed, or after its
    job finished when that is later: results of jobs the journal has not finished are kept."""
    model_timeout: float = 600.0
    """Seconds one model call (at most `batch_size` inputs) may take; past that its jobs are let
    go (no slot was taken yet), the worker takes no more jobs (every model shares the stuck thread)
    and /ready reports it wedged until it is restarted; reveals and settlements go on."""
    memory_budget_mb: float | None = None
    """(GPU) memory loaded models may hold together; None: every model stays loaded."""
    min_reward: int = 0
    """Wei a slot must pay (ETH jobs) to be worth taking, per input for a batch job: the
    profitability filter."""
    max_batch_items: int = 256
    """Most inputs a batch job may hold to be taken (its inputs all run before its deadline)."""
    max_active_jobs: int | None = None
    """Most slots held at once, from taking to settlement (each locks collateral); None: no limit."""
    deadline_margin: float = 10.0
    """Seconds before a job's result deadline after which no slot is taken (declining early
    costs nothing; missing the deadline costs the collateral)."""
    storage: Storage | None = None
    """Where results are published (IPFS, a gateway); None: only the worker's own API."""
    failpoint: str | None = None


@dataclass
class Counters:
    completed: int = 0
    settled: int = 0
    failed: int = 0
    refused: int = 0
    resumed: int = 0
    gas_spent_wei: int = 0
    earned_wei: int = 0
    rpc_errors: int = 0
    reorgs: int = 0
    model_load_seconds: dict[str, float] = field(default_factory=dict)  # the latest load of each
    model_loads: int = 0
    batches: int = 0
    batched_jobs: int = 0
    model_seconds: float = 0.0
    started: float = field(default_factory=time.time)

    def record_load(self, model: str, seconds: float) -> None:
        self.model_loads += 1
        self.model_load_seconds[model] = seconds

    def record_batch(self, size: int, seconds: float) -> None:
        self.batches += 1
        self.batched_jobs += size
        self.model_seconds += seconds


@dataclass(frozen=True)
class _Step:
    """One market call for one job (`function(jobId, terms, *args)`) and its journal intent."""

    view: JobView
    function: str
    args: list[Any]
    intent: JournalRecord


_Ready = tuple[JobView, int, bytes]
"""A job, the slot to take and its input, ready for the model."""


@dataclass
class _Progress:
    """When the model thread last began a model call for a run; None until the run starts."""

    at: float | None = None

    def tick(self) -> None:
        self.at = time.monotonic()


@dataclass(frozen=True)
class _Running:
    """A batch whose model run was handed to the model thread."""

    ready: list[_Ready]
    results: Future[tuple[list[bytes | Exception], float]]
    model_id: bytes
    progress: _Progress
    round: int  # the poll round that handed it over


def _run_model(
    runtime: Runtime, inputs: list[bytes], batch_size: int, progress: _Progress
) -> tuple[list[bytes | Exception], float]:
    """Each job's result (or why it failed) and the seconds taken. A batch job's input holds many
    items (`assay.batch`, checked before the job was taken): every item is one input of the model,
    run in model batches of `batch_size`, and its result is the batch document of their results
    (or the first item's failure). Runs on the model thread: it touches nothing but the runtime
    and `progress`, which it ticks at every model call (the stuck-model clock is per call)."""
    started = time.monotonic()
    groups = [decode_batch(data) if is_batch(data) else [data] for data in inputs]
    items = [item for group in groups for item in group]
    answers: list[bytes | Exception] = []
    for first in range(0, len(items), batch_size):
        answers.extend(_run_items(runtime, items[first : first + batch_size], progress))
    results: list[bytes | Exception] = []
    for data, group in zip(inputs, groups, strict=True):
        own, answers = answers[: len(group)], answers[len(group) :]
        failure = next((answer for answer in own if isinstance(answer, Exception)), None)
        if failure is not None:
            results.append(failure)
        else:
            done = [answer for answer in own if isinstance(answer, bytes)]
            results.append(encode_batch(done) if is_batch(data) else done[0])
    return results, time.monotonic() - started


def _inputs_of(view: JobView) -> int:
    """The model inputs a job holds, as far as known before its input is fetched."""
    return item_count(view.input) if view.input else 1


def _run_items(runtime: Runtime, items: list[bytes], progress: _Progress) -> list[bytes | Exception]:
    """One model batch. If it fails, each item is run alone so one bad input fails only its own job."""
    try:
        progress.tick()
        return list(runtime.run(items))
    except Exception as exc:
        log.warning("batch of %d failed (%r); running each alone", len(items), exc)
    results: list[bytes | Exception] = []
    for data in items:
        try:
            progress.tick()
            results.append(runtime.run([data])[0])
        except Exception as single:
            results.append(single)
    return results


class Worker:
    """One worker account serving a set of models."""

    def __init__(self, client: AssayClient, settings: WorkerSettings) -> None:
        self.client = client
        self.settings = settings
        self.store = ResultStore(settings.results_dir)
        self.storage = settings.storage
        self.journal = Journal(settings.journal_path)
        deployment = client.deployment
        anchor = client.w3.eth.get_block(deployment.start_block)["hash"].hex()
        self.journal.bind(deployment.chain_id, deployment.market, client.address, anchor)
        self.runtimes: dict[bytes, Runtime] = {}
        declared_mb: dict[bytes, float] = {}
        for model in settings.models:
            runtime = create_runtime(model)
            self.runtimes[runtime.manifest.model_id] = runtime
            if runtime.manifest.memory_mb is not None:
                declared_mb[runtime.manifest.model_id] = runtime.manifest.memory_mb
        self.counters = Counters()
        # one model thread: batches run on it one after another, beside the chain work
        self.model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self.residency = Residency(self.runtimes, settings.memory_budget_mb, declared_mb, self.counters.record_load)
        self.views: dict[int, JobView] = {}  # jobs we hold a slot of, or may still get one of
        # batches handed to the model thread whose results are not submitted yet. When jobs were
        # posted meanwhile, a round's last batch is submitted in the next round, which reads
        # them while the model runs it
        self.pipeline: deque[_Running] = deque()
        # a part-filled batch kept back this round because the model thread is still busy with
        # one of its model: it waits there anyway, and jobs posted meanwhile can fill it up
        self.held: tuple[bytes, list[tuple[JobView, int]]] | None = None
        self.rounds = 0  # poll rounds begun
        self.queue_depth: dict[str, int] = {}
        self._count_waiting()
        self.scanner = LogScanner(client)
        self.last_round: float | None = None  # monotonic time the last poll round finished
        self.idle: IdleReason | None = None  # why no job is being worked on, as of `idle_checked`
        self.wedged: str | None = None  # why the model thread counts as stuck (a run overran model_timeout)
        self.idle_checked: float | None = None
        self.pruned_at: float | None = None  # monotonic time of the last pruning of old results
        self.calldata = Calldata(client.market.abi)
        self.saved_cursor = self.journal.cursor
        start = client.deployment.start_block
        self.cursor = start if self.saved_cursor is None else max(start, self.saved_cursor - REORG_MARGIN)
        self.stopping = threading.Event()
        self.failed_rounds = 0  # rounds in a row that an RPC error cut short
        self.wake = threading.Event()  # a new block was pushed, or stop() was called
        self.heads = HeadWatcher(settings.ws_url, lambda _number: self.wake.set()) if settings.ws_url else None
        # jobs to re-examine next round: what the journal left unfinished, and any job whose
        # step hit a transport error; each is carried on from the state the chain reports
        unfinished = self.journal.unfinished()
        for entry in unfinished:
            log.info("job %d: resuming from journal state %r", entry.job_id, entry.state)
        self.retry = {entry.job_id for entry in unfinished}
        self.block_hashes: dict[int, bytes] = {}  # recently scanned blocks, to notice reorgs
        self.counters.resumed = len(unfinished)
        self.api = ApiServer(create_app(self.store, self.health, self), settings.host, settings.port)
        self.base_url = settings.public_url or f"http://{settings.host}:{self.api.port}"

    def health(self) -> dict[str, Any]:
        return {
            "status": "stopping" if self.stopping.is_set() else "ok",
            "address": self.client.address,
            "chain_id": self.client.deployment.chain_id,
            "models": [runtime.manifest.name for runtime in self.runtimes.values()],
            "loaded_models": self.residency.footprints_mb(),
            "last_block": self.cursor - 1,
            "jobs_completed": self.counters.completed,
            "jobs_settled": self.counters.settled,
            "jobs_failed": self.counters.failed,
            "jobs_refused": self.counters.refused,
            "jobs_resumed": self.counters.resumed,
            "active_jobs": len(self.views),
            "earned_wei": self.counters.earned_wei,
            "reorgs": self.counters.reorgs,
            "rpc_errors": self.counters.rpc_errors,
            "new_blocks": "pushed" if self.heads is not None and self.heads.connected.is_set() else "polled",
            "gas_spent_wei": self.counters.gas_spent_wei,
            "idle_reason": self.idle.text if self.idle is not None else None,
        }

    def readiness(self) -> str | None:
        if self.stopping.is_set():
            return "stopping"
        if self.wedged:
            return self.wedged
        if self.last_round is None:
            return "catching up with the chain (no poll round finished yet)"
        stale = time.monotonic() - self.last_round
        if stale > max(30.0, 20 * self.settings.poll_interval):
            return f"no poll round has finished for {stale:.0f} s (RPC unreachable?)"
        return None

    def metrics(self) -> bytes:
        return metrics_text(self)

    def recent_jobs(self) -> list[dict[str, Any]]:
        return recent_jobs(self.settings.journal_path)

    def run(self) -> None:
        """Load models, top up stake, resume the journal, serve the API and process jobs until `stop()`."""
        self.residency.preload()
        self._ensure_stake()
        self.api.start()
        if self.heads is not None:
            self.heads.start()
        log.info("worker %s ready; results served at %s", self.client.address, self.base_url)
        try:
            while not self.stopping.is_set():
                self._poll_once()
                self._pause()
            try:  # a graceful stop submits the batch still on the model thread
                self._finish_batches()
            except (AssayError, OSError, Web3Exception, DecodingError, ValueError) as exc:
                self._rpc_error(exc, "the last batch was not submitted; its jobs resume on the next start")
        finally:
            if self.heads is not None:
                self.heads.stop()
            self.api.stop()
            self.model_thread.shutdown()
            self.journal.close()
            self.store.close()
            log.info("worker stopped; %d job(s) in flight resume on the next start", len(self.views))

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def _pause(self) -> None:
        """Wait for the next round: a pushed block starts it at once. Without pushed blocks, or
        with jobs in flight (their phases also move with the clock), rounds come every
        `poll_interval`; idle with pushed blocks, every `IDLE_ROUND`; after failed rounds,
        exponentially later."""
        pushed = self.heads is not None and self.heads.connected.is_set()
        pause = IDLE_ROUND if pushed and not self.views else self.settings.poll_interval
        if self.pipeline and not self.failed_rounds:  # the model runs a batch: read on meanwhile
            pause = 0.0
        if self.failed_rounds:  # the endpoint is down or refusing us: back off, up to MAX_BACKOFF,
            # and let no pushed block cut the pause short (the websocket may be up while HTTP fails)
            self.stopping.wait(
                min(MAX_BACKOFF, max(pause, self.settings.poll_interval * 2 ** (self.failed_rounds - 1)))
            )
        else:
            self.wake.wait(pause)
        self.wake.clear()

    @retry(
        retry=retry_if_exception_type(OSError),
        stop=stop_after_delay(STARTUP_RETRY_SECONDS),
        wait=wait_exponential_jitter(multiplier=0.5, max=5),
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    )
    def _ensure_stake(self) -> None:
        """Top the free stake up to the configured amount and serve every configured model."""
        free = self.client.stake_of().free
        if free < self.settings.stake:
            receipt = self._record(self.client.stake(self.settings.stake - free))
            log.info("staked %d wei (gas %d)", self.settings.stake - free, receipt["gasUsed"])
        for runtime in self.runtimes.values():
            self.client.register_model(runtime.manifest)  # anyone may; a no-op when it is registered
            joined = self.client.join_model(runtime.manifest)
            if joined is not None:
                log.info("joined the draws of %s", runtime.manifest.name)

    def _poll_once(self) -> None:
        """One round: reload jobs left over, scan new logs, then move every followed job forward.
        Every step is decided from the chain's state, so a step repeated after a transport error
        is safe; a failed step leaves its jobs for the next round without holding up the others."""
        self.rounds += 1
        self.held = None  # a round cut short by an error may have left one: its jobs are read again
        try:
            self._detect_reorg()
            head = self.client.w3.eth.block_number - self.settings.confirmations
            if self.retry:
                self._load(sorted(self.retry), head)
            new_blocks = head >= self.cursor
            scanned = self._block_hash(head) if new_blocks else None  # compared once its logs are read
            for event in self.scanner.scan(self.cursor, head):
                self._on_event(event)
            if new_blocks:
                self.cursor = head + 1
                self._remember_block(head, scanned)
            if self.views and not self.stopping.is_set():
                self._advance_all()
            self._drain()
            resume = self._resume_block()
            if resume != self.saved_cursor:
                self.journal.cursor = self.saved_cursor = resume
            self._count_waiting()
            self.last_round = time.monotonic()
            self.failed_rounds = 0
            self._check_idle()
            self._prune_results()
        except AssayError as exc:  # a step the chain or the node refused: tried again, later
            self.failed_rounds += 1
            log.warning("poll failed: %s", exc)
        # transport errors, JSON-RPC error answers, and empty or malformed answers (no answer at all)
        except (OSError, Web3Exception, DecodingError, ValueError) as exc:
            self.failed_rounds += 1
            self._rpc_error(exc)

    def _drain(self) -> None:
        """End the round's pipeline. Its last batches run on while the next round reads the jobs
        posted meanwhile (at once: no pause), and are submitted there; with none posted, they are
        submitted now. A held part-filled batch is left to the next round only while a batch of
        this round runs on (the model stays busy, and the next round fills the held jobs up with
        the new ones); otherwise it is handed to the model thread before the worker waits for the
        batch ahead of it, so the model does not idle while that one is submitted."""
        posted: list[bool] = []  # whether jobs were posted since the scan: asked once, if needed

        def jobs_posted() -> bool:
            if not posted:
                posted.append(self.scanner.jobs_posted_since(self.cursor))
            return posted[0]

        while self.pipeline:
            if self.pipeline[0].round == self.rounds and jobs_posted():
                break
            runs_on = any(running.round == self.rounds for running in self.pipeline) and jobs_posted()
            try:
                if self.held is not None and not runs_on:
                    model_id, batch = self.held
                    self.held = None
                    self._run_batches(model_id, [batch], hold=False)  # submits the batches ahead of it
                else:
                    self._submit(self.pipeline.popleft())
            except BaseException:
                self._abandon_batches()  # their jobs are taken again next round
                raise
        self.held = None

    def _check_idle(self) -> None:
        """Say (in the log, /health, /metrics) why the worker is idle, when that changes."""
        if self.idle_checked is not None and time.monotonic() - self.idle_checked < IDLE_CHECK:
            return
        self.idle_checked = time.monotonic()
        floors = {runtime.manifest.name: runtime.manifest.min_collateral for runtime in self.runtimes.values()}
        try:
            reason = idle_reason(self.client, floors, len(self.views))
        except (AssayError, OSError, Web3Exception) as exc:  # only a status message: the round stands
            log.debug("idle check failed: %s", exc)
            return
        if reason != self.idle:
            if reason is None:
                log.info("working")
            elif reason.code == "no_jobs":
                log.info("idle: %s", reason.text)
            else:
                log.warning("idle: %s", reason.text)
        self.idle = reason

    def _prune_results(self) -> None:
        """Delete results older than the retention, at most every `PRUNE_INTERVAL` (the store would
        otherwise grow by every result for as long as the rig runs)."""
        if self.pruned_at is not None and time.monotonic() - self.pruned_at < PRUNE_INTERVAL:
            return
        self.pruned_at = time.monotonic()
        keep = {entry.result_hash for entry in self.journal.unfinished() if entry.result_hash}
        try:
            pruned = self.store.prune(self.settings.result_retention_days * 86400, keep)
        except OSError as exc:  # tried again at the next interval; the round stands
            log.warning("%s", exc)
            return
        if pruned:
            log.info("deleted %d result(s) older than %g days", pruned, self.settings.result_retention_days)

    def _resume_block(self) -> int:
        """The block a restart must scan from: the next one, or the posting block of the oldest
        job followed without a slot of ours (such jobs live only in memory until one is taken;
        the journal resumes the others)."""
        me = self.client.address
        waiting = [view.posted_block for view in self.views.values() if view.slot_of(me)[0] is None]
        return min([self.cursor, *waiting])

    def _load(self, job_ids: list[int], head: int, since: int | None = None) -> None:
        """Follow `job_ids` again from their whole history (resumed or re-examined jobs): one
        scan from `since` (default: the market's first block) for all of them, `LOAD_AT_ONCE`
        ids per log filter."""
        start = self.client.deployment.start_block if since is None else since
        for first in range(0, len(job_ids), LOAD_AT_ONCE):
            chunk = job_ids[first : first + LOAD_AT_ONCE]
            views: dict[int, JobView] = {}
            for event in self.scanner.scan(start, head, chunk):
                if event.name == "JobPosted":
                    views[event.job_id] = self._view_of(event)
                elif event.job_id in views:
                    views[event.job_id].apply(event.name, event.args)
            for job_id in chunk:
                self.retry.discard(job_id)
                if job_id in views:
                    self.views[job_id] = views[job_id]
                    continue
                log.warning("job %d: no longer on chain (reorganised away); dropped", job_id)
                self.views.pop(job_id, None)
                if self.journal.get(job_id) is not None:
                    self.journal.record(job_id, "lost", "no JobPosted event on this chain")

    def _view_of(self, event: JobEvent) -> JobView:
        args = event.args
        terms = JobTerms.from_posted(event)
        job_id, data, uri = int(args["jobId"]), bytes(args["input"]), str(args["inputURI"])
        return JobView(job_id, terms, data, uri, time.monotonic(), event.block_number)

    def _on_event(self, event: JobEvent) -> None:
        args = event.args
        job_id = int(args["jobId"])
        if event.name == "JobPosted":
            if job_id not in self.views:
                self._consider(self._view_of(event))
        elif job_id in self.views:
            self.views[job_id].apply(event.name, args)

    def _block_hash(self, number: int) -> bytes | None:
        """The hash of block `number` (None: the chain is shorter), read unformatted: web3 would
        format the whole block for it, a millisecond twice a round."""
        block = raw_request(self.client.w3, "eth_getBlockByNumber", [hex(number), False])
        return None if block is None else bytes.fromhex(block["hash"][2:])

    def _remember_block(self, number: int, scanned: bytes | None) -> None:
        """Remember block `number`'s hash, read after its logs were; `scanned` is the one read before
        them. A block gone or replaced in between was reorganised while it was read: scanned again."""
        current = self._block_hash(number)
        if current is None or current != scanned:
            self._rewind(number)
            return
        self.block_hashes[number] = current
        for old in [n for n in self.block_hashes if n <= number - REORG_MARGIN]:
            del self.block_hashes[old]

    def _detect_reorg(self) -> None:
        """Compare the hashes of recently scanned blocks with the chain's; on a difference, scan
        again from the first replaced block and re-examine every job we followed."""
        if not self.block_hashes:
            return
        fork = None
        for number in sorted(self.block_hashes, reverse=True):
            current = self._block_hash(number)  # None: the chain is now shorter than what we saw
            if current == self.block_hashes[number]:
                # only some scanned blocks are remembered: every block after the newest one that
                # still matches may have been replaced
                fork = number + 1 if fork is not None else None
                break
            fork = number
        else:  # none of the remembered blocks survived: the reorg is deeper than them
            fork = max(self.client.deployment.start_block, min(self.block_hashes) - REORG_MARGIN)
        if fork is not None:
            self._rewind(fork)

    def _rewind(self, fork: int) -> None:
        """Blocks from `fork` on were replaced: scan them again and re-examine every job we followed."""
        log.warning("reorg: blocks from %d on were replaced; scanning them again", fork)
        self._abandon_batches()  # their jobs are read again below and taken again if still open
        self.counters.reorgs += 1
        self.cursor = min(self.cursor, fork)
        self.block_hashes = {n: h for n, h in self.block_hashes.items() if n < fork}
        # re-derived from the chain: each job's logs are read again, and rescanned blocks add new ones
        self.retry |= set(self.views) | {entry.job_id for entry in self.journal.unfinished()}
        self.views.clear()

    def _rpc_error(self, exc: Exception, what: str = "retrying next round") -> None:
        """Count and log an RPC failure; `what` says what happens next (the default: a round cut short)."""
        self.counters.rpc_errors += 1
        log.warning("RPC error, %s: %s", what, exc)

    def _consider(self, view: JobView) -> None:
        """A newly posted job: follow it when we serve its model and may get a slot."""
        if view.terms.model_id not in self.runtimes:
            return
        me = self.client.address
        if view.terms.allowlist and me not in view.terms.allowlist:
            return
        if not (me in view.terms.assignees or view.terms.allowlist or self.settings.open_claiming):
            return
        slot_reward = view.terms.reward // view.terms.redundancy
        if view.terms.token == ZERO_ADDRESS and slot_reward < self.settings.min_reward:
            log.info(
                "job %d: ignored, pays %d wei a slot (min_reward %d)",
                view.job_id,
                slot_reward,
                self.settings.min_reward,
            )
            return
        self.views[view.job_id] = view

    def _advance_all(self) -> None:
        """Take every followed job one step forward from the state the chain reports, batching
        reads, model runs and transactions across jobs."""
        me = self.client.address
        now = self._chain_time()
        running = self._running_jobs()
        views: list[JobView] = []
        for job_id in sorted(self.views):
            view = self.views[job_id]
            if job_id in running:  # its batch runs on the model thread: submitted once done
                continue
            if view.quiet_until(me) > now:  # a result of ours in its challenge window: nothing to read
                self._reconcile(view, view.slot_of(me)[1])
            else:
                views.append(view)
        # the clock is read first, so it may be a block older than the phases: deadline_margin covers that
        phases = self._read_batch([("phaseOf", (view.job_id, view.terms.encoded)) for view in views])
        takes: list[JobView] = []
        reveals: list[tuple[JobView, int]] = []
        settles: list[JobView] = []
        for view, raw_phase in zip(views, phases, strict=True):
            phase = JobPhase(raw_phase)
            slot, stage = view.slot_of(me)
            if phase == JobPhase.NONE:  # reorganised away
                self._drop(view, "lost", "no longer on chain")
            elif phase == JobPhase.CLOSED:
                self._closed(view)
            elif slot is None:
                if view.terms.model_id not in self.runtimes:  # resumed after its model left the config
                    self._drop(view, "lost", "its model is no longer served here")
                elif now + self.settings.deadline_margin > view.terms.result_deadline:
                    self._drop(view, "refused", "too close to its result deadline to finish safely")
                elif phase in (JobPhase.ASSIGNING, JobPhase.WORKING) and now <= view.terms.claim_deadline:
                    if self._answer_may_still_land(view):
                        continue
                    takes.append(view)
                else:
                    self._drop(view, "lost", f"no slot taken; phase {phase.name.lower()}")
            else:
                self._reconcile(view, stage)
                if stage == "committed" and phase == JobPhase.REVEALING:
                    reveals.append((view, slot))
                elif phase == JobPhase.SETTLEABLE:
                    settles.append(view)
        # reveals have a deadline and settles free collateral: both go before the model runs
        self._reveal(reveals)
        self._settle(settles)
        self._take(takes)

    def _answer_may_still_land(self, view: JobView) -> bool:
        """Whether a submit or commit we sent for `view` got no answer (a receipt timeout, a
        crash) while a transaction of ours is still pending: it may yet land, so the job is not run
        and sent again — a second run can give another result (GPU float order, sampling), and a
        commit that lands with the first result could then never be revealed."""
        entry = self.journal.get(view.job_id)
        if entry is None or entry.state not in ("submitting", "committing"):
            return False
        me = self.client.address
        eth = self.client.w3.eth
        if eth.get_transaction_count(me, "pending") <= eth.get_transaction_count(me, "latest"):
            return False
        log.info("job %d: still %s (no answer yet); waiting for our pending transactions", view.job_id, entry.state)
        return True

    def _count_waiting(self) -> None:
        """Jobs of each served model still waiting to run (for a fuller batch, for the draw's
        rounds to open the slot, for the model): the queue depth /metrics reports."""
        waiting = dict.fromkeys((runtime.manifest.name for runtime in self.runtimes.values()), 0)
        running = self._running_jobs()
        for view in self.views.values():
            if view.job_id in running:
                continue
            if view.slot_of(self.client.address)[0] is None and view.terms.model_id in self.runtimes:
                waiting[self.runtimes[view.terms.model_id].manifest.name] += 1
        self.queue_depth = waiting  # replaced whole: the API thread reads it

    def _reconcile(self, view: JobView, stage: str) -> None:
        """A slot we hold whose transaction's answer never reached us (a crash, a dropped reply):
        the chain shows it landed, so record the outcome the journal is missing. Checked once per
        stage: the journal only moves to a state in flight when we send the step that moves the
        stage on (a lookup per round for every job in its challenge window added up)."""
        if view.reconciled == stage:
            return
        view.reconciled = stage
        entry = self.journal.get(view.job_id)
        landed = {"submitting": "submitted", "committing": "committed", "revealing": "revealed"}
        if entry is not None and entry.state in landed and stage in (landed[entry.state], "revealed"):
            self.journal.record(view.job_id, landed[entry.state], "seen on chain")
            if entry.state != "revealing":
                self.counters.completed += 1

    def _take(self, views: list[JobView]) -> None:
        """Run and submit (r = 1) or commit (r >= 2) every job with a slot we may take now, a
        batch per model. Every check that can be made first is: refusing costs nothing, failing
        after taking a slot costs the collateral."""
        me = self.client.address
        limit = self.settings.max_active_jobs
        if limit is not None:  # the concurrency limit: the oldest jobs first, the rest wait
            held = len(self._running_jobs())
            held += sum(1 for view in self.views.values() if view.slot_of(me)[0] is not None)
            views = sorted(views, key=lambda view: view.job_id)[: max(0, limit - held)]
        asks = [(view, slot) for view in views for slot in view.empty_slots()]
        answers = self._read_batch([("eligible", (v.job_id, v.terms.encoded, s, me)) for v, s in asks])
        chosen: dict[int, tuple[JobView, int]] = {}
        for (view, slot), ok in zip(asks, answers, strict=True):
            if ok and view.job_id not in chosen:
                chosen[view.job_id] = (view, slot)
        by_model: dict[bytes, list[tuple[JobView, int]]] = {}
        for view, slot in chosen.values():
            by_model.setdefault(view.terms.model_id, []).append((view, slot))
        # models already in memory first: a model loaded for this round's last batch then stays
        for model_id, waiting in sorted(by_model.items(), key=lambda item: not self.residency.is_loaded(item[0])):
            if self.wedged:
                return  # the model thread is stuck: any new batch would only wait behind it
            oldest = min(view.seen_at for view, _ in waiting)
            inputs = sum(_inputs_of(view) for view, _ in waiting)
            if inputs < self.settings.batch_size and time.monotonic() - oldest < self.settings.batch_wait:
                continue  # wait a little for a fuller batch (the latency budget)
            self._run_batches(model_id, self._model_batches(waiting))
            if self.stopping.is_set():
                return

    def _model_batches(self, waiting: list[tuple[JobView, int]]) -> list[list[tuple[JobView, int]]]:
        """`waiting` cut into batches for the model thread, whose inputs go to the model in calls
        of `batch_size` (a batch job counts its inputs; one behind a URI counts as one until
        fetched). A batch ends where its inputs fill whole model calls, so that no part-filled
        call is wasted in the middle of the queue, or once it holds `PIPELINE_CALLS` calls' worth,
        so that one batch's transaction goes out while the next one's model runs."""
        size = self.settings.batch_size
        batches: list[list[tuple[JobView, int]]] = []
        inputs = 0
        for job in waiting:
            if not batches or inputs % size == 0 or inputs >= PIPELINE_CALLS * size:
                batches.append([])
                inputs = 0
            batches[-1].append(job)
            inputs += _inputs_of(job[0])
        return batches

    def _run_batches(self, model_id: bytes, batches: list[list[tuple[JobView, int]]], hold: bool = True) -> None:
        """Run and submit `batches` of one model as a pipeline: while one batch's transaction is
        out, the next batches (`PIPELINE_DEPTH`) run on the model thread, so the GPU (or CPU) is
        not idle while the worker waits for the chain. The last ones are left running: `_drain`
        submits them at the end of this round or, when more jobs were posted meanwhile, in the
        next one, after reading them while they ran. With `hold`, a last batch that fills less than a model
        call is kept back (`self.held`) while the model thread still runs this model: handed
        over now it would only wait in the queue, and a model call costs a GPU about as much
        part-filled as full. A stop lets the batch already running finish."""
        if self.held is not None and self.held[0] != model_id:
            self.held = None  # another model's jobs: read again next round
        try:
            for index, batch in enumerate(batches):
                if self.stopping.is_set() or self.wedged:
                    break
                part_filled = sum(_inputs_of(view) for view, _ in batch) < self.settings.batch_size
                if hold and part_filled and index == len(batches) - 1 and self._busy_with(model_id):
                    self.held = (model_id, batch)
                    break
                if self.pipeline and self.pipeline[-1].model_id != model_id:
                    self._finish_batches()  # loading this model may unload the one they run on
                prepared = self._prepare(model_id, batch)
                if prepared is not None:
                    runtime, ready = prepared
                    inputs = [data for _, _, data in ready]
                    progress = _Progress()
                    future = self.model_thread.submit(_run_model, runtime, inputs, self.settings.batch_size, progress)
                    self.pipeline.append(_Running(ready, future, model_id, progress, self.rounds))
                while len(self.pipeline) > PIPELINE_DEPTH:  # the newer ones run while the oldest is submitted
                    self._submit(self.pipeline.popleft())
        except BaseException:
            self._abandon_batches()
            raise

    def _busy_with(self, model_id: bytes) -> bool:
        """Whether the model thread has a batch of `model_id` not yet done."""
        return bool(self.pipeline) and self.pipeline[-1].model_id == model_id and not self.pipeline[-1].results.done()

    def _running_jobs(self) -> set[int]:
        """Jobs whose batch is on the model thread or waits to be submitted."""
        return {view.job_id for running in self.pipeline for view, _, _ in running.ready}

    def _finish_batches(self) -> None:
        """Submit every batch handed to the model thread, once its run ends."""
        try:
            while self.pipeline:
                self._submit(self.pipeline.popleft())
        except BaseException:
            self._abandon_batches()
            raise

    def _abandon_batches(self) -> None:
        """Let the batches on the model thread end unsubmitted (an error cut the pipeline short, or
        a reorg may have changed their jobs): their jobs are taken again next round. They are
        waited for, so that nothing unloads a model still running."""
        self.held = None
        while self.pipeline:
            left = self.pipeline.popleft()
            left.results.cancel()
            if self.wedged:
                continue  # a stuck thread will not end it: do not wait for that
            try:
                self._finished(left)
            except TimeoutError:  # stuck: later rounds must not queue behind it unawares
                self._wedge(left)
            except Exception:  # cancelled before it began (or failed): nothing left running
                pass

    def _prepare(self, model_id: bytes, batch: list[tuple[JobView, int]]) -> tuple[Runtime, list[_Ready]] | None:
        """The loaded runtime and the items of `batch` it can serve, journaled as "working"
        (None: nothing to run). Inputs are fetched and checked first: refusing costs nothing."""
        runtime = self.runtimes[model_id]
        fetched: list[_Ready] = []
        for view, slot in batch:
            try:
                data = view.input or fetch_payload(
                    view.input_uri, view.terms.input_hash, allow_private=self.client.allow_private_uris
                )
            except StorageError as exc:
                self._drop(view, "refused", f"input unavailable: {exc}")
                continue
            fetched.append((view, slot, data))
        ready = self._servable(runtime, fetched)
        if not ready:
            return None  # nothing to run: no model is loaded (and none unloaded) for refused inputs
        just_loaded = not self.residency.is_loaded(model_id)
        try:
            runtime = self.residency.acquire(model_id)
        except RuntimeLoadError as exc:  # nothing taken yet: the jobs stay for a later round
            log.error("cannot load %s: %s", runtime.manifest.name, exc)
            return None
        if just_loaded:  # checked again: a model just loaded may know more of its limits (a tokenizer's context)
            ready = self._servable(runtime, ready)
            if not ready:
                return None
        # always computed afresh: after a reorg the same id may name another job
        self.journal.record_many([JournalRecord(view.job_id, "working") for view, _, _ in ready])
        return runtime, ready

    def _submit(self, running: _Running) -> None:
        """Publish a batch's results once its model run is done, and submit or commit them."""
        # once a batch is stuck, the ones behind it on the model thread cannot run: not waited for
        try:
            results, seconds = self._finished(running)
        except TimeoutError:
            self._wedge(running)
            for view, _, _ in running.ready:  # no slot was taken for them: letting go costs nothing
                self._drop(view, "failed", "model run did not finish (the model thread is stuck)")
            return
        self.counters.record_batch(len(results), seconds)
        done: list[tuple[JobView, int, bytes]] = []
        for (view, slot, _), payload in zip(running.ready, results, strict=True):
            if isinstance(payload, Exception):
                self._drop(view, "failed", f"model failed: {payload!r}")
            elif len(payload) > MAX_PAYLOAD_BYTES:  # no slot is taken yet: failing now costs nothing
                why = f"result of {len(payload)} bytes; requesters fetch at most {MAX_PAYLOAD_BYTES} (fewer inputs)"
                self._drop(view, "failed", why)
            else:
                done.append((view, slot, payload))
        digests = self.store.put_many([payload for _, _, payload in done])
        steps: list[_Step] = []
        for (view, slot, payload), digest in zip(done, digests, strict=True):
            uri = self._publish(digest, payload)
            step: tuple[str, list[Any]]
            if view.terms.redundancy == 1:
                intent = JournalRecord(view.job_id, "submitting", uri, digest, 0)
                step = ("submitResult", [digest, uri, self._inline(view, digest)])
            else:
                # the salt is journaled before the commitment leaves: without it we could never reveal.
                # A commit whose answer was lost may still land later, so its salt is kept for a retry.
                entry = self.journal.get(view.job_id)
                salt = entry.salt if entry is not None and entry.salt else os.urandom(32)
                intent = JournalRecord(view.job_id, "committing", uri, digest, slot, salt)
                step = ("commit", [slot, commitment_of(view.job_id, self.client.address, digest, salt)])
            steps.append(_Step(view, step[0], step[1], intent))
        self._send_steps(steps, self._take_outcome)

    def _wedge(self, running: _Running) -> None:
        """Record that `running`'s model call is stuck: no more jobs are taken."""
        if not self.wedged:
            name = self.runtimes[running.model_id].manifest.name
            self.wedged = (
                f"model {name} has run one model batch for more than {self.settings.model_timeout:g} s; "
                "the worker takes no more jobs until it is restarted"
            )
            log.error("%s", self.wedged)

    def _finished(self, running: _Running) -> tuple[list[bytes | Exception], float]:
        """`running`'s results once its run ends; TimeoutError once one of its model calls has
        taken more than `model_timeout` (a batch job of many inputs may take far longer in all)."""
        while True:
            try:
                return running.results.result(timeout=0.0 if self.wedged else self._time_left(running))
            except TimeoutError:
                if self.wedged or self._time_left(running) <= 0:
                    raise

    def _time_left(self, running: _Running) -> float:
        """Seconds `running`'s current model call may still take before its model counts as stuck.
        A run not started yet waits behind one that is watched itself: it gets the full time."""
        began = running.progress.at
        if began is None:
            return self.settings.model_timeout
        return max(0.0, began + self.settings.model_timeout - time.monotonic())

    def _servable(self, runtime: Runtime, items: list[_Ready]) -> list[_Ready]:
        """The items whose input the runtime can serve; the others are refused (no slot was taken)."""
        servable = []
        for view, slot, data in items:
            if view.job_id not in self.views:
                continue  # refused already
            problem = self._batch_problem(runtime, view, data) if is_batch(data) else runtime.check_input(data)
            if problem is None:
                servable.append((view, slot, data))
            else:
                self._drop(view, "refused", problem)
        return servable

    def _batch_problem(self, runtime: Runtime, view: JobView, data: bytes) -> str | None:
        """Why the batch job `view` with input `data` is not taken (malformed, too many items,
        too little pay per item, an item the model refuses), or None."""
        try:
            items = decode_batch(data)
        except BatchFormatError as exc:
            return str(exc)
        if len(items) > self.settings.max_batch_items:
            return f"batch of {len(items)} inputs; this worker takes at most {self.settings.max_batch_items}"
        per_item = view.terms.reward // view.terms.redundancy // len(items)
        if view.terms.token == ZERO_ADDRESS and per_item < self.settings.min_reward:
            return f"pays {per_item} wei an input (min_reward {self.settings.min_reward})"
        for index, item in enumerate(items):
            problem = runtime.check_input(item)
            if problem is not None:
                return f"batch input {index}: {problem}"
        return None

    def _publish(self, digest: bytes, payload: bytes) -> str:
        """The result's URI: on the configured storage backend, else (or when it fails) the
        worker's own API, which serves every result it stored."""
        own = f"{self.base_url}/results/0x{digest.hex()}"
        if self.storage is None:
            return own
        try:
            return self.storage.put(payload)
        except (StorageError, OSError) as exc:
            log.warning("publishing 0x%s failed (%s); serving it from %s", digest.hex()[:16], exc, own)
            return own

    def _take_outcome(self, step: _Step) -> str:
        self.counters.completed += 1
        log.info("job %d: slot taken, result 0x%s", step.view.job_id, (step.intent.result_hash or b"").hex()[:16])
        return "submitted" if step.view.terms.redundancy == 1 else "committed"

    def _reveal(self, reveals: list[tuple[JobView, int]]) -> None:
        steps: list[_Step] = []
        for view, slot in reveals:
            entry = self.journal.get(view.job_id)
            if entry is None or entry.salt is None or entry.result_hash is None:
                self._drop(view, "failed", "committed on chain but the journal has no salt: cannot reveal")
                continue
            digest = entry.result_hash
            uri = f"{self.base_url}/results/0x{digest.hex()}"
            args = [slot, digest, entry.salt, uri, self._inline(view, digest)]
            steps.append(_Step(view, "reveal", args, JournalRecord(view.job_id, "revealing")))
        self._send_steps(steps, lambda step: "revealed")

    def _settle(self, views: list[JobView]) -> None:
        """Settle jobs whose windows have passed; anyone may, so a revert usually means someone did
        (the next round's logs tell)."""
        steps: list[_Step] = []
        for view in views:
            entry = self.journal.get(view.job_id)
            result = b""
            if entry is not None and entry.result_hash is not None and view.terms.consumer != ZERO_ADDRESS:
                result = self.store.get(entry.result_hash) or b""
            intent = JournalRecord(view.job_id, "settling")
            steps.append(_Step(view, "settle", [view.outcome(), result], intent))
        self._send_steps(steps, lambda step: None)
        unsettled = [view for view in views if not view.closed]
        if unsettled:  # our settle failed: most likely someone else's landed first
            since = min(view.posted_block for view in unsettled)
            self._load([view.job_id for view in unsettled], self.client.w3.eth.block_number, since)
        for view in views:
            view = self.views.get(view.job_id, view)
            if view.closed:
                self._closed(view)

    def _send_steps(self, steps: list[_Step], outcome: Callable[[_Step], str | None]) -> None:
        """Send `steps`, many per transaction (`multicall`), each intent journaled first, then the
        `outcome` state of each (None: nothing to record). When a batch would revert (a slot lost
        to a race, a window just closed), its steps are sent one by one so the others still land;
        what happened to each is read from the chain next round."""
        for first in range(0, len(steps), MAX_CALLS_PER_TX):
            chunk = steps[first : first + MAX_CALLS_PER_TX]
            self.journal.record_many([step.intent for step in chunk])
            try:
                receipt = self._transact(chunk)
            except (ContractRevert, TransactionFailed) as exc:
                if len(chunk) == 1:
                    log.info("job %d: %s did not go through: %s", chunk[0].view.job_id, chunk[0].function, exc)
                else:
                    log.info("%d %s calls would not all land (%s); one by one", len(chunk), chunk[0].function, exc)
                    for step in chunk:
                        self._send_steps([step], outcome)
                continue
            except OSError as exc:
                self.retry |= {step.view.job_id for step in chunk}
                unsent = f"{len(chunk)} {chunk[0].function} call(s) not sent; their jobs are read again next round"
                self._rpc_error(exc, unsent)
                continue
            for function in {step.function for step in chunk}:
                self._failpoint(FAILPOINTS[function])
            for event in self.scanner.decode(receipt["logs"]):  # known now, not only after the next scan
                self._on_event(event)
            tx = receipt["transactionHash"].hex()
            states = [(step.view.job_id, outcome(step)) for step in chunk]
            self.journal.record_many([JournalRecord(job_id, state, tx) for job_id, state in states if state])

    def _transact(self, steps: list[_Step]) -> TxReceipt:
        if len(steps) == 1:  # through web3, so that a revert is decoded into its typed error
            step = steps[0]
            call = getattr(self.client.market.functions, step.function)
            return self._record(self.client.transact(call(step.view.job_id, step.view.terms.as_tuple(), *step.args)))
        calls = [
            self.calldata.encode(step.function, step.view.job_id, step.view.terms.encoded, *step.args) for step in steps
        ]
        data = self.calldata.encode("multicall", calls)
        # raw calldata: web3 would re-validate the whole byte tree twice (estimate and send)
        return self._record(
            self.client.send_raw(data, label=f"multicall of {len(steps)} {steps[0].function}", raw_logs=True)
        )

    def _read_batch(self, calls: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        """The first return value of each market view call `(function, args)`, in one JSON-RPC
        batch request per `READ_BATCH` calls."""
        answers: list[Any] = []
        market = self.client.market.address
        for first in range(0, len(calls), READ_BATCH):
            chunk = calls[first : first + READ_BATCH]
            requests = [
                ("eth_call", [{"to": market, "data": "0x" + self.calldata.encode(name, *args).hex()}, LATEST])
                for name, args in chunk
            ]
            responses = self.client.w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
            if not isinstance(responses, list):  # the whole batch was refused
                raise ChainError(f"batch of {len(chunk)} calls failed: {responses}")
            for (name, _), response in zip(chunk, sorted(responses, key=lambda r: int(r["id"])), strict=True):
                if "error" in response:
                    raise ChainError(f"{name} failed: {response['error']}")
                answers.append(self.calldata.decode(name, bytes.fromhex(str(response["result"])[2:]))[0])
        return answers

    def _closed(self, view: JobView) -> None:
        """Record how a job we followed ended, and what it paid us."""
        self.views.pop(view.job_id, None)
        entry = self.journal.get(view.job_id)
        if entry is None or entry.state in FINISHED:
            return
        earned = view.paid.get(self.client.address, 0)
        self.counters.settled += 1
        self.counters.earned_wei += earned
        self.journal.record(view.job_id, "settled", f"earned {earned} wei")
        log.info("job %d: settled, earned %d wei", view.job_id, earned)

    def _inline(self, view: JobView, digest: bytes) -> bytes:
        """Result bytes to put on chain: only for consumer contracts, and only when small."""
        if view.terms.consumer == ZERO_ADDRESS:
            return b""
        payload = self.store.get(digest) or b""
        return payload if len(payload) <= MAX_INLINE_RESULT else b""

    def _drop(self, view: JobView, state: str, reason: str) -> None:
        self.views.pop(view.job_id, None)
        if state == "refused":
            self.counters.refused += 1
            log.warning("job %d: not taken: %s", view.job_id, reason)
            return
        if self.journal.get(view.job_id) is not None or state == "failed":
            if state == "failed":
                self.counters.failed += 1
                log.error("job %d: %s", view.job_id, reason)
            self.journal.record(view.job_id, state, reason)

    def _chain_time(self) -> int:
        """The latest block's timestamp, read unformatted (web3 would format the whole block)."""
        return int(raw_request(self.client.w3, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def _record(self, receipt: TxReceipt) -> TxReceipt:
        self.counters.gas_spent_wei += gas_cost(receipt)
        return receipt

    def _failpoint(self, step: str) -> None:
        if self.settings.failpoint == step:
            log.warning("failpoint %r: killing the worker", step)
            os.kill(os.getpid(), signal.SIGKILL)
