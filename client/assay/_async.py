"""The async twin of `AssayClient` and `Job`, for asyncio dApps and services.

Every rule (option checks, encoding, fees and nonces, result verification) lives once, in the
sync classes: the twin runs their blocking chain calls on worker threads (`asyncio.to_thread`),
so an event loop never blocks and the two clients cannot drift apart. Waiting and following
events are native coroutines: they sleep with `asyncio.sleep` between rounds, can be cancelled
between any two RPC calls, and `events()` takes pushed logs from a websocket subscription when
the client has a `ws://` endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Iterable
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

from eth_typing import ChecksumAddress
from web3 import AsyncWeb3, Web3, WebSocketProvider
from web3.exceptions import Web3Exception
from web3.types import LogsSubscriptionArg, TxReceipt
from websockets.exceptions import WebSocketException

from ._client import AssayClient
from ._errors import ChainError, ConfigError
from ._events import JOB_EVENTS, EventDecoder, JobEvent, pages
from ._jobs import Job, JobInfo, JobPhase, JobResult, JobTerms, ProgressCallback, Waiter
from ._keys import Signer
from ._logs import LOG_PAGE

_log = logging.getLogger("assay")

P = ParamSpec("P")
R = TypeVar("R")


def _on_thread(
    method: Callable[Concatenate[AssayClient, P], R],
) -> Callable[Concatenate[AsyncAssayClient, P], Coroutine[Any, Any, R]]:
    """`AssayClient.method` as a coroutine of the twin, run on a worker thread."""

    @functools.wraps(method)
    async def call(self: AsyncAssayClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self.sync, *args, **kwargs)

    return call


def _job_on_thread(
    method: Callable[Concatenate[AssayClient, P], Job],
) -> Callable[Concatenate[AsyncAssayClient, P], Coroutine[Any, Any, AsyncJob]]:
    """`AssayClient.method`, which returns a `Job`, as a coroutine returning its `AsyncJob`."""

    @functools.wraps(method)
    async def call(self: AsyncAssayClient, /, *args: P.args, **kwargs: P.kwargs) -> AsyncJob:
        return AsyncJob(self, await asyncio.to_thread(method, self.sync, *args, **kwargs))

    return call


def _jobs_on_thread(
    method: Callable[Concatenate[AssayClient, P], list[Job]],
) -> Callable[Concatenate[AsyncAssayClient, P], Coroutine[Any, Any, list[AsyncJob]]]:
    """`AssayClient.method`, which returns `Job`s, as a coroutine returning `AsyncJob`s."""

    @functools.wraps(method)
    async def call(self: AsyncAssayClient, /, *args: P.args, **kwargs: P.kwargs) -> list[AsyncJob]:
        jobs = await asyncio.to_thread(method, self.sync, *args, **kwargs)
        return [AsyncJob(self, job) for job in jobs]

    return call


class AsyncAssayClient:
    """`AssayClient` for asyncio: the same methods, as coroutines.

    >>> client = await AsyncAssayClient.connect(rpc_url, private_key)    # doctest: +SKIP
    >>> job = await client.post_job(ECHO, "hello", reward=10**15)          # doctest: +SKIP
    >>> (await job.wait()).payload                                         # doctest: +SKIP
    """

    def __init__(self, client: AssayClient, *, ws_url: str | None = None) -> None:
        """Wrap a connected `AssayClient`. `ws_url` is the node's websocket endpoint
        (`ws://` or `wss://`); with it `events()` is pushed instead of polled."""
        if ws_url is not None and not ws_url.startswith(("ws://", "wss://")):
            raise ConfigError(f"ws_url must be a ws:// or wss:// URL, got {ws_url[:80]!r}")
        self.sync = client
        self.ws_url = ws_url

    @classmethod
    async def connect(
        cls, rpc: str | Web3, account: Signer | str | None = None, *, ws_url: str | None = None, **options: Any
    ) -> AsyncAssayClient:
        """Connect as `AssayClient(rpc, account, **options)` does (chain id and deployment
        checked), without blocking the event loop. `rpc` is the HTTP endpoint."""
        if isinstance(rpc, str) and rpc.startswith(("ws://", "wss://")):
            raise ConfigError("rpc is the node's HTTP endpoint; pass its websocket endpoint as ws_url")
        client = await asyncio.to_thread(functools.partial(AssayClient, rpc, account, **options))
        return cls(client, ws_url=ws_url)

    @property
    def address(self) -> ChecksumAddress:
        return self.sync.address

    @property
    def w3(self) -> Web3:
        return self.sync.w3

    transact = _on_thread(AssayClient.transact)
    fetch = _on_thread(AssayClient.fetch)

    # requester
    post_job = _job_on_thread(AssayClient.post_job)
    post_batch = _job_on_thread(AssayClient.post_batch)
    post_jobs = _jobs_on_thread(AssayClient.post_jobs)
    jobs = _jobs_on_thread(AssayClient.jobs)
    balance = _on_thread(AssayClient.balance)
    withdraw = _on_thread(AssayClient.withdraw)
    refund_expired = _on_thread(AssayClient.refund_expired)

    async def job(self, job_id: int) -> AsyncJob:
        """A handle on an existing job (its terms read now, so that `terms` never blocks)."""
        job = self.sync.job(job_id)
        await asyncio.to_thread(lambda: job.terms)
        return AsyncJob(self, job)

    # worker
    stake = _on_thread(AssayClient.stake)
    stake_of = _on_thread(AssayClient.stake_of)
    request_unstake = _on_thread(AssayClient.request_unstake)
    withdraw_stake = _on_thread(AssayClient.withdraw_stake)
    join_model = _on_thread(AssayClient.join_model)
    leave_model = _on_thread(AssayClient.leave_model)
    models_served = _on_thread(AssayClient.models_served)
    register_model = _on_thread(AssayClient.register_model)
    registered_models = _on_thread(AssayClient.registered_models)

    async def eligible(self, job: AsyncJob, slot: int = 0, account: str | None = None) -> bool:
        """See `AssayClient.eligible`."""
        return await asyncio.to_thread(self.sync.eligible, job.sync, slot, account)

    async def accept(self, job: AsyncJob, slot: int = 0) -> TxReceipt:
        """See `AssayClient.accept`."""
        return await asyncio.to_thread(self.sync.accept, job.sync, slot)

    async def submit_result(self, job: AsyncJob, result_hash: bytes, uri: str, result: bytes = b"") -> TxReceipt:
        """See `AssayClient.submit_result`."""
        return await asyncio.to_thread(self.sync.submit_result, job.sync, result_hash, uri, result)

    async def commit(self, job: AsyncJob, slot: int, result_hash: bytes, salt: bytes) -> TxReceipt:
        """See `AssayClient.commit`."""
        return await asyncio.to_thread(self.sync.commit, job.sync, slot, result_hash, salt)

    async def reveal(
        self, job: AsyncJob, slot: int, result_hash: bytes, salt: bytes, uri: str, result: bytes = b""
    ) -> TxReceipt:
        """See `AssayClient.reveal`."""
        return await asyncio.to_thread(self.sync.reveal, job.sync, slot, result_hash, salt, uri, result)

    async def events(
        self,
        from_block: int | None = None,
        *,
        job_id: int | None = None,
        names: Iterable[str] = JOB_EVENTS,
        poll_interval: float = 1.0,
        confirmations: int = 0,
        reconnects: int = 5,
    ) -> AsyncIterator[JobEvent]:
        """Follow the market's job events, oldest first, until the consumer stops iterating.
        A dropped websocket is connected again (up to `reconnects` times in a row, with growing
        pauses) and the stream resumes where it stopped, with no event lost or repeated; past
        that, `ChainError` says the block to follow again from.

        Starts at `from_block` (default: the next block) and reads past blocks in `LOG_PAGE`
        pages; only `job_id`'s events when given, and only the events in `names`. New events come
        from a websocket subscription when the client has a `ws_url` (a log dropped by a reorg
        then arrives again with `removed=True`), otherwise by polling every `poll_interval`
        seconds, `confirmations` blocks behind the head so that reorgs deeper than that are
        the only ones a poller can miss."""
        if confirmations < 0 or poll_interval <= 0:
            raise ConfigError("confirmations must be >= 0 and poll_interval > 0")
        decoder = EventDecoder(self.sync.market.address, self.sync.market.abi, names)
        head = int(await asyncio.to_thread(lambda: self.sync.w3.eth.block_number))
        cursor = head + 1 if from_block is None else from_block
        if self.ws_url is None:
            while True:
                head = int(await asyncio.to_thread(lambda: self.sync.w3.eth.block_number)) - confirmations
                if head < cursor:
                    await asyncio.sleep(poll_interval)
                    continue
                end = min(head, cursor + LOG_PAGE - 1)
                for event in await asyncio.to_thread(_scan, decoder, self.sync.w3, cursor, end, job_id):
                    yield event
                cursor = end + 1
        else:
            followed = _Followed(cursor)
            failures = 0
            while True:
                try:
                    # closed at once when the consumer stops early, not whenever the loop collects it
                    async with contextlib.aclosing(self._pushed(decoder, followed, job_id)) as pushed:
                        async for event in pushed:
                            yield event
                except ChainError as exc:
                    if followed.subscribed:  # it was up and delivering: a new run of tries begins
                        followed.subscribed, failures = False, 0
                    failures += 1
                    if failures > reconnects:
                        raise
                    _log.warning("%s; connecting again (%d of %d)", exc, failures, reconnects)
                    await asyncio.sleep(min(MAX_RECONNECT_PAUSE, 0.25 * 2**failures))

    async def _pushed(
        self, decoder: EventDecoder, followed: _Followed, job_id: int | None
    ) -> AsyncGenerator[JobEvent, None]:
        """Subscribe first, then read the past from `followed.next_block` up to the head seen
        after subscribing, both from the same node, then pass on pushed logs: a log already
        passed on (same block hash and log index, also before a reconnect) is skipped, so there
        is no gap and no event twice, and a reorged block's replacement logs still come through."""
        assert self.ws_url is not None
        try:
            async with AsyncWeb3(WebSocketProvider(self.ws_url)) as w3:
                criteria: LogsSubscriptionArg = {"address": decoder.address, "topics": decoder.topics(job_id)}
                await w3.eth.subscribe("logs", criteria)
                caught_up = int(await w3.eth.block_number)
                for start, end in pages(followed.resume_block(), caught_up):
                    for event in decoder.decode(await w3.eth.get_logs(decoder.filter(start, end, job_id))):
                        if followed.first_time(event):
                            yield event
                followed.subscribed = True
                async for message in w3.socket.process_subscriptions():
                    for event in decoder.decode([message["result"]]):
                        if event.removed or followed.first_time(event):
                            yield event
        except (OSError, WebSocketException, Web3Exception) as exc:
            raise ChainError(
                f"websocket {self.ws_url} failed ({exc}); is the node serving websockets there? "
                f"follow again from block {followed.next_block}"
            ) from exc
        raise ChainError(
            f"websocket {self.ws_url} closed the subscription; follow again from block {followed.next_block}"
        )


