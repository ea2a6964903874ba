"""Job handles: terms, status, waiting with progress, and verified results.

The market stores only a hash of each job's terms; the terms themselves are in the `JobPosted`
event and every call on the job passes them back. A `Job` fetches them once and keeps them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from enum import IntEnum
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Literal

from eth_typing import ChecksumAddress
from web3.types import TxReceipt

from ._artifacts import load_artifact
from ._calldata import AbiEncoded, Calldata
from ._errors import (
    BatchFormatError,
    ConfigError,
    JobError,
    JobNotCompleted,
    JobTimeout,
    NoWorkerAvailable,
    ResultMismatch,
)
from ._events import JobEvent, checksum_address
from .batch import decode_batch, is_batch, item_count
from .storage import content_hash

if TYPE_CHECKING:
    from ._client import AssayClient

ZERO_ADDRESS = "0x" + "00" * 20


class JobPhase(IntEnum):
    """Mirror of `IAssayMarket.Phase`, derived by the market from state, terms and the clock."""

    NONE = 0
    ASSIGNING = 1
    WORKING = 2
    REVEALING = 3
    CHALLENGEABLE = 4
    DISPUTED = 5
    SETTLEABLE = 6
    CLOSED = 7


@dataclass(frozen=True)
class JobTerms:
    """`IAssayMarket.JobTerms`: everything fixed at posting, in the struct's field order."""

    requester: ChecksumAddress
    token: ChecksumAddress
    reward: int
    collateral: int
    model_id: bytes
    input_hash: bytes
    seed: bytes
    consumer: ChecksumAddress
    callback_gas: int
    redundancy: int
    mode: int
    audit_bps: int
    fee_bps: int
    arbiter_share_bps: int
    posted_at: int
    claim_deadline: int
    result_deadline: int
    accept_window: int
    reveal_window: int
    challenge_window: int
    dispute_window: int
    no_show_penalty: int
    assignees: tuple[ChecksumAddress, ...]
    allowlist: tuple[ChecksumAddress, ...]

    @classmethod
    def from_event(cls, terms: Mapping[str, Any] | tuple[Any, ...]) -> JobTerms:
        """From the `terms` argument of a decoded `JobPosted` event (a dict or a tuple)."""
        values = list(terms.values()) if isinstance(terms, Mapping) else list(terms)
        names = [f.name for f in fields(cls)]
        if len(values) != len(names):
            raise JobError(f"JobPosted terms have {len(values)} fields, expected {len(names)}")
        converted: list[Any] = []
        for name, value in zip(names, values, strict=True):
            if name in ("assignees", "allowlist"):
                converted.append(tuple(checksum_address(a) for a in value))
            elif isinstance(value, str) and value.startswith("0x") and len(value) == 42:
                converted.append(checksum_address(value))
            elif isinstance(value, bytes | bytearray):
                converted.append(bytes(value))
            else:
                converted.append(value)
        return cls(*converted)

    @classmethod
    def from_posted(cls, event: JobEvent) -> JobTerms:
        """From a decoded `JobPosted` event, with `encoded` taken from the log's data, where the
        terms are already ABI-encoded, rather than encoded again (~100 µs a job)."""
        terms = cls.from_event(event.args["terms"])
        if event.data:
            encoded = AbiEncoded.argument_of(event.data, 0)
            # a head word per field, then each array's length and items: a slice of any other size
            # is not these terms' encoding, which is then computed instead
            if len(encoded) == 32 * (len(fields(cls)) + 2 + len(terms.assignees) + len(terms.allowlist)):
                terms.__dict__["encoded"] = encoded  # where cached_property keeps it
        return terms

    def as_tuple(self) -> tuple[Any, ...]:
        """The struct as a contract call takes it."""
        scalars = (getattr(self, field.name) for field in fields(self)[:-2])  # astuple deep-copies: 14x slower
        return (*scalars, list(self.assignees), list(self.allowlist))

    @cached_property
    def encoded(self) -> AbiEncoded:
        """The struct ABI-encoded, once: a worker passes it to `Calldata.encode` for each of the
        job's calls (phase, eligibility, result) instead of encoding ~900 bytes every time."""
        return AbiEncoded.of(_terms_type(), self.as_tuple())


