"""The worker loop: watch for jobs, claim what we serve, run, publish, submit, finalize.

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
    JobPhase,
    StorageError,
    TransactionFailed,
    fetch_payload,
    gas_cost,
)
from assay._logs import iter_logs
from tenacity import before_sleep_log, retry, retry_if_exception_type, stop_after_delay, wait_exponential_jitter
from web3.exceptions import BlockNotFound
from web3.logs import DISCARD
from web3.types import EventData, TxReceipt

from .api import ApiServer, create_app
from .journal import Journal, recent_jobs
from .metrics import metrics_text
from .results import ResultStore
from .runtimes import Runtime, create_runtime

log = logging.getLogger("assay.worker")

STARTUP_RETRY_SECONDS = 120
"""How long start-up keeps retrying an unreachable RPC before giving up with an error."""

REORG_MARGIN = 12
"""Blocks re-scanned below the saved cursor on start: logs of reorganised blocks are seen again."""

FAILPOINTS = ("claim", "submit", "finalize")
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
    failpoint: str | None = None


@dataclass
class Counters:
    completed: int = 0
    finalized: int = 0
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
        self.journal.bind(deployment.chain_id, deployment.job_market, client.address, anchor)
        self.runtimes: dict[bytes, Runtime] = {}
        for name in settings.models:
            runtime = create_runtime(name)
            self.runtimes[runtime.manifest.model_id] = runtime
        self.counters = Counters()
        self.to_finalize: dict[int, int] = {}  # job id -> challenge end timestamp
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
            "jobs_finalized": self.counters.finalized,
            "jobs_failed": self.counters.failed,
            "jobs_refused": self.counters.refused,
            "jobs_resumed": self.counters.resumed,
            "awaiting_finalization": len(self.to_finalize),
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
            log.info("worker stopped; %d job(s) await finalization", len(self.to_finalize))

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
        free = self.client.stake_of().free
        if free < self.settings.stake:
            receipt = self._record(self.client.stake(self.settings.stake - free))
            log.info("staked %d wei (gas %d)", self.settings.stake - free, receipt["gasUsed"])

    def _poll_once(self) -> None:
        """One round: retry jobs left over, scan new logs, finalize what is due. Every step is
        decided from the chain's state, so a step repeated after a transport error is safe; an
        error on one job leaves it for the next round without holding up the others."""
        try:
            for job_id in sorted(self.retry):
                events = self.client.market.events.JobPosted.get_logs(
                    from_block=self.client.deployment.start_block, argument_filters={"jobId": job_id}
                )
                self.retry.discard(job_id)
                if events:
                    self._advance_safely(events[-1])  # the latest posting under this id
                else:
                    log.warning("job %d: no longer on chain (reorganised away); dropped", job_id)
                    self.journal.record(job_id, "lost", "no JobPosted event on this chain")
            self._detect_reorg()
            head = self.client.w3.eth.block_number - self.settings.confirmations
            for event in iter_logs(self.client.market.events.JobPosted, self.cursor, head):
                if self.stopping.is_set():
                    return  # the cursor stays put; jobs already handled are no longer open
                self._advance_safely(event)
            if head >= self.cursor:
                self.cursor = head + 1
                self.journal.cursor = self.cursor
                self._remember_block(head)
            self._finalize_due()
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
        self.to_finalize.clear()  # re-derived from the chain through the retried jobs
        self.retry |= {entry.job_id for entry in self.journal.unfinished()}

    def _advance_safely(self, event: EventData) -> None:
        try:
            self._advance(event)
        except OSError as exc:
            self.retry.add(int(event["args"]["jobId"]))
            self._rpc_error(exc)

    def _rpc_error(self, exc: OSError) -> None:
        self.counters.rpc_errors += 1
        log.warning("RPC error, retrying next round: %s", exc)

    def _advance(self, event: EventData) -> None:
        """Take the job one or more steps forward from the state the chain reports."""
        args = event["args"]
        job_id = int(args["jobId"])
        runtime = self.runtimes.get(bytes(args["modelId"]))
        if runtime is None:
            return
        info = self.client.job(job_id).info()
        mine = info.worker == self.client.address
        known = self.journal.get(job_id) is not None
        if info.phase == JobPhase.OPEN:
            if not self._claim(job_id, runtime, args):
                return
        elif info.phase == JobPhase.CLAIMED and mine:
            pass  # claimed before a restart: compute and submit below
        elif info.phase in (JobPhase.SUBMITTED, JobPhase.FINALIZABLE) and mine:
            self.to_finalize[job_id] = info.challenge_end
            self.journal.record(job_id, "submitted", "found submitted on chain", challenge_end=info.challenge_end)
            return
        elif info.phase == JobPhase.FINALIZED and mine:
            if known:
                self.journal.record(job_id, "finalized", "found finalized on chain")
            return
        else:
            if known:  # someone else's now, or expired: nothing more to do
                self.journal.record(job_id, "lost", f"phase {info.phase.name}, worker {info.worker}")
            return
        self._submit(job_id, runtime, args)

    def _claim(self, job_id: int, runtime: Runtime, args: Any) -> bool:
        # everything that can be checked before claiming is: refusing costs nothing, failing later
        # costs the collateral
        try:
            data = self._input_of(args)
        except StorageError as exc:
            return self._refuse(job_id, f"input unavailable: {exc}")
        problem = runtime.check_input(data)
        if problem is not None:
            return self._refuse(job_id, problem)
        self.journal.record(job_id, "claiming")
        try:
            receipt = self._record(self.client.claim(job_id))
        except (ContractRevert, TransactionFailed) as exc:
            # lost a race, cannot afford the collateral, or our own earlier claim (whose answer
            # was lost) landed first: the chain says which
            if self._holds(job_id, JobPhase.CLAIMED):
                self.journal.record(job_id, "claimed", "found claimed by us on chain")
                return True
            self.journal.record(job_id, "lost", str(exc))
            return self._refuse(job_id, str(exc))
        self._failpoint("claim")
        self.journal.record(job_id, "claimed", receipt["transactionHash"].hex())
        log.info("job %d: claimed (gas %d)", job_id, receipt["gasUsed"])
        return True

    def _holds(self, job_id: int, *phases: JobPhase) -> bool:
        """Whether the chain shows `job_id` as ours and in one of `phases`."""
        info = self.client.job(job_id).info()
        return info.worker == self.client.address and info.phase in phases

    def _submit(self, job_id: int, runtime: Runtime, args: Any) -> None:
        try:
            (payload,) = runtime.run([self._input_of(args)])
            digest = self.store.put(payload)
            uri = f"{self.base_url}/results/0x{digest.hex()}"
            self.journal.record(job_id, "submitting", uri, result_hash=digest)
            receipt = self._record(self.client.submit_result(job_id, digest, uri))
        except OSError:
            raise  # a transport error is no verdict on the job: it is retried next round
        except AssayError as exc:
            if not self._holds(job_id, JobPhase.SUBMITTED, JobPhase.FINALIZABLE):
                self.counters.failed += 1
                self.journal.record(job_id, "failed", repr(exc))
                log.error("job %d: submitting failed: %s", job_id, exc)
                return
            # our own earlier submission (whose answer was lost) landed first
            receipt = None
        except Exception as exc:  # one failed job must never stop the worker; it expires and is refunded
            self.counters.failed += 1
            self.journal.record(job_id, "failed", repr(exc))
            log.error("job %d: failed after claiming: %r", job_id, exc)
            return
        self._failpoint("submit")
        challenge_end = self.client.job(job_id).info().challenge_end
        how = receipt["transactionHash"].hex() if receipt else "found submitted by us on chain"
        self.journal.record(job_id, "submitted", how, challenge_end=challenge_end)
        self.counters.completed += 1
        self.to_finalize[job_id] = challenge_end
        log.info("job %d: submitted 0x%s (%s)", job_id, digest.hex()[:16], how)

    def _input_of(self, args: Any) -> bytes:
        inline = bytes(args["input"])
        if inline:
            return inline
        return fetch_payload(args["inputURI"], bytes(args["inputHash"]), allow_private=self.client.allow_private_uris)

    def _refuse(self, job_id: int, reason: str) -> bool:
        self.counters.refused += 1
        log.warning("job %d: not claimed: %s", job_id, reason)
        return False

    def _finalize_due(self) -> None:
        # the chain's clock, not ours: a finalize estimated against an earlier block would revert
        now = self.client.w3.eth.get_block("latest")["timestamp"]
        for job_id, challenge_end in sorted(self.to_finalize.items()):
            if challenge_end > now:
                continue
            self.journal.record(job_id, "finalizing")
            try:
                receipt = self._record(self.client.finalize(job_id))
                self._failpoint("finalize")
                (paid,) = self.client.market.events.JobFinalized().process_receipt(receipt, errors=DISCARD)
                log.info("job %d: finalized (gas %d)", job_id, receipt["gasUsed"])
            except ContractRevert as exc:
                if exc.name == "MarketChallengeWindowOpen":
                    continue
                # finalized already: by anyone (anyone may), or by our own transaction whose answer
                # was lost; the payout is ours all the same. No such event: a reorg removed the job.
                found = self.client.market.events.JobFinalized.get_logs(
                    from_block=self.client.deployment.start_block, argument_filters={"jobId": job_id}
                )
                del self.to_finalize[job_id]
                if not found:
                    self.journal.record(job_id, "lost", f"cannot finalize: {exc}")
                    continue
                paid = found[0]
                log.info("job %d: already finalized (%s)", job_id, exc.name)
            except OSError as exc:
                self._rpc_error(exc)
                continue
            else:
                del self.to_finalize[job_id]
            self.counters.finalized += 1
            self.counters.earned_wei += int(paid["args"]["workerPay"])
            self.journal.record(job_id, "finalized")

    def _record(self, receipt: TxReceipt) -> TxReceipt:
        self.counters.gas_spent_wei += gas_cost(receipt)
        return receipt

    def _failpoint(self, step: str) -> None:
        if self.settings.failpoint == step:
            log.warning("failpoint %r: killing the worker", step)
            os.kill(os.getpid(), signal.SIGKILL)
