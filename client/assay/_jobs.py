"""Job handles: status, waiting with progress, and verified results."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal

from eth_typing import ChecksumAddress
from web3.types import TxReceipt

from ._errors import JobNotCompleted, JobTimeout, StorageError
from ._storage import fetch_payload

if TYPE_CHECKING:
    from ._client import AssayClient


class JobPhase(IntEnum):
    """Mirror of `IJobMarket.JobPhase`: stored status plus deadline-derived phases."""

    NONE = 0
    OPEN = 1
    CLAIMED = 2
    SUBMITTED = 3
    FINALIZABLE = 4
    EXPIRED = 5
    FINALIZED = 6
    REFUNDED = 7
    CANCELLED = 8


_RESULT_READY = {
    "submitted": (JobPhase.SUBMITTED, JobPhase.FINALIZABLE, JobPhase.FINALIZED),
    "finalized": (JobPhase.FINALIZED,),
}
_ENDED_WITHOUT_RESULT = {
    JobPhase.REFUNDED: "was refunded",
    JobPhase.CANCELLED: "was cancelled",
    JobPhase.EXPIRED: "expired without a result; call refund() to reclaim the escrow",
}


@dataclass(frozen=True)
class JobInfo:
    """A job's on-chain record."""

    job_id: int
    phase: JobPhase
    requester: ChecksumAddress
    worker: ChecksumAddress | None
    model_id: bytes
    reward: int
    collateral: int
    claim_deadline: int
    result_deadline: int
    challenge_end: int
    result_hash: bytes | None


@dataclass(frozen=True)
class JobResult:
    """A result payload whose keccak256 matched the hash the worker committed on chain."""

    job_id: int
    worker: ChecksumAddress
    payload: bytes
    result_hash: bytes
    uri: str

    def json(self) -> Any:
        """The payload decoded as JSON (runtimes in this package produce JSON)."""
        return json.loads(self.payload)


ProgressCallback = Callable[[JobPhase, float], None]


class Job:
    """A handle on one job; cheap to create, every method reads the chain."""

    def __init__(self, client: AssayClient, job_id: int, receipt: TxReceipt | None = None) -> None:
        self.client = client
        self.id = job_id
        self.receipt = receipt
        """The receipt of the transaction that posted the job, when this handle posted it."""

    def __repr__(self) -> str:
        return f"Job(id={self.id})"

    def status(self) -> JobPhase:
        """The job's current phase."""
        return JobPhase(self.client.market.functions.phaseOf(self.id).call())

    def info(self) -> JobInfo:
        """The job's full on-chain record."""
        return self._info(self.status())

    def _info(self, phase: JobPhase) -> JobInfo:
        raw = self.client.market.functions.getJob(self.id).call()
        (requester, claim_dl, result_dl, _status, worker, challenge_end, reward, collateral, model, rhash) = raw
        zero = "0x" + "00" * 20
        return JobInfo(
            job_id=self.id,
            phase=phase,
            requester=requester,
            worker=None if worker == zero else worker,
            model_id=bytes(model),
            reward=reward,
            collateral=collateral,
            claim_deadline=claim_dl,
            result_deadline=result_dl,
            challenge_end=challenge_end,
            result_hash=None if bytes(rhash) == bytes(32) else bytes(rhash),
        )

    def wait(
        self,
        timeout: float = 600.0,
        *,
        until: Literal["submitted", "finalized"] = "finalized",
        poll_interval: float = 0.5,
        on_progress: ProgressCallback | None = None,
    ) -> JobResult:
        """Block until the job reaches `until`, then fetch its result and check it against the
        on-chain hash. `on_progress(phase, elapsed_seconds)` is called on every phase change.

        Raises `JobTimeout` after `timeout` seconds, `JobNotCompleted` when the job ends (or can
        only end) without a result, and `ResultMismatch` when the payload does not match its hash.
        """
        started = time.monotonic()
        seen: JobPhase | None = None
        while True:
            phase = self.status()
            elapsed = time.monotonic() - started
            if phase != seen:
                seen = phase
                if on_progress is not None:
                    on_progress(phase, elapsed)
            if phase in _RESULT_READY[until]:
                return self._result(phase)
            if phase in _ENDED_WITHOUT_RESULT:
                raise JobNotCompleted(f"job {self.id} {_ENDED_WITHOUT_RESULT[phase]}")
            if phase == JobPhase.NONE:
                raise JobNotCompleted(f"job {self.id} does not exist on this market")
            if elapsed >= timeout:
                raise JobTimeout(f"job {self.id} still {phase.name.lower()} after {timeout:.0f} s")
            time.sleep(poll_interval)

    def result(self) -> JobResult:
        """Fetch the submitted result and verify it against the on-chain hash."""
        return self._result(self.status())

    def _result(self, phase: JobPhase) -> JobResult:
        info = self._info(phase)
        if info.result_hash is None or info.worker is None:
            raise JobNotCompleted(f"job {self.id} has no submitted result (phase {info.phase.name})")
        event = self.client.market.events.ResultSubmitted
        logs = event.get_logs(from_block=self.client.deployment.start_block, argument_filters={"jobId": self.id})
        if not logs:
            raise StorageError(f"job {self.id} has a result hash but no ResultSubmitted event")
        uri = logs[-1]["args"]["resultURI"]
        payload = fetch_payload(uri, info.result_hash, allow_private=self.client.allow_private_uris)
        return JobResult(self.id, info.worker, payload, info.result_hash, uri)

    def refund(self) -> TxReceipt:
        """Reclaim the escrow of an expired job (unclaimed, or its worker missed the deadline)."""
        return self.client.transact(self.client.market.functions.refund(self.id))

    def cancel(self) -> TxReceipt:
        """Cancel this (own, unclaimed) job; the reward becomes withdrawable."""
        return self.client.transact(self.client.market.functions.cancel(self.id))
