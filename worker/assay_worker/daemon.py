"""The worker loop: watch for jobs, claim what we serve, run, publish, submit, finalize."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from assay import AssayClient, AssayError, ContractRevert, JobPhase, StorageError, fetch_payload, gas_cost
from assay._logs import iter_logs
from web3.types import EventData, TxReceipt

from .api import ApiServer, create_app
from .results import ResultStore
from .runtimes import Runtime, create_runtime

log = logging.getLogger("assay.worker")


@dataclass
class WorkerSettings:
    """What a worker serves and how it behaves; see `assay_worker.__main__` for the options."""

    models: list[str]
    results_dir: str
    host: str = "127.0.0.1"
    port: int = 8600
    public_url: str | None = None
    stake: int = 10**17
    poll_interval: float = 0.5


@dataclass
class Counters:
    completed: int = 0
    finalized: int = 0
    failed: int = 0
    refused: int = 0
    gas_spent_wei: int = 0
    started: float = field(default_factory=time.time)


class Worker:
    """One worker account serving a set of models."""

    def __init__(self, client: AssayClient, settings: WorkerSettings) -> None:
        self.client = client
        self.settings = settings
        self.store = ResultStore(settings.results_dir)
        self.runtimes: dict[bytes, Runtime] = {}
        for name in settings.models:
            runtime = create_runtime(name)
            self.runtimes[runtime.manifest.model_id] = runtime
        self.counters = Counters()
        self.to_finalize: dict[int, int] = {}  # job id -> challenge end timestamp
        self.cursor = client.deployment.start_block
        self.stopping = threading.Event()
        self.api = ApiServer(create_app(self.store, self.health), settings.host, settings.port)
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
            "awaiting_finalization": len(self.to_finalize),
        }

    def run(self) -> None:
        """Load models, top up stake, serve the API and process jobs until `stop()`."""
        for runtime in self.runtimes.values():
            started = time.monotonic()
            runtime.load()
            log.info("loaded %s in %.1f s", runtime.manifest.name, time.monotonic() - started)
        self._ensure_stake()
        self.api.start()
        log.info("worker %s ready; results served at %s", self.client.address, self.base_url)
        try:
            while not self.stopping.is_set():
                self._poll_once()
                self.stopping.wait(self.settings.poll_interval)
        finally:
            self.api.stop()
            log.info("worker stopped; %d job(s) await finalization", len(self.to_finalize))

    def stop(self) -> None:
        self.stopping.set()

    def _ensure_stake(self) -> None:
        free = self.client.stake_of().free
        if free < self.settings.stake:
            receipt = self._record(self.client.stake(self.settings.stake - free))
            log.info("staked %d wei (gas %d)", self.settings.stake - free, receipt["gasUsed"])

    def _poll_once(self) -> None:
        try:
            head = self.client.w3.eth.block_number
            for event in iter_logs(self.client.market.events.JobPosted, self.cursor, head):
                if self.stopping.is_set():
                    return  # the cursor stays put; jobs already handled are no longer open
                self._handle(event)
            self.cursor = max(self.cursor, head + 1)
            self._finalize_due()
        except AssayError as exc:
            log.warning("poll failed: %s", exc)
        except OSError as exc:  # transport errors: keep running, retry next poll
            log.warning("RPC error, retrying: %s", exc)

    def _handle(self, event: EventData) -> None:
        args = event["args"]
        job_id = int(args["jobId"])
        runtime = self.runtimes.get(bytes(args["modelId"]))
        if runtime is None or self.client.job(job_id).status() != JobPhase.OPEN:
            return
        # everything that can be checked before claiming is: refusing costs nothing, failing later
        # costs the collateral
        try:
            data = self._input_of(args)
        except StorageError as exc:
            self._refuse(job_id, f"input unavailable: {exc}")
            return
        problem = runtime.check_input(data)
        if problem is not None:
            self._refuse(job_id, problem)
            return
        try:
            receipt = self._record(self.client.claim(job_id))
        except ContractRevert as exc:  # lost a race or cannot afford the collateral: nothing was sent
            self._refuse(job_id, str(exc))
            return
        log.info("job %d: claimed (gas %d)", job_id, receipt["gasUsed"])
        try:
            (payload,) = runtime.run([data])
            digest = self.store.put(payload)
            uri = f"{self.base_url}/results/0x{digest.hex()}"
            receipt = self._record(self.client.submit_result(job_id, digest, uri))
        except Exception as exc:  # one failed job must never stop the worker; it expires and is refunded
            self.counters.failed += 1
            log.error("job %d: failed after claiming: %r", job_id, exc)
            return
        self.counters.completed += 1
        self.to_finalize[job_id] = self.client.job(job_id).info().challenge_end
        log.info("job %d: submitted 0x%s (gas %d)", job_id, digest.hex()[:16], receipt["gasUsed"])

    def _input_of(self, args: Any) -> bytes:
        inline = bytes(args["input"])
        if inline:
            return inline
        return fetch_payload(args["inputURI"], bytes(args["inputHash"]), allow_private=self.client.allow_private_uris)

    def _refuse(self, job_id: int, reason: str) -> None:
        self.counters.refused += 1
        log.warning("job %d: not claimed: %s", job_id, reason)

    def _finalize_due(self) -> None:
        now = max(time.time(), self.client.w3.eth.get_block("latest")["timestamp"])
        for job_id, challenge_end in sorted(self.to_finalize.items()):
            if challenge_end > now:
                continue
            try:
                receipt = self._record(self.client.finalize(job_id))
                self.counters.finalized += 1
                log.info("job %d: finalized (gas %d)", job_id, receipt["gasUsed"])
            except ContractRevert as exc:
                if exc.name == "MarketChallengeWindowOpen":
                    continue
                log.warning("job %d: finalize skipped: %s", job_id, exc)  # someone else finalized
            del self.to_finalize[job_id]

    def _record(self, receipt: TxReceipt) -> TxReceipt:
        self.counters.gas_spent_wei += gas_cost(receipt)
        return receipt
