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
from dataclasses import dataclass, field
from typing import Any

from assay import (
    AssayClient,
    AssayError,
    ContractRevert,
    Job,
    JobPhase,
    JobTerms,
    StorageError,
    TransactionFailed,
    gas_cost,
)
from assay._jobs import ZERO_ADDRESS
from assay._logs import iter_logs
from tenacity import before_sleep_log, retry, retry_if_exception_type, stop_after_delay, wait_exponential_jitter
from web3.exceptions import BlockNotFound
from web3.types import EventData, TxReceipt

from .api import ApiServer, create_app
from .journal import FINISHED, Journal, JournalEntry, recent_jobs
from .metrics import metrics_text
from .results import ResultStore
from .runtimes import Runtime, create_runtime

log = logging.getLogger("assay.worker")

STARTUP_RETRY_SECONDS = 120
"""How long start-up keeps retrying an unreachable RPC before giving up with an error."""

REORG_MARGIN = 12
"""Blocks re-scanned below the saved cursor on start: logs of reorganised blocks are seen again."""

MAX_INLINE_RESULT = 4_096
"""Longest result carried on chain (`AssayMarket.MAX_INLINE_RESULT`), for consumer contracts."""

_SLOT_STAGES = ("empty", "accepted", "committed", "revealed", "slashed")  # IAssayMarket.SlotStage

FAILPOINTS = ("submit", "commit", "reveal", "settle")
"""Testing only: with $ASSAY_WORKER_FAILPOINT=<step> the worker SIGKILLs itself right after that
step's transaction returns and before the journal records its outcome, the worst moment."""


@dataclass
class WorkerSettings:
    """What a worker serves and how it behaves; see `assay_worker.__main__` for the options."""

    models: list[str]
    results_dir: str
    journal_path: str
    host: str = "127.0.0.1"
    port: int = 8600
    public_url: str | None = None
    stake: int = 10**17
    poll_interval: float = 0.5
    confirmations: int = 0
    open_claiming: bool = True
    """Also take slots nobody was drawn for (after two accept windows), not only our own draws."""
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
    model_load_seconds: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.time)


