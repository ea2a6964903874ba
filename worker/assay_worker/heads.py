"""New blocks pushed over a websocket (`eth_subscribe("newHeads")`), so that the worker starts a
round as soon as a block arrives instead of asking for the head every poll interval.

The subscription runs on its own thread with its own event loop; the worker's rounds stay on
the main thread and only wait on `on_head`'s signal. A dropped socket is reopened with backoff,
and while it is down `connected` is clear so that the worker polls as if there were none."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception_type, wait_exponential_jitter
from web3 import AsyncWeb3, WebSocketProvider
from web3.exceptions import Web3Exception
from websockets.exceptions import WebSocketException

log = logging.getLogger("assay.worker.heads")

_DROPPED = (OSError, WebSocketException, Web3Exception, TimeoutError)
"""What a lost or refused connection raises: retried with backoff."""


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
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between: its thread is ending
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._task = self._loop.create_task(self._follow_forever())
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except Exception:  # never expected: the worker goes on polling without pushed blocks
            log.exception("new-block subscription stopped for good; polling instead")
        finally:
            self.connected.clear()
            self._loop.close()

    async def _follow_forever(self) -> None:
        while True:
            # a fresh backoff for every session that got connected: after a drop the first
            # reconnect comes quickly, only repeated failures wait longer (up to 30 s)
            attempts = AsyncRetrying(
                retry=retry_if_exception_type(_DROPPED),
                wait=wait_exponential_jitter(multiplier=0.5, max=30, jitter=1),
                before_sleep=before_sleep_log(log, logging.WARNING),
            )
            async for attempt in attempts:
                with attempt:
                    await self._connect_and_follow()
            await asyncio.sleep(1.0)  # a node that drops every session at once is not hammered

    async def _connect_and_follow(self) -> None:
        """Raises while no session gets connected; returns when a connected session ends."""
        try:
            async with AsyncWeb3(WebSocketProvider(self.ws_url)) as w3:
                await w3.eth.subscribe("newHeads")
                self.connected.set()
                log.info("new blocks pushed from %s", self.ws_url)
                async for message in w3.socket.process_subscriptions():
                    self.heads += 1
                    self.on_head(int(message["result"]["number"]))
        except _DROPPED as exc:
            if not self.connected.is_set():
                raise
            log.warning("new-block subscription to %s dropped (%s); reconnecting", self.ws_url, exc)
        finally:
            self.connected.clear()
