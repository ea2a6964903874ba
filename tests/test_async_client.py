"""The async twin on a real anvil chain: every coroutine of `AsyncAssayClient`/`AsyncJob`, a
loop that keeps running while jobs are awaited, and the event stream by polling and by a
websocket subscription (anvil serves both on one port)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import threading
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from assay import (
    ECHO,
    AssayClient,
    AsyncAssayClient,
    AsyncJob,
    ChainError,
    ConfigError,
    Deployment,
    JobEvent,
    JobNotCompleted,
    JobPhase,
    JobTimeout,
    content_hash,
    errors,
    gas_cost,
)
from assay._jobs import ZERO_ADDRESS
from assay.batch import decode_batch, encode_batch
from assay.devnet import ANVIL_KEYS, Anvil, free_port
from assay_worker.results import ResultStore
from web3 import Web3

from .conftest import CHALLENGE_WINDOW, MARKET_PARAMS, local_market, publish, time_travel
from .test_jobs import REWARD, STAKE

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def twin(w3: Web3, deployment: Deployment, key_index: int, ws_url: str | None = None) -> AsyncAssayClient:
    return AsyncAssayClient(AssayClient(w3, ANVIL_KEYS[key_index], deployment=deployment), ws_url=ws_url)


async def take(stream: AsyncIterator[JobEvent], count: int) -> list[JobEvent]:
    events = []
    async for event in stream:
        events.append(event)
        if len(events) == count:
            break
    return events


def test_connect_checks_the_chain_and_refuses_a_websocket_rpc(anvil: Anvil, deployment: Deployment) -> None:
    async def scenario() -> None:
        client = await AsyncAssayClient.connect(anvil.url, ANVIL_KEYS[1], deployment=deployment)
        assert client.address == client.sync.address and await client.balance() == 0
        with pytest.raises(ConfigError, match="HTTP endpoint"):
            await AsyncAssayClient.connect(anvil.url.replace("http", "ws"), ANVIL_KEYS[1], deployment=deployment)
        wrong = dataclasses.replace(deployment, chain_id=1)
        with pytest.raises(errors.ChainMismatch):
            await AsyncAssayClient.connect(anvil.url, deployment=wrong)
        with pytest.raises(ConfigError, match="ws://"):
            AsyncAssayClient(client.sync, ws_url=anvil.url)

    run(scenario())


def test_single_slot_lifecycle_with_the_loop_free_while_waiting(
    w3: Web3, deployment: Deployment, result_server: tuple[ResultStore, str]
) -> None:
    requester, worker = twin(w3, deployment, 1), twin(w3, deployment, 2)

    async def scenario() -> None:
        await worker.stake(STAKE)
        assert await worker.join_model(ECHO) is not None
        assert await worker.models_served() == [ECHO.model_id]
        assert (await worker.stake_of()).free == STAKE
        job = await requester.post_job(ECHO, "async hello", reward=REWARD)
        assert isinstance(job, AsyncJob) and job.receipt is not None and job.terms.assignees == (worker.address,)
        assert await job.status() == JobPhase.ASSIGNING
        assert await job.input() == b"async hello"
        assert await worker.eligible(job) and not await requester.eligible(job)

        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async def work() -> None:  # the worker answers while the requester waits
            await asyncio.sleep(0.5)
            await worker.accept(job)
            digest, uri = publish(result_server, b"async hello back")
            await worker.submit_result(job, digest, uri)

        phases: list[JobPhase] = []
        beat = asyncio.create_task(ticker())
        answered = asyncio.create_task(work())
        result = await job.wait(timeout=30, until="submitted", on_progress=lambda phase, _: phases.append(phase))
        await answered
        beat.cancel()
        assert result.payload == b"async hello back" and result.worker == worker.address
        assert phases[0] == JobPhase.ASSIGNING and phases[-1] == JobPhase.CHALLENGEABLE
        assert ticks > 20, "the event loop was blocked while waiting"

        await asyncio.to_thread(time_travel, w3, CHALLENGE_WINDOW + 1)
        await job.settle()
        settled = await job.wait(timeout=10)
        assert settled.result_hash == content_hash(b"async hello back")
        assert (await job.info()).success is True and (await job.result()).payload == b"async hello back"
        names = [event.name for event in await job.history()]
        assert names[:3] == ["JobPosted", "SlotAccepted", "ResultSubmitted"] and "JobSettled" in names
        fee = REWARD * MARKET_PARAMS.fee_bps // 10_000
        assert await worker.balance() == REWARD - fee
        before = w3.eth.get_balance(worker.address)
        receipt = await worker.withdraw()
        assert w3.eth.get_balance(worker.address) == before + REWARD - fee - gas_cost(receipt)
        assert [j.id for j in await requester.jobs(requester.address)] == [job.id]
        assert await requester.jobs(worker.address) == []

    run(scenario())


def test_redundant_job_commit_reveal_and_stake_exit(result_server: tuple[ResultStore, str], tmp_path: Path) -> None:
    """On its own chain: on the shared one, workers other tests staked for echo may be drawn."""
    with local_market(tmp_path) as (chain, deployed):
        run_redundant_scenario(chain.w3, deployed, result_server)


def run_redundant_scenario(w3: Web3, deployment: Deployment, result_server: tuple[ResultStore, str]) -> None:
    requester = twin(w3, deployment, 1)
    workers = [twin(w3, deployment, i) for i in (2, 3)]

    async def scenario() -> None:
        for worker in workers:
            await worker.stake(STAKE)
            await worker.join_model(ECHO)
        job = await requester.post_job(ECHO, "vote", reward=2 * REWARD, redundancy=2)
        by_address = {w.address: w for w in workers}
        digest, uri = publish(result_server, b"same answer")
        salts = [bytes([slot + 7]) * 32 for slot in range(2)]
        holders = list(enumerate(job.terms.assignees))
        if ZERO_ADDRESS in job.terms.assignees:  # each slot's draw may hit the other slot's worker
            # every time (4 tries): the slot is then open to any serving worker after two windows
            await asyncio.to_thread(time_travel, w3, 2 * MARKET_PARAMS.accept_window + 1)
            idle = [w.address for w in workers if w.address not in job.terms.assignees]
            holders = [(slot, idle.pop() if a == ZERO_ADDRESS else a) for slot, a in holders]
        await asyncio.gather(*(by_address[a].commit(job, slot, digest, salts[slot]) for slot, a in holders))
        assert await job.status() == JobPhase.REVEALING
        for slot, address in holders:
            await by_address[address].reveal(job, slot, digest, salts[slot], uri)
        await asyncio.to_thread(time_travel, w3, 1)
        await job.settle()
        assert (await job.wait(timeout=10)).payload == b"same answer"

        leaver = workers[0]
        await leaver.leave_model(ECHO)
        assert await leaver.models_served() == []
        await leaver.request_unstake(STAKE)
        with pytest.raises(errors.RegistryCooldownActive):
            await leaver.withdraw_stake()
        await asyncio.to_thread(time_travel, w3, MARKET_PARAMS.unstake_cooldown + 1)
        await leaver.withdraw_stake()
        assert (await leaver.stake_of()).free == 0

    run(scenario())


def test_batch_cancel_refund_and_typed_errors(w3: Web3, deployment: Deployment) -> None:
    requester = twin(w3, deployment, 1)

    async def scenario() -> None:
        assert await requester.register_model(ECHO) == ECHO.model_id  # already registered: no transaction
        registered = {m.model_id: m for m in await requester.registered_models()}
        assert registered[ECHO.model_id].manifest == ECHO  # read back from its data: URI and hash-checked
        batch = await requester.post_jobs(ECHO, ["a", "b", "c"], reward=REWARD)
        assert [j.id for j in batch] == [1, 2, 3] and all(isinstance(j, AsyncJob) for j in batch)
        await batch[0].cancel()
        with pytest.raises(JobNotCompleted, match="cancelled"):
            await batch[0].wait(timeout=5)
        with pytest.raises(JobTimeout, match="still assigning"):
            await batch[1].wait(timeout=0.3, poll_interval=0.1)
        with pytest.raises(errors.MarketTooEarly):
            await batch[2].refund()
        await asyncio.to_thread(time_travel, w3, 601)
        with pytest.raises(JobNotCompleted, match="expired"):
            await batch[2].wait(timeout=5)
        await batch[2].refund()
        assert await requester.balance() == 2 * REWARD
        assert [refund.job_id for refund in await requester.refund_expired()] == [batch[1].id]  # the last one
        assert await requester.balance() == 3 * REWARD
        again = await requester.job(batch[2].id)
        assert again.terms == batch[2].terms and await again.status() == JobPhase.CLOSED
        with pytest.raises(ConfigError, match="redundancy"):
            await requester.post_job(ECHO, "x", reward=REWARD, redundancy=9)

    run(scenario())


def test_wait_is_cancellable_between_rounds(w3: Web3, deployment: Deployment) -> None:
    requester = twin(w3, deployment, 1)

    async def scenario() -> None:
        job = await requester.post_job(ECHO, "never answered", reward=REWARD)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(job.wait(timeout=600), 1.0)
        assert await job.status() == JobPhase.ASSIGNING  # nothing sent, nothing lost

    run(scenario())


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_events_follow_new_jobs_in_order(
    transport: str, anvil: Anvil, w3: Web3, deployment: Deployment, tmp_path: Path
) -> None:
    ws_url = anvil.url.replace("http://", "ws://") if transport == "websocket" else None
    requester = twin(w3, deployment, 1, ws_url)

    async def scenario() -> None:
        earlier = await requester.post_job(ECHO, "before the stream", reward=REWARD)
        stream = requester.events(poll_interval=0.1)  # from the next block
        follower = asyncio.create_task(take(stream, 4))
        await asyncio.sleep(0.5)  # subscribed / first poll done
        posted = [await requester.post_job(ECHO, f"job {n}", reward=REWARD) for n in range(3)]
        await posted[0].cancel()
        events = await follower
        assert [(e.name, e.job_id) for e in events] == [
            *(("JobPosted", job.id) for job in posted),
            ("JobCancelled", posted[0].id),
        ]
        assert earlier.id not in {e.job_id for e in events}
        assert all(not e.removed and e.block_number > 0 and len(e.tx_hash) == 32 for e in events)
        assert events[0].args["requester"] == requester.address

        # one job's whole history, past included, through the same transport
        history = await take(posted[0].events(poll_interval=0.1), 2)
        assert [e.name for e in history] == ["JobPosted", "JobCancelled"]
        only_cancels = await take(requester.events(deployment.start_block, names=["JobCancelled"]), 1)
        assert only_cancels[0].job_id == posted[0].id

    run(scenario())


def test_events_refuse_unknown_names_and_bad_options(w3: Web3, deployment: Deployment) -> None:
    requester = twin(w3, deployment, 1)

    async def scenario() -> None:
        with pytest.raises(ConfigError, match="not job events: Transfer"):
            await take(requester.events(names=["Transfer"]), 1)
        with pytest.raises(ConfigError, match="confirmations"):
            await take(requester.events(confirmations=-1), 1)

    run(scenario())


def test_events_with_confirmations_wait_for_depth(w3: Web3, deployment: Deployment) -> None:
    requester = twin(w3, deployment, 1)

    async def scenario() -> None:
        start = w3.eth.block_number + 1
        follower = asyncio.create_task(take(requester.events(start, poll_interval=0.05, confirmations=2), 1))
        job = await requester.post_job(ECHO, "deep enough?", reward=REWARD)
        await asyncio.sleep(0.5)
        assert not follower.done(), "an event was passed on before it had 2 confirmations"
        await asyncio.to_thread(lambda: [w3.provider.make_request("evm_mine", []) for _ in range(2)])  # type: ignore[arg-type]
        (event,) = await follower
        assert event.name == "JobPosted" and event.job_id == job.id

    run(scenario())


def test_a_websocket_that_cannot_connect_or_goes_away_raises_chain_error(
    w3: Web3, deployment: Deployment, tmp_path: Path
) -> None:
    nowhere = twin(w3, deployment, 1, f"ws://127.0.0.1:{free_port()}")

    async def unreachable() -> None:
        with pytest.raises(ChainError, match="follow again from block"):
            await take(nowhere.events(reconnects=0), 1)

    run(unreachable())

    with local_market(tmp_path) as (chain, deployed):
        client = AsyncAssayClient(
            AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed), ws_url=chain.url.replace("http", "ws")
        )

        async def node_stops() -> None:
            follower = asyncio.create_task(take(client.events(reconnects=1), 1))
            await asyncio.sleep(1.0)  # subscribed
            await asyncio.to_thread(chain.stop)
            with pytest.raises(ChainError, match="follow again from block"):  # after one more try
                await follower

        run(node_stops())


class CuttableProxy:
    """A TCP proxy in front of anvil whose open connections can be cut, as a load balancer or a
    flaky network drops a websocket."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self.lock:
                self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def cut(self) -> None:
        with self.lock:
            for connection in self.open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self.open.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def test_a_dropped_websocket_is_connected_again_without_losing_or_repeating_events(
    anvil: Anvil, w3: Web3, deployment: Deployment
) -> None:
    proxy = CuttableProxy(int(urlsplit(anvil.url).port or 0))
    requester = twin(w3, deployment, 1, f"ws://127.0.0.1:{proxy.port}")

    async def scenario() -> None:
        follower = asyncio.create_task(take(requester.events(), 4))
        await asyncio.sleep(0.5)  # subscribed
        first = await requester.post_job(ECHO, "before the cut", reward=REWARD)
        await asyncio.sleep(0.3)  # pushed and passed on
        proxy.cut()
        during = [await requester.post_job(ECHO, f"while reconnecting {n}", reward=REWARD) for n in range(3)]
        events = await follower
        assert [(e.name, e.job_id) for e in events] == [("JobPosted", job.id) for job in (first, *during)]

    try:
        run(scenario())
    finally:
        proxy.close()