@cache
def _terms_type() -> str:
    return Calldata(load_artifact("AssayMarket").abi).input_type("phaseOf", 1)


@dataclass(frozen=True)
class JobInfo:
    """A job's terms and where it stands."""

    job_id: int
    phase: JobPhase
    terms: JobTerms
    worker: ChecksumAddress | None
    """The worker whose result was submitted (single-slot jobs)."""
    result_hash: bytes | None
    """The submitted result (single-slot) or the settled majority's (redundant)."""
    challenge_end: int | None
    success: bool | None
    """None while open; True when settled with a result, False when refunded or cancelled."""
    paid: int | None = None
    """At settlement: the reward paid to workers (wei, or token units)."""
    fee: int | None = None
    """At settlement: the protocol fee taken from the reward."""
    refunded: int | None = None
    """At settlement: what went back to the requester."""
    callback_failed: bool = False
    """The consumer contract's callback reverted or ran out of its gas (the job settled anyway)."""

    @property
    def requester(self) -> ChecksumAddress:
        return self.terms.requester

    @property
    def model_id(self) -> bytes:
        return self.terms.model_id

    @property
    def reward(self) -> int:
        return self.terms.reward


@dataclass(frozen=True)
class JobResult:
    """A result payload whose keccak256 matched the hash on chain."""

    job_id: int
    worker: ChecksumAddress
    payload: bytes
    result_hash: bytes
    uri: str
    inputs: int | None = None
    """How many inputs the job's batch input held (None: not a batch posted in calldata)."""

    def json(self) -> Any:
        """The payload decoded as JSON (runtimes in this package produce JSON)."""
        return json.loads(self.payload)

    def items(self) -> list[bytes]:
        """A batch job's results, one per input in the order posted. `BatchFormatError` when
        this is not a batch job's result, or when it holds another count of results than the
        job's inputs (a hash on chain vouches for bytes, not for their being one per input); the
        count is checked when the inputs were posted in calldata (`inputs` is None for a batch
        posted by URI, whose input is not fetched for this)."""
        items = decode_batch(self.payload)
        if self.inputs is not None and len(items) != self.inputs:
            raise BatchFormatError(
                f"job {self.job_id}: the result holds {len(items)} items for {self.inputs} inputs; "
                "they cannot be matched to the inputs (challenge the result)"
            )
        return items


ProgressCallback = Callable[[JobPhase, float], None]


