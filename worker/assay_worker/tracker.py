"""What the worker knows of the jobs it follows, kept up to date from the market's logs.

One `eth_getLogs` per block range (paged) brings every job's events at once, so a round costs a
handful of RPC calls however many jobs are in flight, instead of several queries per job. Applying
an event twice is harmless (a re-scan after a restart or a reorg repeats some)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assay import AssayClient, JobEvent, JobTerms
from assay._events import EventDecoder
from assay._jobs import ZERO_ADDRESS
from web3.types import LogReceipt

EVENTS = (
    "JobPosted",
    "SlotAccepted",
    "ResultSubmitted",
    "ResultCommitted",
    "ResultRevealed",
    "JobChallenged",
    "WorkerSlashed",
    "WorkerPaid",
    "JobSettled",
    "JobCancelled",
)
"""Market events that change what the worker should do next (each has the job id as first topic)."""


@dataclass
class JobView:
    """One job as its events describe it."""

    job_id: int
    terms: JobTerms
    input: bytes
    input_uri: str
    seen_at: float  # monotonic time it was first followed, for the batching latency budget
    posted_block: int = 0  # where its JobPosted event is: a restart must scan from there
    holders: dict[int, str] = field(default_factory=dict)  # slot -> worker
    stages: dict[int, str] = field(default_factory=dict)  # slot -> accepted/committed/revealed/slashed
    result_hash: bytes = bytes(32)  # single-slot jobs: the submitted result
    challenge_end: int = 0  # single-slot jobs: chain time the result's challenge window ends
    challenger: str = ZERO_ADDRESS
    paid: dict[str, int] = field(default_factory=dict)  # worker -> amount, once settled
    closed: bool = False  # settled or cancelled
    reconciled: str | None = None  # our slot's stage when the journal was last found to agree with it

    def outcome(self) -> tuple[str, bytes, str]:
        """`IAssayMarket.Outcome` of a single-slot job (zeros for redundant jobs, as the market wants)."""
        if self.terms.redundancy != 1:
            return (ZERO_ADDRESS, bytes(32), ZERO_ADDRESS)
        return (self.holders.get(0, ZERO_ADDRESS), self.result_hash, self.challenger)

    def slot_of(self, worker: str) -> tuple[int | None, str]:
        """The slot `worker` holds and its stage (`submitted` for a single slot with a result)."""
        for slot, holder in self.holders.items():
            if holder == worker:
                return slot, self.stages[slot]
        return None, ""

    def quiet_until(self, worker: str) -> int:
        """Chain time before which the job's phase cannot change without an event (which the
        worker scans anyway), so reading it before then is wasted: a single-slot result of
        `worker`'s, unchallenged, in its challenge window — only a challenge (`JobChallenged`)
        moves it before the window ends; an audit is drawn at settlement, after it. 0: no such time."""
        if (
            self.terms.redundancy == 1
            and self.holders.get(0) == worker
            and self.stages.get(0) == "submitted"
            and self.challenger == ZERO_ADDRESS
            and not self.closed
        ):
            return self.challenge_end
        return 0

    def empty_slots(self) -> list[int]:
        return [slot for slot in range(self.terms.redundancy) if slot not in self.holders]

    def apply(self, name: str, args: Mapping[str, Any]) -> None:
        if name == "SlotAccepted":
            slot = int(args["slot"])
            self.holders[slot] = str(args["worker"])
            self.stages.setdefault(slot, "accepted")
        elif name == "ResultSubmitted":
            self.holders[0] = str(args["worker"])
            self.stages[0] = "submitted"
            self.result_hash = bytes(args["resultHash"])
            self.challenge_end = int(args["challengeEnd"])
        elif name in ("ResultCommitted", "ResultRevealed"):
            slot = int(args["slot"])
            self.holders[slot] = str(args["worker"])
            self.stages[slot] = "committed" if name == "ResultCommitted" else "revealed"
        elif name == "JobChallenged":
            self.challenger = str(args["challenger"])
        elif name == "WorkerSlashed":
            for slot, holder in self.holders.items():
                if holder == args["worker"]:
                    self.stages[slot] = "slashed"
        elif name == "WorkerPaid":
            self.paid[str(args["worker"])] = int(args["amount"])
        elif name in ("JobSettled", "JobCancelled"):
            self.closed = True


class LogScanner:
    """Reads the market's job events for the worker: every job at once, or one job's history."""

    def __init__(self, client: AssayClient) -> None:
        self.client = client
        self._decoder = EventDecoder(client.market.address, client.market.abi, EVENTS)
        self._posted = EventDecoder(client.market.address, client.market.abi, ["JobPosted"])

    def scan(self, from_block: int, to_block: int, job_id: int | Sequence[int] | None = None) -> Iterator[JobEvent]:
        """Decoded job events from `from_block` to `to_block` (inclusive), oldest first; only
        those of `job_id` (one id or several) when given."""
        return self._decoder.scan(self.client.w3, from_block, to_block, job_id)

    def jobs_posted_since(self, block: int) -> bool:
        """Whether a job was posted in block `block` or later (nothing decoded)."""
        head = self.client.w3.eth.block_number
        if head < block:  # nodes refuse a range that starts after the head
            return False
        return bool(self._posted.get_logs(self.client.w3, block, head))

    def decode(self, logs: Iterable[LogReceipt]) -> Iterator[JobEvent]:
        """The job events among `logs` (from a receipt or a scan), decoded."""
        return self._decoder.decode(logs)