def test_a_websocket_dropped_again_and_again_on_a_quiet_market_keeps_following(
    anvil: Anvil, w3: Web3, deployment: Deployment
) -> None:
    """Each drop is answered by a successful reconnect: drops with no event between them (a proxy
    closing idle websockets) must not use up the reconnect budget."""
    proxy = CuttableProxy(int(urlsplit(anvil.url).port or 0))
    requester = twin(w3, deployment, 1, f"ws://127.0.0.1:{proxy.port}")

    async def scenario() -> None:
        follower = asyncio.create_task(take(requester.events(reconnects=1), 1))
        for _ in range(3):
            await asyncio.sleep(1.5)  # (re)subscribed
            proxy.cut()
        await asyncio.sleep(1.5)
        job = await requester.post_job(ECHO, "after three drops", reward=REWARD)
        (event,) = await follower
        assert (event.name, event.job_id) == ("JobPosted", job.id)

    try:
        run(scenario())
    finally:
        proxy.close()


def test_a_batch_job_through_the_async_client(
    w3: Web3, deployment: Deployment, result_server: tuple[ResultStore, str]
) -> None:
    requester, worker = twin(w3, deployment, 1), twin(w3, deployment, 2)
    texts = ["first", "second", "third"]

    async def scenario() -> None:
        await worker.stake(STAKE)
        await worker.join_model(ECHO)
        job = await requester.post_batch(ECHO, texts, reward=REWARD)
        assert isinstance(job, AsyncJob)
        assert decode_batch(await job.input()) == [text.encode() for text in texts]
        digest, uri = publish(result_server, encode_batch([text.upper() for text in texts]))
        await worker.accept(job)
        await worker.submit_result(job, digest, uri)
        result = await job.wait(timeout=30, until="submitted")
        assert result.items() == [b"FIRST", b"SECOND", b"THIRD"]

    asyncio.run(scenario())
