"""A worker behind an RPC endpoint that fails, stalls and loses answers keeps working: every job
is settled exactly once and the worker is never slashed."""

from __future__ import annotations

from pathlib import Path

from assay import ECHO, AssayClient, JobPhase
from assay.devnet import ANVIL_KEYS
from eth_account import Account

from .conftest import MARKET_PARAMS, local_market, worker_process
from .flaky_rpc import FlakyRpc

JOBS = 8
REWARD = 10**15


def test_worker_survives_a_flaky_rpc(tmp_path: Path) -> None:
    with local_market(tmp_path) as (chain, deployed), FlakyRpc(chain.url, fail=0.08, delay=0.08, drop=0.04) as proxy:
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)  # talks to anvil directly
        worker = worker_process(chain, tmp_path, rpc_url=proxy.url)
        try:
            worker.wait_ready(timeout=120)
            jobs = [requester.post_job(ECHO, f"flaky {n}", reward=REWARD) for n in range(JOBS)]
            results = [job.wait(timeout=180) for job in jobs]
        finally:
            code = worker.stop()
        log = worker.log_text()
        assert code == 0, log
        assert proxy.counts["failed"] and proxy.counts["dropped"] and proxy.counts["delayed"], proxy.counts

        address = Account.from_key(ANVIL_KEYS[2]).address
        assert [job.status() for job in jobs] == [JobPhase.CLOSED] * JOBS
        assert {result.worker for result in results} == {address}
        events = requester.market.events
        for event in (events.SlotAccepted, events.ResultSubmitted, events.JobSettled):
            assert len(event.get_logs(from_block=0)) == JOBS  # no step twice
        assert not requester.registry.events.StakeSlashed.get_logs(from_block=0)
        fee = REWARD * MARKET_PARAMS.fee_bps // 10_000
        assert requester.balance(address) == JOBS * (REWARD - fee)
