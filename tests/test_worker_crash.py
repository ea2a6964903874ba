"""Crash safety: the worker is SIGKILLed right after each lifecycle transaction, before its
journal records the outcome, then restarted on the same journal. The job must still complete,
paid exactly once, and the honest worker must keep its whole stake."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from assay import ECHO, AssayClient, Deployment, JobPhase
from assay._deploy import deploy_contracts
from assay.devnet import ANVIL_KEYS, Anvil, free_port
from assay_worker.launcher import WorkerProcess
from eth_account import Account

from .conftest import MARKET_PARAMS

REWARD = 10**16
STAKE = 10**17
FEE = REWARD * MARKET_PARAMS.fee_bps // 10_000


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Anvil, Deployment, Path]]:
    with Anvil(block_time=1) as anvil:
        deployed = deploy_contracts(anvil.w3, Account.from_key(ANVIL_KEYS[0]), MARKET_PARAMS)
        folder = tmp_path_factory.mktemp("crash-deployments")
        deployed.save(folder)
        yield anvil, deployed, folder


def journal_states(path: Path, job_id: int) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT state FROM history WHERE job_id = ? ORDER BY id", (job_id,))]


@pytest.mark.parametrize(
    ("failpoint", "key_index", "state_at_crash"),
    [("claim", 2, "claiming"), ("submit", 3, "submitting"), ("finalize", 4, "finalizing")],
)
def test_worker_killed_after_each_step_resumes_from_its_journal(
    chain: tuple[Anvil, Deployment, Path], tmp_path: Path, failpoint: str, key_index: int, state_at_crash: str
) -> None:
    anvil, deployed, folder = chain
    requester = AssayClient(anvil.w3, ANVIL_KEYS[1], deployment=deployed)
    key = ANVIL_KEYS[key_index]
    address = Account.from_key(key).address
    common = {
        "rpc_url": anvil.url,
        "key": key,
        "deployments": folder,
        "models": [ECHO.name],
        "results_dir": tmp_path / "results",
        "journal": tmp_path / "journal.sqlite",
        "port": free_port(),  # the same after the restart: submitted result URIs must stay valid
    }
    doomed = WorkerProcess(
        **common,  # type: ignore[arg-type]
        log_path=tmp_path / "crashed.log",
        extra_env={"ASSAY_WORKER_FAILPOINT": failpoint},
    )
    doomed.wait_ready()
    job = requester.post_job(ECHO, f"crash after {failpoint}", reward=REWARD)
    assert doomed.process.wait(timeout=60) == -9, (tmp_path / "crashed.log").read_text()
    doomed.stop()
    # the intent is durable; its outcome was never written
    assert journal_states(tmp_path / "journal.sqlite", job.id)[-1] == state_at_crash

    restarted = WorkerProcess(**common, log_path=tmp_path / "restarted.log")  # type: ignore[arg-type]
    try:
        restarted.wait_ready()
        result = job.wait(timeout=60)
        health = restarted.health()
    finally:
        assert restarted.stop() == 0
    log = (tmp_path / "restarted.log").read_text()
    assert f"job {job.id}: resuming from journal state '{state_at_crash}'" in log
    assert health["jobs_resumed"] == 1
    assert result.worker == address and result.json()["text"] == f"crash after {failpoint}"
    assert job.status() == JobPhase.FINALIZED
    assert journal_states(tmp_path / "journal.sqlite", job.id)[-1] == "finalized"
    # paid once, never slashed: all it ever staked is free again (the restart may have topped
    # up its free stake while the job's collateral was locked)
    assert requester.balance(address) == REWARD - FEE
    staking = requester.staking.events
    stakes = staking.Staked.get_logs(from_block=0, argument_filters={"worker": address})
    deposited = sum(log["args"]["amount"] for log in stakes)
    assert deposited >= STAKE
    assert not staking.CollateralSlashed.get_logs(from_block=0, argument_filters={"worker": address})
    stake = requester.stake_of(address)
    assert (stake.free, stake.locked) == (deposited, 0)
    # no step was sent twice: one claim, one submit, one finalize for this job
    market = requester.market.events
    for event in (market.JobClaimed, market.ResultSubmitted, market.JobFinalized):
        assert len(event.get_logs(from_block=0, argument_filters={"jobId": job.id})) == 1