MAX_RECONNECT_PAUSE = 10.0
"""Longest pause before connecting a dropped websocket again."""


class _Followed:
    """How far a followed event stream got: a reconnect reads the past again from `KEEP_BLOCKS`
    below the block of the last event passed on (later logs of that block may not have come yet,
    and a reorg while disconnected may have replaced the blocks before it) and skips the logs
    already passed on."""

    KEEP_BLOCKS = 64  # passed-on logs remembered below the last one's block (reorg depth)

    def __init__(self, next_block: int) -> None:
        self.first_block = next_block
        self.next_block = next_block
        self.passed: dict[tuple[bytes, int], int] = {}  # (block hash, log index) -> block number
        self.subscribed = False  # the current connection subscribed and read the past

    def resume_block(self) -> int:
        return max(self.first_block, self.next_block - self.KEEP_BLOCKS)

    def first_time(self, event: JobEvent) -> bool:
        key = (event.block_hash, event.log_index)
        if key in self.passed:
            return False
        self.passed[key] = event.block_number
        if event.block_number > self.next_block:
            self.next_block = event.block_number
            floor = self.next_block - self.KEEP_BLOCKS
            self.passed = {k: block for k, block in self.passed.items() if block >= floor}
        return True


def _scan(decoder: EventDecoder, w3: Web3, start: int, end: int, job_id: int | None) -> list[JobEvent]:
    return list(decoder.scan(w3, start, end, job_id))


