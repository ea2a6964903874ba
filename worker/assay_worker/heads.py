"""New blocks pushed over a websocket (`eth_subscribe("newHeads")`), so that the worker starts a
round as soon as a block arrives instead of asking for the head every poll interval.

The subscription runs on its own thread with its own event loop; the worker's rounds stay on
the main thread and only wait on `on_head`'s signal. A dropped socket is reopened with backoff,
and while it is down `connected` is clear so that the worker polls as if there were none."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception_type, wait_exponential_jitter
from web3 import AsyncWeb3, WebSocketProvider
from web3.exceptions import Web3Exception
from websockets.exceptions import WebSocketException

log = logging.getLogger("assay.worker.heads")


class _Closed(ConnectionError):
    """The node ended the subscription stream."""


class HeadWatcher:
    """Calls `on_head(block_number)` for every new block the node at `ws_url` announces."""

    def __init__(self, ws_url: str, on_head: Callable[[int], None]) -> None:
        self.ws_url = ws_url
        self.on_head = on_head
        self.connected = threading.Event()
        self.heads = 0  # blocks announced so far, for the metrics
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name="assay-heads", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._task = self._loop.create_task(self._follow_forever())
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    async def _follow_forever(self) -> None:
        attempts = AsyncRetrying(
            retry=retry_if_exception_type((OSError, WebSocketException, Web3Exception, TimeoutError)),
            wait=wait_exponential_jitter(multiplier=0.5, max=30, jitter=1),
            before_sleep=before_sleep_log(log, logging.WARNING),
        )
        async for attempt in attempts:
            with attempt:
                try:
                    await self._follow()
                finally:
                    self.connected.clear()

    async def _follow(self) -> None:
        async with AsyncWeb3(WebSocketProvider(self.ws_url)) as w3:
            await w3.eth.subscribe("newHeads")
            self.connected.set()
            log.info("new blocks pushed from %s", self.ws_url)
            async for message in w3.socket.process_subscriptions():
                self.heads += 1
                self.on_head(int(message["result"]["number"]))
        raise _Closed(f"{self.ws_url} closed the newHeads subscription")
