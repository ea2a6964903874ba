"""What the worker knows of the jobs it follows, kept up to date from the market's logs.

One `eth_getLogs` per block range (paged) brings every job's events at once, so a round costs a
handful of RPC calls however many jobs are in flight, instead of several queries per job. Applying
an event twice is harmless (a re-scan after a restart or a reorg repeats some)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from assay import AssayClient, JobTerms
from assay._jobs import ZERO_ADDRESS
from assay._logs import LOG_PAGE
from eth_abi.abi import decode
from eth_utils.abi import collapse_if_tuple
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.types import FilterParams, LogReceipt

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
    holders: dict[int, str] = field(default_factory=dict)  # slot -> worker
    stages: dict[int, str] = field(default_factory=dict)  # slot -> accepted/committed/revealed/slashed
    result_hash: bytes = bytes(32)  # single-slot jobs: the submitted result
    challenger: str = ZERO_ADDRESS
    paid: dict[str, int] = field(default_factory=dict)  # worker -> amount, once settled
    closed: bool = False  # settled or cancelled

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


class JobEvent(NamedTuple):
    name: str
    args: dict[str, Any]


class _EventCodec(NamedTuple):
    name: str
    indexed: list[tuple[str, str]]  # (name, type) of topics 1..
    data_names: list[str]
    data_types: list[str]

    def decode(self, topics: Sequence[bytes], data: bytes) -> JobEvent:
        args = {name: decode([kind], topic)[0] for (name, kind), topic in zip(self.indexed, topics, strict=True)}
        args.update(zip(self.data_names, decode(self.data_types, data), strict=True))
        kinds = dict(self.indexed) | dict(zip(self.data_names, self.data_types, strict=True))
        for name, kind in kinds.items():
            if kind == "address":
                args[name] = to_checksum_address(args[name])
        return JobEvent(self.name, args)


class LogScanner:
    """Reads the market's job events, every job at once or one job's whole history. Logs are
    decoded with eth_abi directly: web3's per-log decoding costs about a millisecond a log."""

    def __init__(self, client: AssayClient) -> None:
        self.client = client
        self._by_topic: dict[bytes, _EventCodec] = {}
        for item in client.market.abi:
            if item["type"] == "event" and item["name"] in EVENTS:
                inputs = item["inputs"]
                types = [collapse_if_tuple(dict(arg)) for arg in inputs]
                topic = keccak(text=f"{item['name']}({','.join(types)})")
                indexed = [(arg["name"], kind) for arg, kind in zip(inputs, types, strict=True) if arg["indexed"]]
                data = [(arg["name"], kind) for arg, kind in zip(inputs, types, strict=True) if not arg["indexed"]]
                self._by_topic[topic] = _EventCodec(
                    item["name"], indexed, [name for name, _ in data], [kind for _, kind in data]
                )

    def scan(self, from_block: int, to_block: int, job_id: int | None = None) -> Iterator[JobEvent]:
        """Decoded job events from `from_block` to `to_block` (inclusive), oldest first; only
        `job_id`'s when given."""
        topics: list[object] = [["0x" + topic.hex() for topic in self._by_topic]]
        if job_id is not None:
            topics.append("0x" + job_id.to_bytes(32, "big").hex())
        start = from_block
        while start <= to_block:
            end = min(to_block, start + LOG_PAGE - 1)
            params: FilterParams = {
                "address": self.client.market.address,
                "fromBlock": start,
                "toBlock": end,
                "topics": topics,  # type: ignore[typeddict-item]
            }
            yield from self.decode(self.client.w3.eth.get_logs(params))
            start = end + 1

    def decode(self, logs: Iterable[LogReceipt]) -> Iterator[JobEvent]:
        """The job events among `logs` (from a receipt or a scan), decoded."""
        for log in logs:
            topics = [bytes(topic) for topic in log["topics"]]
            codec = self._by_topic.get(topics[0]) if topics else None
            if codec is not None and log["address"] == self.client.market.address:
                yield codec.decode(topics[1:], bytes(log["data"]))