class AsyncJob:
    """`Job` for asyncio: the same handle, its chain reads as coroutines."""

    def __init__(self, client: AsyncAssayClient, job: Job) -> None:
        self.client = client
        self.sync = job

    def __repr__(self) -> str:
        return f"AsyncJob(id={self.id})"

    @property
    def id(self) -> int:
        return self.sync.id

    @property
    def terms(self) -> JobTerms:
        """The job's terms (read when the handle was made)."""
        return self.sync.terms

    @property
    def receipt(self) -> TxReceipt | None:
        """The receipt of the transaction that posted the job, when this handle posted it."""
        return self.sync.receipt

    async def input(self) -> bytes:
        """See `Job.input`."""
        return await asyncio.to_thread(lambda: self.sync.input)

    async def status(self) -> JobPhase:
        """See `Job.status`."""
        return await asyncio.to_thread(self.sync.status)

    async def info(self) -> JobInfo:
        """See `Job.info`."""
        return await asyncio.to_thread(self.sync.info)

    async def history(self) -> list[JobEvent]:
        """See `Job.history`."""
        return await asyncio.to_thread(self.sync.history)

    async def result(self) -> JobResult:
        """See `Job.result`."""
        return await asyncio.to_thread(self.sync.result)

    async def refund(self) -> TxReceipt:
        """See `Job.refund`."""
        return await asyncio.to_thread(self.sync.refund)

    async def cancel(self) -> TxReceipt:
        """See `Job.cancel`."""
        return await asyncio.to_thread(self.sync.cancel)

    async def settle(self, result: bytes = b"") -> TxReceipt:
        """See `AssayClient.settle`."""
        return await asyncio.to_thread(self.client.sync.settle, self.sync, result)

    async def wait(
        self,
        timeout: float = 600.0,
        *,
        until: Literal["submitted", "settled"] = "settled",
        poll_interval: float = 0.5,
        on_progress: ProgressCallback | None = None,
    ) -> JobResult:
        """See `Job.wait`; `on_progress` runs on the event loop's thread."""
        waiter = Waiter(self.sync, timeout, until, on_progress)
        while True:
            phase = await asyncio.to_thread(self.sync.status)
            waiter.observe(phase)
            result = await asyncio.to_thread(waiter.conclude, phase)
            if result is not None:
                return result
            await asyncio.sleep(poll_interval)

    def events(self, from_block: int | None = None, **options: Any) -> AsyncIterator[JobEvent]:
        """This job's events; see `AsyncAssayClient.events` (default: from the market's start)."""
        start = self.client.sync.deployment.start_block if from_block is None else from_block
        return self.client.events(start, job_id=self.id, **options)
