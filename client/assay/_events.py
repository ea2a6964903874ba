"""The market's job events, read in block-range pages and decoded in one pass.

One `eth_getLogs` per page brings every job event at once (a filter on the market address and
the events' topics), so following many jobs costs a few RPC calls however many there are. Logs
are read unformatted and decoded with eth_abi's codec (`assay._abi`): web3's per-log formatting
and decoding cost about a millisecond a log."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import requests
from eth_typing import ChecksumAddress
from eth_utils.abi import collapse_if_tuple
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import FilterParams, LogReceipt

from ._abi import decode
from ._errors import ConfigError
from ._logs import LOG_PAGE
from ._rpc import raw_request
from ._txmanager import is_transient

_log = logging.getLogger("assay")

JOB_EVENTS = (
    "JobPosted",
    "SlotAccepted",
    "NoShowPenalized",
    "ResultSubmitted",
    "ResultCommitted",
    "ResultRevealed",
    "JobChallenged",
    "JobDisputed",
    "JobRuled",
    "WorkerSlashed",
    "WorkerPaid",
    "CallbackFailed",
    "JobSettled",
    "JobCancelled",
)
"""Every market event about one job; each has the job id as its first indexed argument."""


class JobEvent(NamedTuple):
    """One decoded market event about a job, with where it was logged."""

    name: str
    args: dict[str, Any]
    block_number: int = 0
    log_index: int = 0
    tx_hash: bytes = b""
    removed: bool = False
    """True when a websocket subscription reports the log dropped by a reorg."""
    block_hash: bytes = b""
    data: bytes = b""
    """The log's data as logged (ABI-encoded non-indexed arguments)."""

    @property
    def job_id(self) -> int:
        return int(self.args["jobId"])


@functools.lru_cache(maxsize=4096)
def checksum_address(address: str) -> ChecksumAddress:
    """`to_checksum_address`, remembered: logs repeat the same few addresses (the market, requesters,
    workers), and each conversion hashes the address again (~34 µs, an eighth of the worker's
    main-thread time per one-input job before this cache)."""
    return to_checksum_address(address)


class _Codec(NamedTuple):
    name: str
    indexed: list[tuple[str, str]]  # (name, type) of topics 1..
    data_names: list[str]
    data_types: list[str]

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        args = {name: decode([kind], topic)[0] for (name, kind), topic in zip(self.indexed, topics, strict=True)}
        args.update(zip(self.data_names, decode(self.data_types, data), strict=True))
        kinds = dict(self.indexed) | dict(zip(self.data_names, self.data_types, strict=True))
        for name, kind in kinds.items():
            if kind == "address":
                args[name] = checksum_address(args[name])
        return args