class Job:
    """A handle on one job; cheap to create, every method reads the chain."""

    def __init__(
        self, client: AssayClient, job_id: int, terms: JobTerms | None = None, receipt: TxReceipt | None = None
    ) -> None:
        self.client = client
        self.id = job_id
        self._terms = terms
        self.receipt = receipt
        """The receipt of the transaction that posted the job, when this handle posted it."""

    def __repr__(self) -> str:
        return f"Job(id={self.id})"

    @property
    def terms(self) -> JobTerms:
        """The job's terms, from its `JobPosted` event."""
        if self._terms is None:
            self._terms = JobTerms.from_posted(self._last("JobPosted"))
        return self._terms

    @property
    def input(self) -> bytes:
        """The job's input: inline from `JobPosted`, else fetched from its URI (through the
        client's storage when it is one of its URIs) and checked."""
        args = self._last("JobPosted").args
        inline = bytes(args["input"])
        if inline:
            return inline
        return self.client.fetch(args["inputURI"], self.terms.input_hash)

    def status(self) -> JobPhase:
        """The job's current phase."""
        if self.id > self.client.market.functions.jobCount().call() or self.id == 0:
            return JobPhase.NONE
        return JobPhase(self.client.market.functions.phaseOf(self.id, self.terms.as_tuple()).call())

    def info(self) -> JobInfo:
        """The job's terms and state, from the chain and its events."""
        return self._info(self.status(), self.history())

    def history(self) -> list[JobEvent]:
        """Every event of this job so far, oldest first (one eth_getLogs per `LOG_PAGE` blocks)."""
        head = self.client.w3.eth.block_number
        return list(self.client.event_decoder.scan(self.client.w3, self.client.deployment.start_block, head, self.id))

    def _info(self, phase: JobPhase, history: list[JobEvent]) -> JobInfo:
        terms = self.terms
        worker = result_hash = challenge_end = success = None
        submitted = _named(history, "ResultSubmitted")
        if terms.redundancy == 1 and submitted:
            args = submitted[-1].args
            worker, result_hash, challenge_end = args["worker"], bytes(args["resultHash"]), args["challengeEnd"]
        settled = _named(history, "JobSettled")
        paid = fee = refunded = None
        if phase == JobPhase.CLOSED:
            success = bool(settled and settled[-1].args["success"])
            if success:
                result_hash = bytes(settled[-1].args["resultHash"])
        if settled:
            args = settled[-1].args
            paid, fee, refunded = int(args["paid"]), int(args["fee"]), int(args["refunded"])
        callback_failed = bool(_named(history, "CallbackFailed"))
        return JobInfo(
            self.id, phase, terms, worker, result_hash, challenge_end, success, paid, fee, refunded, callback_failed
        )

    def outcome(self) -> tuple[str, bytes, str]:
        """The `IAssayMarket.Outcome` of a single-slot job, from its events: (worker who took the
        slot, submitted result hash, challenger), zeros for what has not happened."""
        worker, result_hash, challenger = ZERO_ADDRESS, bytes(32), ZERO_ADDRESS
        if self.terms.redundancy != 1:
            return (worker, result_hash, challenger)
        history = self.history()
        accepted = _named(history, "SlotAccepted")
        if accepted:
            worker = accepted[-1].args["worker"]
        submitted = _named(history, "ResultSubmitted")
        if submitted:
            worker, result_hash = submitted[-1].args["worker"], bytes(submitted[-1].args["resultHash"])
        challenged = _named(history, "JobChallenged")
        if challenged:
            challenger = challenged[-1].args["challenger"]
        return (worker, result_hash, challenger)

    def wait(
        self,
        timeout: float = 600.0,
        *,
        until: Literal["submitted", "settled"] = "settled",
        poll_interval: float = 0.5,
        on_progress: ProgressCallback | None = None,
    ) -> JobResult:
        """Block until the job reaches `until`, then fetch its result and check it against the
        on-chain hash. `submitted`: a single-slot job's result is in (it may still be
        challenged); `settled`: the job closed with a result and its worker(s) were paid.
        `on_progress(phase, elapsed_seconds)` is called on every phase change.

        Raises `JobTimeout` after `timeout` seconds, `JobNotCompleted` when the job ends without
        a result, and `ResultMismatch` when the payload does not match its hash.
        """
        waiter = Waiter(self, timeout, until, on_progress)
        while True:
            phase = self.status()
            waiter.observe(phase)
            result = waiter.conclude(phase)
            if result is not None:
                return result
            time.sleep(poll_interval)

    def result(self) -> JobResult:
        """Fetch the result (submitted or settled) and verify it against the on-chain hash."""
        history = self.history()
        info = self._info(self.status(), history)
        if info.result_hash is None:
            raise JobNotCompleted(f"job {self.id} has no result yet (phase {info.phase.name})")
        return self._result(info, history)

    def _result(self, info: JobInfo, history: list[JobEvent]) -> JobResult:
        assert info.result_hash is not None
        # the event that carried the winning hash: a single-slot submission or a matching reveal
        carriers = _named(history, "ResultSubmitted") + _named(history, "ResultRevealed")
        matching = [e for e in carriers if bytes(e.args["resultHash"]) == info.result_hash]
        if not matching:
            raise JobNotCompleted(f"job {self.id}: no submission or reveal carries its result hash")
        args = matching[-1].args
        inline = bytes(args["result"])
        if inline:
            if content_hash(inline) != info.result_hash:
                raise ResultMismatch(f"job {self.id}: inline result does not match its hash")
            payload = inline
        else:
            payload = self.client.fetch(args["resultURI"], info.result_hash)
        posted = _named(history, "JobPosted")
        job_input = bytes(posted[0].args["input"]) if posted else b""
        inputs = item_count(job_input) if is_batch(job_input) else None
        return JobResult(self.id, args["worker"], payload, info.result_hash, args["resultURI"], inputs)

    def refund(self) -> TxReceipt:
        """Settle a job whose deadline passed without a result: the escrow returns to the
        requester's market balance (withdraw it with `client.withdraw()`). Raises `JobError`,
        sending nothing, for a single-slot job with a submitted result: settling that pays the
        worker (`client.settle(job)`), it is no refund."""
        if self.terms.redundancy == 1 and _named(self.history(), "ResultSubmitted"):
            raise JobError(
                f"job {self.id} has a submitted result, so settling it pays the worker, not the requester "
                "(client.settle(job) does that)"
            )
        return self.client.settle(self)

    def cancel(self) -> TxReceipt:
        """Cancel this (own) job before any slot is taken; the reward becomes withdrawable."""
        return self.client.transact(self.client.market.functions.cancel(self.id, self.terms.as_tuple()))

    def _last(self, name: str) -> JobEvent:
        """This job's latest `name` event (JobPosted: `JobNotCompleted` when there is none)."""
        events = _named(self.history(), name)
        if not events:
            raise JobNotCompleted(f"job {self.id} has no {name} event on this market")
        return events[-1]


