"""A job the worker has taken is reorganised away (anvil_reorg), either after its submit landed
or while the submit still waits in the mempool; the worker notices, drops the job without
sending anything for it again, and serves the job that takes its id on the new chain exactly
once."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from assay import ECHO, AssayClient, JobPhase
from assay.devnet import ANVIL_KEYS
from assay_worker.launcher import WorkerProcess
from eth_account import Account

from .conftest import MARKET_PARAMS, local_market, worker_process
from .conftest import wait_for as shared_wait_for

REWARD = 10**15


def wait_for(condition: Callable[[], bool], worker: WorkerProcess, timeout: float = 90) -> None:
    shared_wait_for(condition, timeout, explain=lambda: f"worker log:\n{worker.log_text()[-3000:]}")


def journal_states(folder: Path) -> list[str]:
    with sqlite3.connect(folder / "worker2" / "journal.sqlite") as db:
        return [row[0] for row in db.execute("SELECT state FROM history WHERE job_id = 1 ORDER BY id")]


@pytest.mark.parametrize("moment", ["after its submit landed", "while its submit is pending"])
def test_reorganised_job_is_dropped_and_its_successor_served(tmp_path: Path, moment: str) -> None:
    # a long window keeps the doomed job submitted, unpaid, until the reorg; the test then moves
    # the clock past it for the successor
    params = dataclasses.replace(MARKET_PARAMS, challenge_window=300)
    with local_market(tmp_path, params) as (chain, deployed):
        w3 = chain.w3
        rpc = w3.provider.make_request
        requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployed)
        address = Account.from_key(ANVIL_KEYS[2]).address
        worker = worker_process(chain, tmp_path)
        try:
            worker.wait_ready()
            doomed = requester.post_job(ECHO, "doomed", reward=REWARD)
            assert doomed.receipt is not None
            posted_at = doomed.receipt["blockNumber"]
            if moment == "after its submit landed":
                wait_for(lambda: doomed.status() == JobPhase.CHALLENGEABLE, worker)
                wait_for(lambda: journal_states(tmp_path)[-1:] == ["submitted"], worker)  # it has the receipt
                rpc("evm_setIntervalMining", [0])  # type: ignore[arg-type]  # no block lands mid-reorg
            else:
                rpc("evm_setIntervalMining", [0])  # type: ignore[arg-type]  # the submit will not be mined
                wait_for(
                    lambda: w3.eth.get_transaction_count(address, "pending") > w3.eth.get_transaction_count(address),
                    worker,
                )
                assert journal_states(tmp_path)[-1:] == ["submitting"] and doomed.status() != JobPhase.CHALLENGEABLE
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
        doomed_steps = (
            ["working", "submitting", "submitted"] if moment == "after its submit landed" else ["working", "submitting"]
        )
        lifecycle = ["working", "submitting", "submitted"]
        assert journal_states(tmp_path) == [*doomed_steps, "lost", *lifecycle, "settling", "settled"]
