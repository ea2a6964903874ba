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


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[Anvil, Deployment, Path]]:
    """A chain per case: only this case's workers are staked, so the draws pick them."""
    with Anvil(block_time=1) as anvil:
        deployed = deploy_contracts(anvil.w3, Account.from_key(ANVIL_KEYS[0]), MARKET_PARAMS)
        folder = tmp_path / "deployments"
        deployed.save(folder)
        yield anvil, deployed, folder


def journal_states(path: Path, job_id: int) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT state FROM history WHERE job_id = ? ORDER BY id", (job_id,))]


@pytest.mark.parametrize(
    ("failpoint", "redundancy", "state_at_crash"),
    [("submit", 1, "submitting"), ("settle", 1, "settling"), ("commit", 2, "committing"), ("reveal", 2, "revealing")],
)
def test_worker_killed_after_each_step_resumes_from_its_journal(
    chain: tuple[Anvil, Deployment, Path], tmp_path: Path, failpoint: str, redundancy: int, state_at_crash: str
) -> None:
    anvil, deployed, folder = chain
    requester = AssayClient(anvil.w3, ANVIL_KEYS[1], deployment=deployed)
    key = ANVIL_KEYS[2]
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
    # a redundant job needs a second worker; it runs undisturbed
    partner = (
        WorkerProcess(
            **{
                **common,
                "key": ANVIL_KEYS[3],
                "results_dir": tmp_path / "partner",  # type: ignore[arg-type]
                "journal": tmp_path / "partner.sqlite",
                "port": free_port(),
            },
            log_path=tmp_path / "partner.log",
        )
        if redundancy > 1
        else None
    )
    doomed = WorkerProcess(
        **common,  # type: ignore[arg-type]
        log_path=tmp_path / "crashed.log",
        extra_env={"ASSAY_WORKER_FAILPOINT": failpoint},
    )
    try:
        doomed.wait_ready()
        if partner is not None:
            partner.wait_ready()
        job = requester.post_job(ECHO, f"crash after {failpoint}", reward=REWARD, redundancy=redundancy)
        assert doomed.process.wait(timeout=90) == -9, (tmp_path / "crashed.log").read_text()
        doomed.stop()
        # the intent is durable; its outcome was never written
        assert journal_states(tmp_path / "journal.sqlite", job.id)[-1] == state_at_crash

        restarted = WorkerProcess(**common, log_path=tmp_path / "restarted.log")  # type: ignore[arg-type]
        try:
            restarted.wait_ready()
            result = job.wait(timeout=90)
            health = restarted.health()
        finally:
            assert restarted.stop() == 0
    finally:
        if partner is not None:
            assert partner.stop() == 0
    log = (tmp_path / "restarted.log").read_text()
    assert f"job {job.id}: resuming from journal state '{state_at_crash}'" in log
    assert health["jobs_resumed"] == 1
    assert result.json()["text"] == f"crash after {failpoint}"
    assert job.status() == JobPhase.CLOSED and job.info().success
    assert journal_states(tmp_path / "journal.sqlite", job.id)[-1] == "settled"
    # paid once, never slashed: all it ever staked is free again (the restart may have topped
    # up its free stake while the job's collateral was locked)
    share = REWARD // redundancy
    assert requester.balance(address) == share - share * MARKET_PARAMS.fee_bps // 10_000
    registry = requester.registry.events
    stakes = registry.Staked.get_logs(from_block=0, argument_filters={"worker": address})
    deposited = sum(log["args"]["amount"] for log in stakes)
    assert deposited >= STAKE
    assert not registry.StakeSlashed.get_logs(from_block=0, argument_filters={"worker": address})
    stake = requester.stake_of(address)
    assert (stake.free, stake.locked) == (deposited, 0)
    # no step was sent twice for this job
    market = requester.market.events
    mine = {"jobId": job.id, "worker": address}
    steps = (market.ResultSubmitted,) if redundancy == 1 else (market.ResultCommitted, market.ResultRevealed)
    for event in steps:
        assert len(event.get_logs(from_block=0, argument_filters=mine)) == 1
    assert len(market.JobSettled.get_logs(from_block=0, argument_filters={"jobId": job.id})) == 1
