"""Hostile job inputs against a real worker: an input whose bytes do not match the hash on chain,
one larger than the fetch limit (a server that never stops sending), and a job for a model the
worker does not serve. Each is refused before any slot is taken (no collateral locked), the
reason is logged, and the worker goes on to serve the next honest job."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from assay import ECHO, SENTIMENT_MINILM, AssayClient, JobPhase
from assay.devnet import ANVIL_KEYS
from eth_account import Account

from .conftest import local_market, worker_process

REWARD = 10**15


class Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        if self.path == "/endless":  # no Content-Length: only counting the bytes can stop it
            try:
                for _ in range(5 * 1024):  # 5 MiB, over the 4 MiB limit
                    self.wfile.write(b"x" * 1024)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the worker hung up once it had seen too much: as it should
        else:
            self.wfile.write(b"not the bytes that were hashed")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def hostile_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_hostile_inputs_are_refused_before_taking_a_slot(tmp_path: Path, hostile_server: str) -> None:
    worker_address = Account.from_key(ANVIL_KEYS[2]).address
    with local_market(tmp_path) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        worker = worker_process(chain, tmp_path)  # serves the echo model only
        try:
            worker.wait_ready()
            mismatched = requester.post_job(ECHO, b"the real input", reward=REWARD, input_uri=f"{hostile_server}/x")
            endless = requester.post_job(ECHO, b"small", reward=REWARD, input_uri=f"{hostile_server}/endless")
            unserved = requester.post_job(SENTIMENT_MINILM, "not this worker's model", reward=REWARD)
            honest = requester.post_job(ECHO, "still serving", reward=REWARD)
            assert honest.wait(timeout=60).json()["text"] == "still serving"
            health = worker.health()
        finally:
            assert worker.stop() == 0
        log = (tmp_path / "worker2.log").read_text()

        assert health["jobs_refused"] == 2 and health["jobs_failed"] == 0
        assert f"job {mismatched.id}" in log and "hashes to 0x" in log and "is on chain" in log
        assert f"job {endless.id}" in log and "sent more than 4194304 bytes" in log
        for job in (mismatched, endless, unserved):
            assert job.status() == JobPhase.ASSIGNING
            assert [e.name for e in job.history()] == ["JobPosted"]  # no slot taken by anyone
        stake = requester.stake_of(worker_address)
        assert stake.locked == 0  # the honest job settled; nothing is held for the refused ones