class Worker:
    """One worker account serving a set of models."""

    def __init__(self, client: AssayClient, settings: WorkerSettings) -> None:
        self.client = client
        self.settings = settings
        self.store = ResultStore(settings.results_dir)
        self.journal = Journal(settings.journal_path)
        deployment = client.deployment
        anchor = client.w3.eth.get_block(deployment.start_block)["hash"].hex()
        self.journal.bind(deployment.chain_id, deployment.market, client.address, anchor)
        self.runtimes: dict[bytes, Runtime] = {}
        for name in settings.models:
            runtime = create_runtime(name)
            self.runtimes[runtime.manifest.model_id] = runtime
        self.counters = Counters()
        self.active: dict[int, Job] = {}  # jobs we hold a slot of, or may still get one of
        saved = self.journal.cursor
        start = client.deployment.start_block
        self.cursor = start if saved is None else max(start, saved - REORG_MARGIN)
        self.stopping = threading.Event()
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
            "last_block": self.cursor - 1,
            "jobs_completed": self.counters.completed,
            "jobs_settled": self.counters.settled,
            "jobs_failed": self.counters.failed,
            "jobs_refused": self.counters.refused,
            "jobs_resumed": self.counters.resumed,
            "active_jobs": len(self.active),
            "earned_wei": self.counters.earned_wei,
            "reorgs": self.counters.reorgs,
            "gas_spent_wei": self.counters.gas_spent_wei,
        }

    def metrics(self) -> bytes:
        return metrics_text(self)

    def recent_jobs(self) -> list[dict[str, Any]]:
        return recent_jobs(self.settings.journal_path)

    def run(self) -> None:
        """Load models, top up stake, resume the journal, serve the API and process jobs until `stop()`."""
        for runtime in self.runtimes.values():
            started = time.monotonic()
            runtime.load()
            seconds = time.monotonic() - started
            self.counters.model_load_seconds[runtime.manifest.name] = seconds
            log.info("loaded %s in %.1f s", runtime.manifest.name, seconds)
        self._ensure_stake()
        self.api.start()
        log.info("worker %s ready; results served at %s", self.client.address, self.base_url)
        try:
            while not self.stopping.is_set():
                self._poll_once()
                self.stopping.wait(self.settings.poll_interval)
        finally:
            self.api.stop()
            self.journal.close()
            log.info("worker stopped; %d job(s) in flight resume on the next start", len(self.active))

    def stop(self) -> None:
        self.stopping.set()

    @retry(
        retry=retry_if_exception_type(OSError),
        stop=stop_after_delay(STARTUP_RETRY_SECONDS),
        wait=wait_exponential_jitter(initial=0.5, max=5),
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
            joined = self.client.join_model(runtime.manifest)
            if joined is not None:
                log.info("joined the draws of %s", runtime.manifest.name)

    def _poll_once(self) -> None:
        """One round: reload jobs left over, scan new logs, then move every followed job forward.
        Every step is decided from the chain's state, so a step repeated after a transport error
        is safe; an error on one job leaves it for the next round without holding up the others."""
        try:
            for job_id in sorted(self.retry):
                job = self.client.job(job_id)
                self.retry.discard(job_id)
                try:
                    self.active[job_id] = Job(self.client, job_id, job.terms)
                except AssayError:
                    log.warning("job %d: no longer on chain (reorganised away); dropped", job_id)
                    self.journal.record(job_id, "lost", "no JobPosted event on this chain")
            self._detect_reorg()
            head = self.client.w3.eth.block_number - self.settings.confirmations
            for event in iter_logs(self.client.market.events.JobPosted, self.cursor, head):
                self._consider(event)
            if head >= self.cursor:
                self.cursor = head + 1
                self.journal.cursor = self.cursor
                self._remember_block(head)
            for job in sorted(self.active.values(), key=lambda j: j.id):
                if self.stopping.is_set():
                    return
                self._advance_safely(job)
        except AssayError as exc:
            log.warning("poll failed: %s", exc)
        except OSError as exc:  # the scan itself failed: the whole round is repeated
            self._rpc_error(exc)

    def _remember_block(self, number: int) -> None:
        self.block_hashes[number] = self.client.w3.eth.get_block(number)["hash"]
        for old in [n for n in self.block_hashes if n <= number - REORG_MARGIN]:
            del self.block_hashes[old]

    def _detect_reorg(self) -> None:
        """Compare the hashes of recently scanned blocks with the chain's; on a difference, scan
        again from the first replaced block and re-examine every unfinished job."""
        fork = None
        for number in sorted(self.block_hashes, reverse=True):
            try:
                current = self.client.w3.eth.get_block(number)["hash"]
            except BlockNotFound:  # the chain is now shorter than what we saw
                current = None
            if current == self.block_hashes[number]:
                break
            fork = number
        if fork is None:
            return
        log.warning("reorg: blocks from %d on were replaced; scanning them again", fork)
        self.counters.reorgs += 1
        self.cursor = min(self.cursor, fork)
        self.block_hashes = {n: h for n, h in self.block_hashes.items() if n < fork}
        self.active.clear()  # re-derived from the chain: rescanned logs and the journal
        self.retry |= {entry.job_id for entry in self.journal.unfinished()}

    def _advance_safely(self, job: Job) -> None:
        try:
            self._advance(job)
        except OSError as exc:
            self.retry.add(job.id)
            self._rpc_error(exc)
        except Exception as exc:  # one failed job must never stop the worker; it expires and is refunded
            self._drop(job, "failed", f"{exc!r}")

    def _rpc_error(self, exc: OSError) -> None:
        self.counters.rpc_errors += 1
        log.warning("RPC error, retrying next round: %s", exc)

    def _consider(self, event: EventData) -> None:
        """A newly posted job: follow it when we serve its model and may get a slot."""
        args = event["args"]
        if bytes(args["modelId"]) not in self.runtimes:
            return
        job = Job(self.client, int(args["jobId"]), JobTerms.from_event(args["terms"]))
        me = self.client.address
        if job.terms.allowlist and me not in job.terms.allowlist:
            return
        if not (me in job.terms.assignees or job.terms.allowlist or self.settings.open_claiming):
            return
        self.active[job.id] = job

    def _advance(self, job: Job) -> None:
        """Take the job one or more steps forward from the state the chain reports."""
        phase = job.status()
        entry = self.journal.get(job.id)
        if phase == JobPhase.NONE:  # reorganised away
            self._drop(job, "lost", "no longer on chain")
            return
        if phase == JobPhase.CLOSED:
            self._closed(job)
            return
        slot, stage = self._my_slot(job)
        if slot is None:
            self._take(job, phase, entry)
        elif stage == "committed" and phase == JobPhase.REVEALING:
            self._reveal(job, slot, entry)
        elif phase == JobPhase.SETTLEABLE:
            self._settle(job, entry)

    def _my_slot(self, job: Job) -> tuple[int | None, str]:
        """The slot we hold and how far it got: `submitted` (single slot), `committed`, `revealed`."""
        me = self.client.address
        if job.terms.redundancy == 1:
            worker, _, _ = job.outcome()
            return (0, "submitted") if worker == me else (None, "")
        for index in range(job.terms.redundancy):
            (holder, stage), _ = self.client.market.functions.slotOf(job.id, index).call()
            if holder == me:
                return index, _SLOT_STAGES[stage]
        return None, ""

    def _empty_slots(self, job: Job) -> list[int]:
        """Slots nobody holds (the market's `eligible` says who may take a slot, not whether it is free)."""
        if job.terms.redundancy == 1:
            return [0] if job.outcome()[0] == ZERO_ADDRESS else []
        slots = range(job.terms.redundancy)
        return [i for i in slots if self.client.market.functions.slotOf(job.id, i).call()[0][0] == ZERO_ADDRESS]

    def _take(self, job: Job, phase: JobPhase, entry: JournalEntry | None) -> None:
        """Run the job and submit (r = 1) or commit (r >= 2) for a slot we may take now. Every
        check that can be made first is: refusing costs nothing, failing after taking a slot costs
        the collateral."""
        now = self._chain_time()
        if phase not in (JobPhase.ASSIGNING, JobPhase.WORKING) or now > job.terms.claim_deadline:
            self._drop(job, "lost", f"no slot taken; phase {phase.name.lower()}")
            return
        slot = next((i for i in self._empty_slots(job) if self.client.eligible(job, i)), None)
        if slot is None:
            return  # not our turn (yet): a later draw round or open claiming may let us in
        runtime = self.runtimes[job.terms.model_id]
        try:
            data = job.input
        except StorageError as exc:
            self._drop(job, "refused", f"input unavailable: {exc}")
            return
        problem = runtime.check_input(data)
        if problem is not None:
            self._drop(job, "refused", problem)
            return
        # always computed afresh: after a reorg the same id may name another job
        self.journal.record(job.id, "working")
        (payload,) = runtime.run([data])
        digest = self.store.put(payload)
        uri = f"{self.base_url}/results/0x{digest.hex()}"
        inline = self._inline(job, digest)
        try:
            if job.terms.redundancy == 1:
                self.journal.record(job.id, "submitting", uri, result_hash=digest, slot=0)
                receipt = self._record(self.client.submit_result(job, digest, uri, inline))
                self._failpoint("submit")
                self.journal.record(job.id, "submitted", receipt["transactionHash"].hex())
            else:
                # the salt is journaled before the commitment leaves: without it we could never reveal.
                # A commit whose answer was lost may still land later, so its salt is kept for a retry.
                retrying = entry is not None and entry.state == "committing" and entry.salt is not None
                salt = entry.salt if retrying and entry is not None and entry.salt else os.urandom(32)
                self.journal.record(job.id, "committing", uri, result_hash=digest, slot=slot, salt=salt)
                receipt = self._record(self.client.commit(job, slot, digest, salt))
                self._failpoint("commit")
                self.journal.record(job.id, "committed", receipt["transactionHash"].hex())
        except (ContractRevert, TransactionFailed) as exc:
            # lost a race for the slot, or the window closed; the chain says whether we hold it
            if self._my_slot(job)[0] is None:
                log.info("job %d: slot %d not taken: %s", job.id, slot, exc)
                return
        self.counters.completed += 1
        log.info("job %d: slot %d taken, result 0x%s", job.id, slot, digest.hex()[:16])

    def _reveal(self, job: Job, slot: int, entry: JournalEntry | None) -> None:
        if entry is None or entry.salt is None or entry.result_hash is None:
            self._drop(job, "failed", "committed on chain but the journal has no salt: cannot reveal")
            return
        digest = entry.result_hash
        uri = f"{self.base_url}/results/0x{digest.hex()}"
        self.journal.record(job.id, "revealing")
        try:
            receipt = self._record(self.client.reveal(job, slot, digest, entry.salt, uri, self._inline(job, digest)))
        except (ContractRevert, TransactionFailed) as exc:
            if self._my_slot(job)[1] != "revealed":
                log.warning("job %d: reveal failed: %s", job.id, exc)
                return
        else:
            self._failpoint("reveal")
            self.journal.record(job.id, "revealed", receipt["transactionHash"].hex())
        log.info("job %d: revealed slot %d", job.id, slot)

    def _settle(self, job: Job, entry: JournalEntry | None) -> None:
        """Settle a job whose window has passed; anyone may, so a revert usually means someone did."""
        result = b""
        if entry is not None and entry.result_hash is not None and job.terms.consumer != ZERO_ADDRESS:
            result = self.store.get(entry.result_hash) or b""
        self.journal.record(job.id, "settling")
        try:
            self._record(self.client.settle(job, result))
            self._failpoint("settle")
        except (ContractRevert, TransactionFailed) as exc:
            log.info("job %d: settle did not go through (%s); checking the chain", job.id, exc)
        if job.status() == JobPhase.CLOSED:
            self._closed(job)

    def _closed(self, job: Job) -> None:
        """Record how a job we followed ended, and what it paid us."""
        me = self.client.address
        paid = self.client.market.events.WorkerPaid.get_logs(
            from_block=self.client.deployment.start_block, argument_filters={"jobId": job.id, "worker": me}
        )
        earned = sum(int(e["args"]["amount"]) for e in paid)
        entry = self.journal.get(job.id)
        if entry is None or entry.state in FINISHED:
            self.active.pop(job.id, None)
            return
        self.counters.settled += 1
        self.counters.earned_wei += earned
        self._drop(job, "settled", f"earned {earned} wei")
        log.info("job %d: settled, earned %d wei", job.id, earned)

    def _inline(self, job: Job, digest: bytes) -> bytes:
        """Result bytes to put on chain: only for consumer contracts, and only when small."""
        if job.terms.consumer == ZERO_ADDRESS:
            return b""
        payload = self.store.get(digest) or b""
        return payload if len(payload) <= MAX_INLINE_RESULT else b""

    def _drop(self, job: Job, state: str, reason: str) -> None:
        self.active.pop(job.id, None)
        if state == "refused":
            self.counters.refused += 1
            log.warning("job %d: not taken: %s", job.id, reason)
            return
        if self.journal.get(job.id) is not None or state == "failed":
            if state == "failed":
                self.counters.failed += 1
                log.error("job %d: %s", job.id, reason)
            self.journal.record(job.id, state, reason)

    def _chain_time(self) -> int:
        return int(self.client.w3.eth.get_block("latest")["timestamp"])

    def _record(self, receipt: TxReceipt) -> TxReceipt:
        self.counters.gas_spent_wei += gas_cost(receipt)
        return receipt

    def _failpoint(self, step: str) -> None:
        if self.settings.failpoint == step:
            log.warning("failpoint %r: killing the worker", step)
            os.kill(os.getpid(), signal.SIGKILL)