class EventDecoder:
    """Decodes the job events `names` (default: all of `JOB_EVENTS`) of the market at `address`,
    whose ABI is `abi`, and builds the log filters that select them."""

    def __init__(self, address: str, abi: Iterable[Mapping[str, Any]], names: Iterable[str] = JOB_EVENTS) -> None:
        self.address = to_checksum_address(address)
        self.page = LOG_PAGE  # blocks per eth_getLogs; halved for good when the provider refuses a range
        wanted = set(names)
        unknown = wanted - set(JOB_EVENTS)
        if unknown:
            raise ConfigError(f"not job events: {', '.join(sorted(unknown))} (known: {', '.join(JOB_EVENTS)})")
        self._by_topic: dict[bytes, _Codec] = {}
        for item in abi:
            if item["type"] == "event" and item["name"] in wanted:
                inputs = item["inputs"]
                types = [collapse_if_tuple(dict(arg)) for arg in inputs]
                topic = keccak(text=f"{item['name']}({','.join(types)})")
                indexed = [(arg["name"], kind) for arg, kind in zip(inputs, types, strict=True) if arg["indexed"]]
                data = [(arg["name"], kind) for arg, kind in zip(inputs, types, strict=True) if not arg["indexed"]]
                self._by_topic[topic] = _Codec(item["name"], indexed, [n for n, _ in data], [k for _, k in data])

    def topics(self, job_id: int | Sequence[int] | None = None) -> list[Any]:
        """The `topics` of a log filter for these events (of `job_id` only, or of any of several
        job ids, when given)."""
        topics: list[Any] = [["0x" + topic.hex() for topic in self._by_topic]]
        if isinstance(job_id, int):
            topics.append("0x" + job_id.to_bytes(32, "big").hex())
        elif job_id is not None:
            topics.append(["0x" + one.to_bytes(32, "big").hex() for one in job_id])
        return topics

    def decode(self, logs: Iterable[LogReceipt | Mapping[str, Any]]) -> Iterator[JobEvent]:
        """The events among `logs` (from a receipt, eth_getLogs or a subscription), decoded;
        other contracts' logs and other events are skipped."""
        for log in logs:
            topics = [_as_bytes(topic) for topic in log["topics"]]
            codec = self._by_topic.get(topics[0]) if topics else None
            if codec is None or checksum_address(log["address"]) != self.address:
                continue
            data = _as_bytes(log["data"])
            yield JobEvent(
                codec.name,
                codec.decode(topics[1:], data),
                _as_int(log.get("blockNumber", 0)),
                _as_int(log.get("logIndex", 0)),
                _as_bytes(log.get("transactionHash") or b""),
                bool(log.get("removed", False)),
                _as_bytes(log.get("blockHash") or b""),
                data,
            )

    def scan(
        self, w3: Web3, from_block: int, to_block: int, job_id: int | Sequence[int] | None = None
    ) -> Iterator[JobEvent]:
        """Events from `from_block` to `to_block` (inclusive), oldest first, one eth_getLogs per
        `self.page` blocks; only those of `job_id` (one id or several) when given. A range the
        provider refuses (each has its own block or result limit, code and message) is tried
        again at half the size, down to one block; that page size is kept for later scans."""
        start = from_block
        page = self.page
        while start <= to_block:
            end = min(to_block, start + page - 1)
            try:
                logs = self.get_logs(w3, start, end, job_id)
            except (Web3RPCError, requests.HTTPError) as exc:
                if end == start or is_transient(exc) or not _says_too_wide(exc):
                    raise  # a rate limit, a 5xx, a node behind the head...: the range was not the problem
                page = (end - start + 1) // 2
                _log.warning("eth_getLogs refused %d blocks (%s); trying %d", end - start + 1, exc, page)
                continue
            self.page = min(self.page, page)  # a size the provider took: kept for later scans
            yield from self.decode(logs)
            start = end + 1

    def get_logs(
        self, w3: Web3, from_block: int, to_block: int, job_id: int | Sequence[int] | None = None
    ) -> list[dict[str, Any]]:
        """The logs of these events from `from_block` to `to_block` as the node sends them (hex
        strings, for `decode`): web3's formatting of each log into HexBytes and AttributeDicts
        costs more than decoding it (8.3 ms against 1.5 ms for 32 `JobPosted` logs)."""
        flt = {**self.filter(from_block, to_block, job_id), "fromBlock": hex(from_block), "toBlock": hex(to_block)}
        return list(raw_request(w3, "eth_getLogs", [flt]))

    def filter(self, from_block: int, to_block: int, job_id: int | Sequence[int] | None = None) -> FilterParams:
        """The eth_getLogs filter for these events from `from_block` to `to_block`."""
        return {"address": self.address, "fromBlock": from_block, "toBlock": to_block, "topics": self.topics(job_id)}


def pages(from_block: int, to_block: int) -> Iterator[tuple[int, int]]:
    """(first, last) block of each `LOG_PAGE`-block page from `from_block` to `to_block`."""
    start = from_block
    while start <= to_block:
        end = min(to_block, start + LOG_PAGE - 1)
        yield start, end
        start = end + 1


_TOO_WIDE = ("range", "limit", "too many", "too large", "exceed", "max", "10000", "10,000", "response size")
"""Words of providers' answers to an eth_getLogs over too many blocks or results (Alchemy, Infura,
QuickNode, Ankr, public nodes each word it differently)."""


def _says_too_wide(exc: Exception) -> bool:
    return any(word in str(exc).lower() for word in _TOO_WIDE)


def _as_bytes(value: Any) -> bytes:
    """Log fields arrive as HexBytes from web3's formatters and as hex strings from raw sockets."""
    if isinstance(value, str):
        return bytes.fromhex(value[2:] if value.startswith("0x") else value)
    return bytes(value)


def _as_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)
