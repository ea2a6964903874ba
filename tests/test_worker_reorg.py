"""A job the worker has already claimed and submitted is reorganised away (anvil_reorg); the
worker notices, drops it without sending anything for it, and serves the job that takes its id
on the new chain exactly once."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from pathlib import Path

from assay import ECHO, AssayClient, JobPhase
from assay._deploy import deploy_contracts
from assay.devnet import ANVIL_KEYS, Anvil, free_port
from assay_worker.launcher import WorkerProcess
from eth_account import Account

from .conftest import MARKET_PARAMS

REWARD = 10**15


def wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def journal_states(folder: Path) -> list[str]:
    with sqlite3.connect(folder / "journal.sqlite") as db:
        return [row[0] for row in db.execute("SELECT state FROM history WHERE job_id = 1 ORDER BY id")]


def test_reorganised_job_is_dropped_and_its_successor_served(tmp_path: Path) -> None:
    params = dataclasses.replace(MARKET_PARAMS, challenge_window=8)  # keeps the job submitted for a while
    with Anvil(block_time=1) as chain:
        w3 = chain.w3
        deployed = deploy_contracts(w3, Account.from_key(ANVIL_KEYS[0]), params)
        deployed.save(tmp_path)
        requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployed)
        address = Account.from_key(ANVIL_KEYS[2]).address
        worker = WorkerProcess(
            rpc_url=chain.url,
            key=ANVIL_KEYS[2],
            deployments=tmp_path,
            models=[ECHO.name],
            results_dir=tmp_path / "results",
            port=free_port(),
            log_path=tmp_path / "worker.log",
        )
        try:
            worker.wait_ready()
            doomed = requester.post_job(ECHO, "doomed", reward=REWARD)
            assert doomed.receipt is not None
            posted_at = doomed.receipt["blockNumber"]
            wait_for(lambda: doomed.status() == JobPhase.SUBMITTED)
            depth = w3.eth.block_number - posted_at + 1
            w3.provider.make_request("anvil_reorg", [depth, []])  # type: ignore[arg-type]
            assert requester.market.functions.jobCount().call() == 0
            wait_for(lambda: worker.health()["reorgs"] >= 1)
            wait_for(lambda: journal_states(tmp_path)[-1:] == ["lost"])

            successor = requester.post_job(ECHO, "successor", reward=REWARD)
            assert successor.id == doomed.id  # the id is reused on the new chain
            result = successor.wait(timeout=90)
        finally:
            assert worker.stop() == 0

        assert result.json()["text"] == "successor" and result.worker == address
        events = requester.market.events
        for event in (events.JobClaimed, events.ResultSubmitted, events.JobFinalized):
            assert len(event.get_logs(from_block=0)) == 1
        assert not requester.staking.events.CollateralSlashed.get_logs(from_block=0)
        assert requester.stake_of(address).locked == 0
        log = (tmp_path / "worker.log").read_text()
        assert "reorg: blocks from" in log
        # the journal dropped the reorganised job before serving its successor, and sent nothing twice
        lifecycle = ["claiming", "claimed", "submitting", "submitted"]
        assert journal_states(tmp_path) == [*lifecycle, "lost", *lifecycle, "finalizing", "finalized"]
