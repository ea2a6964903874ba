"""Four worker processes share fifty jobs on one chain, each job drawn for one of them by stake:
every job is settled exactly once by exactly one worker, and every wei is where it should be."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from assay import ECHO, AssayClient, JobPhase
from assay.devnet import ANVIL_KEYS
from eth_account import Account

from .conftest import MARKET_PARAMS, local_market, worker_process

JOBS = 50
REWARD = 10**15
FEE = REWARD * MARKET_PARAMS.fee_bps // 10_000


def test_four_workers_fifty_jobs(tmp_path: Path) -> None:
    with local_market(tmp_path) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        workers = [worker_process(chain, tmp_path, index) for index in (2, 3, 4, 6)]
        try:
            for worker in workers:
                worker.wait_ready()
            jobs = [requester.post_job(ECHO, f"job number {n}", reward=REWARD) for n in range(JOBS)]
            results = [job.wait(timeout=180) for job in jobs]
        finally:
            codes = [worker.stop() for worker in workers]
        assert codes == [0, 0, 0, 0]

        assert [job.status() for job in jobs] == [JobPhase.CLOSED] * JOBS
        assert [result.json()["text"] for result in results] == [f"job number {n}" for n in range(JOBS)]
        events = requester.market.events
        for event in (events.SlotAccepted, events.ResultSubmitted, events.JobSettled):
            ids = Counter(log["args"]["jobId"] for log in event.get_logs(from_block=0))
            assert set(ids) == {job.id for job in jobs} and set(ids.values()) == {1}  # once each

        served = Counter(result.worker for result in results)
        addresses = [Account.from_key(ANVIL_KEYS[index]).address for index in (2, 3, 4, 6)]
        assert set(served) <= set(addresses) and sum(served.values()) == JOBS
        assert len(served) >= 3  # stake-weighted draws spread the work (equal stakes: ~12 each)
        for address in addresses:
            assert requester.balance(address) == served[address] * (REWARD - FEE)
            assert requester.stake_of(address).locked == 0
        assert requester.balance(MARKET_PARAMS.treasury) == JOBS * FEE
        assert chain.w3.eth.get_balance(deployed.market) == JOBS * REWARD
