"""The node under a worker goes away mid-run and comes back from its state dump (anvil --state:
dumped when stopped, loaded at start): the worker rides out the outage on its RPC error path and
finishes every job, those taken before the restart and those posted after it."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

from assay import ECHO, AssayClient
from assay._deploy import deploy_contracts
from assay.devnet import ANVIL_KEYS, Anvil, free_port
from eth_account import Account

from .conftest import MARKET_PARAMS, wait_for, worker_process

REWARD = 10**15


def test_worker_finishes_its_jobs_across_a_node_restart_from_a_state_dump(tmp_path: Path) -> None:
    port, state = free_port(), tmp_path / "anvil-state.json"
    chain = Anvil(port, block_time=1, state=state).start()
    worker = None
    try:
        deployed = deploy_contracts(chain.w3, Account.from_key(ANVIL_KEYS[0]), MARKET_PARAMS)
        deployed.save(tmp_path)
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        worker = worker_process(chain, tmp_path)
        worker.wait_ready()
        before = requester.post_job(ECHO, "before the restart", reward=REWARD)
        before.wait(timeout=60, until="submitted")
        in_flight = requester.post_job(ECHO, "posted just before the restart", reward=REWARD)
        head = chain.w3.eth.block_number

        chain.stop()  # anvil dumps its state on the way out
        assert state.stat().st_size > 0
        # the node stays down until the worker has failed three rounds (a fixed sleep could fall
        # inside one long pause or one transport-level retry and see no failure at all)
        log_file = tmp_path / "worker2.log"
        wait_for(lambda: len(rpc_failures(log_file)) >= 3, explain=lambda: "the worker never noticed the node was gone")
        chain = Anvil(port, block_time=1, state=state).start()
        assert chain.w3.eth.block_number >= head  # the chain came back, not a fresh one

        after = requester.post_job(ECHO, "posted after the restart", reward=REWARD)
        texts = [job.wait(timeout=90).json()["text"] for job in (before, in_flight, after)]
        assert texts == ["before the restart", "posted just before the restart", "posted after the restart"]
        health = worker.health()
        assert health["rpc_errors"] > 0 and health["jobs_failed"] == 0 and health["jobs_settled"] == 3
        assert requester.stake_of(Account.from_key(ANVIL_KEYS[2]).address).locked == 0
        # while the node was down the worker backed off: each failed round waited longer than the last
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(rpc_failures(log_file))]
        assert len(gaps) >= 2 and gaps[-1] > 1.5 * gaps[0], gaps
    finally:
        if worker is not None:
            assert worker.stop() == 0
        chain.stop()


def rpc_failures(log_file: Path) -> list[datetime]:
    """When the worker logged each round that an RPC error cut short (not a step whose send
    failed: that is logged apart, and does not back the polling off)."""
    return [
        datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
        for line in log_file.read_text().splitlines()
        if "RPC error, retrying next round" in line
    ]