def _named(history: list[JobEvent], name: str) -> list[JobEvent]:
    return [event for event in history if event.name == name]


class Waiter:
    """The rules of waiting for a job, shared by `Job.wait` and its async twin: each round the
    driver reads the phase, passes it to `observe` (progress callback, no I/O) and then to
    `conclude` (the verified result, an error, or None to keep waiting)."""

    def __init__(
        self, job: Job, timeout: float, until: Literal["submitted", "settled"], on_progress: ProgressCallback | None
    ) -> None:
        if until not in ("submitted", "settled"):
            raise ConfigError(f"until must be 'submitted' or 'settled', got {until!r}")
        self.job, self.timeout, self.until, self.on_progress = job, timeout, until, on_progress
        self.started = time.monotonic()
        self.seen: JobPhase | None = None

    def observe(self, phase: JobPhase) -> None:
        if phase != self.seen:
            self.seen = phase
            if self.on_progress is not None:
                self.on_progress(phase, time.monotonic() - self.started)

    def conclude(self, phase: JobPhase) -> JobResult | None:
        job = self.job
        if phase == JobPhase.NONE:
            raise JobNotCompleted(f"job {job.id} does not exist on this market")
        submitted = self.until == "submitted" and phase == JobPhase.CHALLENGEABLE
        if phase in (JobPhase.CLOSED, JobPhase.SETTLEABLE) or submitted:
            history = job.history()
            info = job._info(phase, history)
            if phase == JobPhase.CLOSED:
                if not info.success:
                    how = "was cancelled" if _named(history, "JobCancelled") else "was refunded without a result"
                    raise JobNotCompleted(f"job {job.id} {how}")
                return job._result(info, history)
            if self.until == "submitted" and info.result_hash is not None:
                return job._result(info, history)
            revealed = _named(history, "ResultSubmitted") + _named(history, "ResultRevealed")
            if phase == JobPhase.SETTLEABLE and not revealed:
                raise JobNotCompleted(f"job {job.id} expired without a result; call refund() to reclaim the escrow")
        elapsed = time.monotonic() - self.started
        if elapsed >= self.timeout:
            registry = job.client.registry.functions
            if phase == JobPhase.ASSIGNING and registry.totalWeight(job.terms.model_id).call() == 0:
                raise NoWorkerAvailable(
                    f"job {job.id} still assigning after {self.timeout:.0f} s: no worker is staked for its model "
                    f"0x{job.terms.model_id.hex()}; job.refund() returns the escrow after the claim deadline "
                    f"(unix time {job.terms.claim_deadline})"
                )
            raise JobTimeout(f"job {job.id} still {phase.name.lower()} after {self.timeout:.0f} s")
        return None
