"""The SDK against a real anvil chain and the real contracts: the single-worker lifecycle,
refunds, missed deadlines and the typed errors on each bad path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from assay import (
    ECHO,
    AssayClient,
    ChainMismatch,
    ConfigError,
    ContractRevert,
    Deployment,
    DeploymentNotFound,
    JobNotCompleted,
    JobPhase,
    JobTimeout,
    ResultMismatch,
    UnsafeURI,
    content_hash,
    errors,
    gas_cost,
)
from assay.devnet import ANVIL_KEYS
from assay_worker.api import ApiServer, create_app
from assay_worker.results import ResultStore
from web3 import Web3

from .conftest import CHALLENGE_WINDOW, MARKET_PARAMS, time_travel

REWARD = 10**16
STAKE = 10**17


@pytest.fixture
def result_server(tmp_path: Path) -> Iterator[tuple[ResultStore, str]]:
    """A real HTTP server publishing results, as a worker does."""
    store = ResultStore(tmp_path / "results")
    server = ApiServer(create_app(store, lambda: {"status": "ok"}), "127.0.0.1", 0)
    server.start()
    yield store, f"http://127.0.0.1:{server.port}"
    server.stop()


def publish(result_server: tuple[ResultStore, str], payload: bytes) -> tuple[bytes, str]:
    store, base = result_server
    digest = store.put(payload)
    return digest, f"{base}/results/0x{digest.hex()}"


def test_post_job_returns_open_job_with_its_terms(requester: AssayClient) -> None:
    job = requester.post_job(ECHO, "hello", reward=REWARD, claim_timeout=60, result_timeout=120)
    info = job.info()
    assert job.id == 1 and job.receipt is not None
    assert info.phase == JobPhase.OPEN
    assert info.requester == requester.address and info.worker is None
    assert info.reward == REWARD and info.model_id == ECHO.model_id
    assert info.result_deadline - info.claim_deadline == 60
    assert requester.post_job(ECHO, b"again", reward=REWARD).id == 2


def test_full_lifecycle_pays_worker_and_treasury(
    requester: AssayClient, worker: AssayClient, treasury: str, result_server: tuple[ResultStore, str], w3: Web3
) -> None:
    worker.stake(STAKE)
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    worker.claim(job.id)
    assert job.status() == JobPhase.CLAIMED
    assert worker.stake_of().locked == REWARD  # collateral ratio 100%
    payload = b'{"answer":42}'
    digest, uri = publish(result_server, payload)
    worker.submit_result(job.id, digest, uri)
    assert job.status() == JobPhase.SUBMITTED
    assert job.wait(until="submitted", timeout=5).payload == payload
    time_travel(w3, CHALLENGE_WINDOW)
    assert job.status() == JobPhase.FINALIZABLE
    worker.finalize(job.id)
    result = job.wait(timeout=5)
    assert result.payload == payload and result.result_hash == content_hash(payload)
    assert result.worker == worker.address and result.json() == {"answer": 42}

    fee = REWARD * MARKET_PARAMS.fee_bps // 10_000
    assert worker.balance() == REWARD - fee
    assert requester.balance(treasury) == fee
    assert worker.stake_of().locked == 0 and worker.stake_of().free == STAKE
    before = w3.eth.get_balance(worker.address)
    receipt = worker.withdraw()
    assert w3.eth.get_balance(worker.address) == before + REWARD - fee - gas_cost(receipt)
    assert w3.eth.get_balance(requester.market.address) == fee


def test_finalize_pays_only_once(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str], w3: Web3
) -> None:
    worker.stake(STAKE)
    job = requester.post_job(ECHO, "once", reward=REWARD)
    worker.claim(job.id)
    worker.submit_result(job.id, *publish(result_server, b"x"))
    time_travel(w3, CHALLENGE_WINDOW)
    requester.finalize(job.id)  # anyone may finalize
    with pytest.raises(ContractRevert) as caught:
        worker.finalize(job.id)
    assert caught.value.name == "MarketWrongStatus"
    assert caught.value.args_by_name["current"] == 4  # Finalized


def test_wait_rejects_payload_that_does_not_match_chain(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str]
) -> None:
    worker.stake(STAKE)
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    worker.claim(job.id)
    _, uri = publish(result_server, b"what the worker serves")
    worker.submit_result(job.id, content_hash(b"what the worker committed"), uri)
    with pytest.raises(ResultMismatch, match="is on chain"):
        job.wait(until="submitted", timeout=5)


def test_client_off_local_chain_refuses_loopback_result_uris(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str], w3: Web3
) -> None:
    worker.stake(STAKE)
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    worker.claim(job.id)
    worker.submit_result(job.id, *publish(result_server, b"payload"))
    strict = AssayClient(w3, ANVIL_KEYS[1], deployment=requester.deployment, allow_private_uris=False)
    with pytest.raises(UnsafeURI, match="loopback"):
        strict.job(job.id).wait(until="submitted", timeout=5)
    assert requester.allow_private_uris  # the default on chain 31337


def test_unclaimed_job_is_refunded_after_claim_deadline(requester: AssayClient, w3: Web3) -> None:
    job = requester.post_job(ECHO, "nobody wants me", reward=REWARD, claim_timeout=30, result_timeout=60)
    with pytest.raises(ContractRevert, match="MarketNotRefundable"):
        job.refund()
    time_travel(w3, 31)
    assert job.status() == JobPhase.EXPIRED
    with pytest.raises(JobNotCompleted, match="expired"):
        job.wait(timeout=5)
    job.refund()
    assert job.status() == JobPhase.REFUNDED
    assert requester.balance() == REWARD
    before = w3.eth.get_balance(requester.address)
    receipt = requester.withdraw()
    assert w3.eth.get_balance(requester.address) == before + REWARD - gas_cost(receipt)
    with pytest.raises(JobNotCompleted, match="refunded"):
        job.wait(timeout=5)


def test_missed_result_deadline_slashes_worker_to_requester(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str], w3: Web3
) -> None:
    worker.stake(STAKE)
    job = requester.post_job(ECHO, "too slow", reward=REWARD, claim_timeout=30, result_timeout=60)
    worker.claim(job.id)
    collateral = job.info().collateral
    time_travel(w3, 61)
    assert job.status() == JobPhase.EXPIRED
    with pytest.raises(ContractRevert, match="MarketResultLate"):
        worker.submit_result(job.id, *publish(result_server, b"late"))
    job.refund()
    assert requester.balance() == REWARD + collateral
    stake = worker.stake_of()
    assert stake.locked == 0 and stake.free == STAKE - collateral
    assert w3.eth.get_balance(requester.market.address) == REWARD + collateral
    assert w3.eth.get_balance(worker.staking.address) == STAKE - collateral


def test_cancel_returns_reward_and_blocks_claims(requester: AssayClient, worker: AssayClient) -> None:
    worker.stake(STAKE)
    job = requester.post_job(ECHO, "never mind", reward=REWARD)
    with pytest.raises(ContractRevert, match="MarketNotRequester"):
        worker.transact(worker.market.functions.cancel(job.id))
    job.cancel()
    assert job.status() == JobPhase.CANCELLED and requester.balance() == REWARD
    with pytest.raises(ContractRevert, match="MarketWrongStatus"):
        worker.claim(job.id)
    with pytest.raises(JobNotCompleted, match="cancelled"):
        job.wait(timeout=5)


def test_claim_without_stake_names_the_shortfall(requester: AssayClient, worker: AssayClient) -> None:
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    with pytest.raises(errors.StakingInsufficientFree) as caught:
        worker.claim(job.id)
    assert isinstance(caught.value, ContractRevert) and caught.value.name == "StakingInsufficientFree"
    assert caught.value.args_by_name == {"worker": worker.address, "free": 0, "needed": REWARD}
    assert job.status() == JobPhase.OPEN


def test_wait_times_out_on_unclaimed_job(requester: AssayClient) -> None:
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    phases: list[JobPhase] = []
    with pytest.raises(JobTimeout, match="still open"):
        job.wait(timeout=0.3, poll_interval=0.1, on_progress=lambda phase, _elapsed: phases.append(phase))
    assert phases == [JobPhase.OPEN]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reward": 0}, "reward must be positive"),
        ({"job_input": b""}, "input is empty"),
        ({"job_input": b"x" * 16_385}, "limited to 16384"),
        ({"claim_timeout": 100, "result_timeout": 100}, "claim_timeout < result_timeout"),
        ({"model": b"short"}, "32 bytes"),
        ({"input_uri": "file:///etc/passwd"}, r"must be an http\(s\) URL"),
    ],
)
def test_post_job_validates_before_sending(
    requester: AssayClient, w3: Web3, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"model": ECHO, "job_input": b"ok", "reward": REWARD} | kwargs
    nonce = w3.eth.get_transaction_count(requester.address)
    with pytest.raises(ConfigError, match=message):
        requester.post_job(**args)  # type: ignore[arg-type]
    assert w3.eth.get_transaction_count(requester.address) == nonce  # nothing was sent


def test_large_input_goes_by_uri_with_its_hash_on_chain(requester: AssayClient) -> None:
    data = b"x" * 100_000
    job = requester.post_job(ECHO, data, reward=REWARD, input_uri="https://inputs.example/big")
    (posted,) = requester.market.events.JobPosted.get_logs(from_block=0, argument_filters={"jobId": job.id})
    assert posted["args"]["inputHash"] == content_hash(data)
    assert posted["args"]["inputURI"] == "https://inputs.example/big" and posted["args"]["input"] == b""


def test_client_refuses_deployment_of_another_chain(w3: Web3, deployment: Deployment) -> None:
    other = Deployment(1, deployment.job_market, deployment.staking, 0)
    with pytest.raises(ChainMismatch, match="serves chain 31337"):
        AssayClient(w3, "0x" + "11" * 32, deployment=other)


def test_client_finds_deployment_by_chain_id(w3: Web3, deployments_dir: Path, tmp_path: Path) -> None:
    client = AssayClient(w3, "0x" + "11" * 32, deployment=deployments_dir)
    assert client.market.functions.jobCount().call() == 0
    with pytest.raises(DeploymentNotFound, match=r"31337\.json does not exist"):
        AssayClient(w3, "0x" + "11" * 32, deployment=tmp_path / "empty")
    (tmp_path / "31337.json").write_text("{}")
    with pytest.raises(DeploymentNotFound, match="malformed"):
        AssayClient(w3, "0x" + "11" * 32, deployment=tmp_path)


def test_deploy_bounds_match_the_contracts(requester: AssayClient) -> None:
    from assay._deploy import _BOUNDS

    on_chain = {
        "fee_bps": requester.market.functions.MAX_FEE_BPS().call(),
        "collateral_bps": requester.market.functions.MAX_COLLATERAL_BPS().call(),
        "challenge_window": requester.market.functions.MAX_CHALLENGE_WINDOW().call(),
        "unstake_cooldown": requester.staking.functions.MAX_COOLDOWN().call(),
        "min_collateral": 2**128 - 1,
    }
    assert dict(_BOUNDS) == on_chain
