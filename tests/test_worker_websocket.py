"""New blocks pushed over a websocket start the worker's round at once: with a 60-second poll
interval, a worker that polls leaves a new job alone, while the same worker given the node's
websocket endpoint answers it within seconds."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from assay import ECHO, AssayClient, JobTimeout
from assay.devnet import ANVIL_KEYS

from .conftest import local_market, worker_process

SLOW_POLL = {"ASSAY_WORKER_POLL_INTERVAL": "60"}


def wait_for_push(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(f"{url}/health").json()["new_blocks"] != "pushed":
        assert time.monotonic() < deadline, "the worker never subscribed to new blocks"
        time.sleep(0.2)


def test_pushed_blocks_start_rounds_that_polling_would_start_a_minute_later(tmp_path: Path) -> None:
    with local_market(tmp_path) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)

        polling = worker_process(chain, tmp_path, extra_env=SLOW_POLL)
        try:
            polling.wait_ready()
            assert httpx.get(f"{polling.url}/health").json()["new_blocks"] == "polled"
            ignored = requester.post_job(ECHO, "polled", reward=10**15)
            with pytest.raises(JobTimeout):  # its next round is a minute away
                ignored.wait(timeout=5, until="submitted")
        finally:
            assert polling.stop() == 0

        ws_url = chain.url.replace("http://", "ws://")  # anvil serves websockets on its HTTP port
        pushed = worker_process(chain, tmp_path, extra_env=SLOW_POLL | {"ASSAY_WORKER_WS_URL": ws_url})
        try:
            pushed.wait_ready()
            wait_for_push(pushed.url)
            # within 20 s, so not by a poll round, which comes 60 s after the last
            result = requester.post_job(ECHO, "pushed", reward=10**15).wait(timeout=20, until="submitted")
            assert result.json()["text"] == "pushed"
            assert ignored.wait(timeout=20, until="submitted").json()["text"] == "polled"  # resumed too
            metrics = httpx.get(f"{pushed.url}/metrics").text
            (line,) = [m for m in metrics.splitlines() if m.startswith("assay_worker_pushed_blocks_total")]
            assert float(line.split()[-1]) > 0
        finally:
            assert pushed.stop() == 0
