"""A job the worker has already taken and submitted is reorganised away (anvil_reorg); the
worker notices, drops it without sending anything for it, and serves the job that takes its id
on the new chain exactly once."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from assay import ECHO, AssayClient, JobPhase
from assay.devnet import ANVIL_KEYS
from assay_worker.launcher import WorkerProcess
from eth_account import Account

from .conftest import MARKET_PARAMS, local_market, worker_process

REWARD = 10**15


def wait_for(condition: Callable[[], bool], worker: WorkerProcess, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; worker log:\n{worker.log_text()[-3000:]}"
        time.sleep(0.2)


def journal_states(folder: Path) -> list[str]:
    with sqlite3.connect(folder / "worker2" / "journal.sqlite") as db:
        return [row[0] for row in db.execute("SELECT state FROM history WHERE job_id = 1 ORDER BY id")]


def test_reorganised_job_is_dropped_and_its_successor_served(tmp_path: Path) -> None:
    # a long window keeps the doomed job submitted, unpaid, until the reorg; the test then moves
    # the clock past it for the successor
    params = dataclasses.replace(MARKET_PARAMS, challenge_window=300)
    with local_market(tmp_path, params) as (chain, deployed):
        w3 = chain.w3
        requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployed)
        address = Account.from_key(ANVIL_KEYS[2]).address
        worker = worker_process(chain, tmp_path)
        try:
            worker.wait_ready()
            doomed = requester.post_job(ECHO, "doomed", reward=REWARD)
            assert doomed.receipt is not None
            posted_at = doomed.receipt["blockNumber"]
            wait_for(lambda: doomed.status() == JobPhase.CHALLENGEABLE, worker)
            # and the worker has its receipt (a reorg while it still waits for one is another case)
            wait_for(lambda: journal_states(tmp_path)[-1:] == ["submitted"], worker)
            rpc = w3.provider.make_request
            rpc("evm_setIntervalMining", [0])  # type: ignore[arg-type]  # no block lands mid-reorg
            rpc("anvil_reorg", [w3.eth.block_number - posted_at + 1, []])  # type: ignore[arg-type]
            rpc("evm_setIntervalMining", [1])  # type: ignore[arg-type]
            assert requester.market.functions.jobCount().call() == 0
            wait_for(lambda: worker.health()["reorgs"] >= 1, worker)
            wait_for(lambda: journal_states(tmp_path)[-1:] == ["lost"], worker)

            successor = requester.post_job(ECHO, "successor", reward=REWARD)
            assert successor.id == doomed.id  # the id is reused on the new chain
            wait_for(lambda: successor.status() == JobPhase.CHALLENGEABLE, worker)
            rpc("evm_increaseTime", [300])  # type: ignore[arg-type]
            result = successor.wait(timeout=90)
        finally:
            assert worker.stop() == 0

        assert result.json()["text"] == "successor" and result.worker == address
        events = requester.market.events
        for event in (events.SlotAccepted, events.ResultSubmitted, events.JobSettled):
            assert len(event.get_logs(from_block=0)) == 1
        assert not requester.registry.events.StakeSlashed.get_logs(from_block=0)
        assert requester.stake_of(address).locked == 0
        log = worker.log_text()
        assert "reorg: blocks from" in log
        # the journal dropped the reorganised job before serving its successor, and sent nothing twice
        lifecycle = ["working", "submitting", "submitted"]
        assert journal_states(tmp_path) == [*lifecycle, "lost", *lifecycle, "settling", "settled"]
