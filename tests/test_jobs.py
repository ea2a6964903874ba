"""The SDK against a real anvil chain and the real contracts: the single-slot and redundant
lifecycles, refunds, missed deadlines and the typed errors on each bad path."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from assay import (
    ECHO,
    MINILM_L6_V2,
    AssayClient,
    ChainMismatch,
    ConfigError,
    ContractRevert,
    Deployment,
    DeploymentNotFound,
    Job,
    JobError,
    JobNotCompleted,
    JobPhase,
    JobTimeout,
    NoWorkerAvailable,
    ResultMismatch,
    UnsafeURI,
    content_hash,
    errors,
    gas_cost,
)
from assay._jobs import ZERO_ADDRESS
from assay.batch import encode_batch
from assay.devnet import ANVIL_KEYS
from assay_worker.results import ResultStore
from web3 import Web3

from .conftest import CHALLENGE_WINDOW, MARKET_PARAMS, publish, time_travel

REWARD = 10**16
STAKE = 10**17


def serve(client: AssayClient, stake: int = STAKE) -> AssayClient:
    """Stake and enter the echo model's draws."""
    client.stake(stake)
    client.join_model(ECHO)
    return client


def test_post_job_returns_job_with_its_terms(requester: AssayClient, worker: AssayClient) -> None:
    serve(worker)
    job = requester.post_job(ECHO, "hello", reward=REWARD, claim_timeout=60, result_timeout=120)
    info = job.info()
    assert job.id == 1 and job.receipt is not None
    assert info.phase == JobPhase.ASSIGNING
    assert info.requester == requester.address and info.worker is None
    assert info.reward == REWARD and info.model_id == ECHO.model_id
    assert info.terms.result_deadline - info.terms.claim_deadline == 60
    assert info.terms.assignees == (worker.address,)  # the only staked worker of the model is drawn
    assert requester.job(job.id).terms == job.terms  # read back from JobPosted
    assert requester.post_job(ECHO, b"again", reward=REWARD).id == 2


def test_model_ids_match_the_model_registry(requester: AssayClient) -> None:
    for manifest in (ECHO, MINILM_L6_V2):
        assert requester.models.functions.idOf(manifest.on_chain()).call() == manifest.model_id
        assert requester.models.functions.isRegistered(manifest.model_id).call()


def test_full_lifecycle_pays_worker_and_treasury(
    requester: AssayClient, worker: AssayClient, treasury: str, result_server: tuple[ResultStore, str], w3: Web3
) -> None:
    serve(worker)
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    payload = b'{"answer":42}'
    digest, uri = publish(result_server, payload)
    worker.submit_result(job, digest, uri)
    assert job.status() == JobPhase.CHALLENGEABLE
    collateral = job.terms.collateral
    assert collateral == REWARD * MARKET_PARAMS.collateral_bps // 10_000
    assert worker.stake_of().locked == collateral
    assert job.wait(until="submitted", timeout=5).payload == payload
    time_travel(w3, CHALLENGE_WINDOW)
    assert job.status() == JobPhase.SETTLEABLE
    worker.settle(job)
    result = job.wait(timeout=5)
    assert result.payload == payload and result.result_hash == content_hash(payload)
    assert result.worker == worker.address and result.json() == {"answer": 42}
    fee = REWARD * MARKET_PARAMS.fee_bps // 10_000
    info = job.info()
    assert info.success is True and (info.paid, info.fee, info.refunded) == (REWARD - fee, fee, 0)
    assert info.callback_failed is False

    assert worker.balance() == REWARD - fee
    assert requester.balance(treasury) == fee
    assert worker.stake_of().locked == 0 and worker.stake_of().free == STAKE
    before = w3.eth.get_balance(worker.address)
    receipt = worker.withdraw()
    assert w3.eth.get_balance(worker.address) == before + REWARD - fee - gas_cost(receipt)
    assert w3.eth.get_balance(requester.market.address) == fee


def test_a_failed_consumer_callback_shows_in_the_job_info(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str], w3: Web3
) -> None:
    """A consumer without `onJobSettled` (here the model registry) makes the callback revert;
    the job settles and pays all the same, and its info says the callback failed."""
    serve(worker)
    job = requester.post_job(
        ECHO, "call me back", reward=REWARD, consumer=requester.models.address, callback_gas=50_000
    )
    worker.submit_result(job, *publish(result_server, b"x"))
    time_travel(w3, CHALLENGE_WINDOW)
    requester.settle(job)
    info = job.info()
    assert info.success is True and info.callback_failed is True
    assert info.paid == REWARD - REWARD * MARKET_PARAMS.fee_bps // 10_000


def test_settle_pays_only_once(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str], w3: Web3
) -> None:
    serve(worker)
    job = requester.post_job(ECHO, "once", reward=REWARD)
    worker.submit_result(job, *publish(result_server, b"x"))
    time_travel(w3, CHALLENGE_WINDOW)
    with pytest.raises(JobError, match="pays the worker"):
        job.refund()  # a result was submitted: settling pays the worker, which is no refund
    assert job.status() == JobPhase.SETTLEABLE
    requester.settle(job)  # anyone may settle
    assert job.status() == JobPhase.CLOSED
    with pytest.raises(ContractRevert) as caught:
        worker.settle(job)
    assert caught.value.name in ("MarketWrongStatus", "MarketTermsMismatch")
    assert worker.balance() == REWARD - REWARD * MARKET_PARAMS.fee_bps // 10_000


def test_redundant_job_pays_the_majority_and_slashes_the_odd_one_out(
    requester: AssayClient, w3: Web3, deployment: Deployment, result_server: tuple[ResultStore, str]
) -> None:
    # one small staker among two large ones: it is rarely drawn, so the open-claiming path runs too
    stakes = {2: 100 * STAKE, 3: 100 * STAKE, 4: STAKE}
    workers = [serve(AssayClient(w3, ANVIL_KEYS[i], deployment=deployment), stakes[i]) for i in stakes]
    stake_of = {w.address: stakes[i] for w, i in zip(workers, stakes, strict=True)}
    job = requester.post_job(ECHO, "vote", reward=3 * REWARD, redundancy=3)
    drawn = [a for a in job.terms.assignees if a != ZERO_ADDRESS]
    assert len(set(drawn)) == len(drawn) and set(drawn) <= {w.address for w in workers}
    # four draws per slot may all hit workers already seated: such a slot opens to every serving
    # worker after two accept windows
    holders = list(job.terms.assignees)
    spare = iter(w.address for w in workers if w.address not in drawn)
    holders = [a if a != ZERO_ADDRESS else next(spare) for a in holders]
    if len(drawn) < 3:
        time_travel(w3, 2 * MARKET_PARAMS.accept_window + 1)
    good, uri = publish(result_server, b'{"echo":"vote"}')
    bad, bad_uri = publish(result_server, b'{"echo":"wrong"}')
    by_address = {w.address: w for w in workers}
    hashes = {}
    for slot, address in enumerate(holders):
        hashes[address] = (bad, bad_uri) if slot == 2 else (good, uri)
        by_address[address].commit(job, slot, hashes[address][0], bytes([slot + 1]) * 32)
    assert job.status() == JobPhase.REVEALING
    for slot, address in enumerate(holders):
        digest, where = hashes[address]
        by_address[address].reveal(job, slot, digest, bytes([slot + 1]) * 32, where)
    time_travel(w3, 1)
    requester.settle(job)
    result = job.wait(timeout=5)
    assert result.result_hash == good and result.json() == {"echo": "vote"}
    cheat = by_address[holders[2]]
    assert cheat.stake_of().free == stake_of[cheat.address] - job.terms.collateral  # its collateral was slashed
    assert cheat.balance() == 0
    fee = REWARD * MARKET_PARAMS.fee_bps // 10_000
    for address in holders[:2]:
        assert by_address[address].balance() == REWARD - fee


def test_wait_rejects_payload_that_does_not_match_chain(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str]
) -> None:
    serve(worker)
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    _, uri = publish(result_server, b"what the worker serves")
    worker.submit_result(job, content_hash(b"what the worker committed"), uri)
    with pytest.raises(ResultMismatch, match="is on chain"):
        job.wait(until="submitted", timeout=5)


def test_client_off_local_chain_refuses_loopback_result_uris(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str], w3: Web3
) -> None:
    serve(worker)
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    worker.submit_result(job, *publish(result_server, b"payload"))
    strict = AssayClient(w3, ANVIL_KEYS[1], deployment=requester.deployment, allow_private_uris=False)
    with pytest.raises(UnsafeURI, match="loopback"):
        strict.job(job.id).wait(until="submitted", timeout=5)
    assert requester.allow_private_uris  # the default on chain 31337


def test_untaken_job_is_refunded_after_claim_deadline_and_the_no_show_pays(
    requester: AssayClient, worker: AssayClient, w3: Web3
) -> None:
    serve(worker)
    job = requester.post_job(ECHO, "nobody wants me", reward=REWARD, claim_timeout=30, result_timeout=60)
    with pytest.raises(errors.MarketTooEarly):
        job.refund()
    time_travel(w3, 31)
    assert job.status() == JobPhase.SETTLEABLE
    with pytest.raises(JobNotCompleted, match="expired"):
        job.wait(timeout=5)
    job.refund()
    info = job.info()
    assert job.status() == JobPhase.CLOSED and info.success is False
    assert (info.paid, info.fee, info.refunded) == (0, 0, REWARD)  # the no-show penalty is credited apart
    penalty = MARKET_PARAMS.no_show_penalty  # the drawn worker let its slot lapse
    assert requester.balance() == REWARD + penalty
    assert worker.stake_of().free == STAKE - penalty
    before = w3.eth.get_balance(requester.address)
    receipt = requester.withdraw()
    assert w3.eth.get_balance(requester.address) == before + REWARD + penalty - gas_cost(receipt)
    with pytest.raises(JobNotCompleted, match="refunded"):
        job.wait(timeout=5)


def test_missed_result_deadline_slashes_worker_to_requester(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str], w3: Web3
) -> None:
    serve(worker)
    job = requester.post_job(ECHO, "too slow", reward=REWARD, claim_timeout=30, result_timeout=60)
    worker.accept(job)
    collateral = job.terms.collateral
    assert worker.stake_of().locked == collateral
    time_travel(w3, 61)
    assert job.status() == JobPhase.SETTLEABLE
    with pytest.raises(errors.MarketTooLate):
        worker.submit_result(job, *publish(result_server, b"late"))
    job.refund()
    assert requester.balance() == REWARD + collateral
    stake = worker.stake_of()
    assert stake.locked == 0 and stake.free == STAKE - collateral
    assert w3.eth.get_balance(requester.market.address) == REWARD + collateral
    assert w3.eth.get_balance(worker.registry.address) == STAKE - collateral


def test_refund_expired_settles_every_job_left_without_a_result_in_one_transaction(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str], w3: Web3
) -> None:
    """Jobs nobody took and a job whose worker missed its deadline are refunded together; a job
    with a result, one still open and another requester's job are left alone; a second call
    finds nothing and sends nothing."""
    serve(worker)
    untaken = requester.post_jobs(ECHO, ["a", "b"], reward=REWARD, claim_timeout=30, result_timeout=60)
    late = requester.post_job(ECHO, "late", reward=REWARD, claim_timeout=30, result_timeout=60)
    worker.accept(late)
    done = requester.post_job(ECHO, "done", reward=REWARD, claim_timeout=30, result_timeout=60)
    worker.submit_result(done, *publish(result_server, b"done"))
    still_open = requester.post_job(ECHO, "later", reward=REWARD, claim_timeout=600, result_timeout=1_200)
    other = AssayClient(w3, ANVIL_KEYS[3], deployment=requester.deployment)
    theirs = other.post_job(ECHO, "theirs", reward=REWARD, claim_timeout=30, result_timeout=60)
    time_travel(w3, 61)

    refunds = requester.refund_expired()
    assert sorted(refund.job_id for refund in refunds) == [untaken[0].id, untaken[1].id, late.id]
    assert [(refund.token, refund.refunded) for refund in refunds] == [(ZERO_ADDRESS, REWARD)] * 3
    assert len({refund.transaction for refund in refunds}) == 1  # one multicall
    assert all(job.status() == JobPhase.CLOSED for job in [*untaken, late])
    assert done.status() != JobPhase.CLOSED and still_open.status() != JobPhase.CLOSED
    assert theirs.status() == JobPhase.SETTLEABLE
    # the drawn worker let two slots lapse, and missed the late job's deadline
    penalties = 2 * MARKET_PARAMS.no_show_penalty
    assert requester.balance() == 3 * REWARD + late.terms.collateral + penalties

    nonce = w3.eth.get_transaction_count(requester.address)
    assert requester.refund_expired() == []
    assert w3.eth.get_transaction_count(requester.address) == nonce


def test_refund_expired_takes_an_understaffed_redundant_job_but_not_one_bound_for_the_arbiter(
    requester: AssayClient, w3: Web3, deployment: Deployment
) -> None:
    """All slots or none: a redundant job not fully staffed is refunded; a fully staffed one whose
    workers committed and never revealed goes to the arbiter when settled, so it is no refund."""
    first, second = (serve(AssayClient(w3, ANVIL_KEYS[i], deployment=deployment)) for i in (2, 3))
    listed = [first.address, second.address]
    short, full = (
        requester.post_job(
            ECHO, text, reward=REWARD, redundancy=2, allowlist=listed, claim_timeout=30, result_timeout=60
        )
        for text in ("short", "full")
    )
    first.commit(short, 0, content_hash(b"x"), bytes(32))
    first.commit(full, 0, content_hash(b"x"), bytes(32))
    second.commit(full, 1, content_hash(b"x"), bytes(32))
    time_travel(w3, 61 + MARKET_PARAMS.reveal_window)
    assert short.status() == full.status() == JobPhase.SETTLEABLE
    assert [refund.job_id for refund in requester.refund_expired()] == [short.id]
    assert short.status() == JobPhase.CLOSED and full.status() == JobPhase.SETTLEABLE
    assert requester.balance() == REWARD


def test_refund_expired_skips_a_job_someone_settled_after_the_states_were_read(
    requester: AssayClient, w3: Web3, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = requester.post_jobs(ECHO, ["a", "b", "c"], reward=REWARD, claim_timeout=30, result_timeout=60)
    time_travel(w3, 31)
    stranger = AssayClient(w3, ANVIL_KEYS[3], deployment=requester.deployment)
    read = requester._settle_states

    def settled_meanwhile(listed: list[Job]) -> list[tuple[int, int] | None]:
        states = read(listed)
        stranger.settle(jobs[1])  # the whole multicall would now revert
        return states

    monkeypatch.setattr(requester, "_settle_states", settled_meanwhile)
    refunds = requester.refund_expired()
    assert [refund.job_id for refund in refunds] == [jobs[0].id, jobs[2].id]
    assert len({refund.transaction for refund in refunds}) == 2  # each alone after the batch failed
    assert all(job.status() == JobPhase.CLOSED for job in jobs)
    assert requester.balance() == 3 * REWARD


def test_cancel_returns_reward_and_blocks_takes(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str]
) -> None:
    serve(worker)
    job = requester.post_job(ECHO, "never mind", reward=REWARD)
    with pytest.raises(errors.MarketNotRequester):
        worker.transact(worker.market.functions.cancel(job.id, job.terms.as_tuple()))
    job.cancel()
    assert job.status() == JobPhase.CLOSED and requester.balance() == REWARD
    with pytest.raises(ContractRevert):
        worker.submit_result(job, *publish(result_server, b"too late"))
    with pytest.raises(JobNotCompleted, match="cancelled"):
        job.wait(timeout=5)


def test_submit_without_enough_free_stake_names_the_shortfall(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str]
) -> None:
    serve(worker, stake=1)  # drawn (it is the only one) but cannot cover the collateral
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    with pytest.raises(errors.RegistryInsufficientFree) as caught:
        worker.submit_result(job, *publish(result_server, b"x"))
    assert isinstance(caught.value, ContractRevert) and caught.value.name == "RegistryInsufficientFree"
    assert caught.value.args_by_name == {"worker": worker.address, "free": 1, "needed": job.terms.collateral}
    assert job.status() == JobPhase.ASSIGNING


def test_submit_by_a_worker_not_drawn_is_refused(
    requester: AssayClient, worker: AssayClient, w3: Web3, deployment: Deployment
) -> None:
    serve(worker)
    outsider = AssayClient(w3, ANVIL_KEYS[3], deployment=deployment)
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    assert not requester.eligible(job, 0, outsider.address)
    with pytest.raises(errors.MarketNotEligible):
        outsider.submit_result(job, content_hash(b"x"), "http://x")


def test_wait_times_out_on_untaken_job(requester: AssayClient) -> None:
    job = requester.post_job(ECHO, "hello", reward=REWARD)
    phases: list[JobPhase] = []
    with pytest.raises(JobTimeout, match="still assigning"):
        job.wait(timeout=0.3, poll_interval=0.1, on_progress=lambda phase, _elapsed: phases.append(phase))
    assert phases == [JobPhase.ASSIGNING]


def test_wait_on_a_job_no_worker_can_take_says_so(requester: AssayClient) -> None:
    unserved = dataclasses.replace(ECHO, name="test/echo-nobody-serves")
    requester.register_model(unserved)
    job = requester.post_job(unserved, "anyone?", reward=REWARD)
    with pytest.raises(NoWorkerAvailable, match="no worker is staked for its model") as caught:
        job.wait(timeout=0.3, poll_interval=0.1)
    assert isinstance(caught.value, JobTimeout)  # code catching timeouts keeps working
    assert job.status() == JobPhase.ASSIGNING


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reward": 0}, "at least one unit per worker"),
        ({"redundancy": 9}, "between 1 and 8"),
        ({"job_input": b""}, "input is empty"),
        ({"job_input": b"x" * 16_385}, "limited to 16384"),
        ({"claim_timeout": 100, "result_timeout": 100}, "claim_timeout < result_timeout"),
        ({"model": b"short"}, "32 bytes"),
        ({"model": b"\x01" * 32}, "not registered"),
        ({"input_uri": "file:///etc/passwd"}, r"must be an http\(s\) or ipfs URL"),
        ({"callback_gas": 100_000}, "needs a consumer"),
        ({"consumer": "0x" + "11" * 20}, "needs callback_gas between 1 and 2,000,000, got 0"),
        ({"consumer": "0x123", "callback_gas": 100_000}, "is not an address"),
        ({"reward": 2**128}, r"below 2\*\*128"),
        ({"claim_timeout": 60.5}, "whole number of seconds"),
        ({"allowlist": ["0xabc"]}, "allowlist entry '0xabc' is not an address"),
        ({"token": "0x12"}, "token '0x12' is not an address"),
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
    assert job.terms.input_hash == content_hash(data)
    assert posted["args"]["inputURI"] == "https://inputs.example/big" and posted["args"]["input"] == b""


def test_post_jobs_posts_a_batch_in_one_transaction(requester: AssayClient, deployment: Deployment) -> None:
    jobs = requester.post_jobs(ECHO, ["a", "b", "c"], reward=REWARD)
    assert [job.id for job in jobs] == [1, 2, 3]
    assert len({job.receipt["transactionHash"] for job in jobs if job.receipt}) == 1
    assert requester.market.functions.jobCount().call() == 3
    assert jobs[0].receipt is not None  # formatted by web3, as every receipt the SDK hands out
    posted = requester.market.events.JobPosted().process_receipt(jobs[0].receipt)
    assert [event["args"]["jobId"] for event in posted] == [1, 2, 3]
    # the terms decoded from the receipt are the ones the market hashed: it takes them back
    for job, text in zip(jobs, ["a", "b", "c"], strict=True):
        assert job.terms.input_hash == content_hash(text.encode()) and job.terms.model_id == ECHO.model_id
        assert job.status() == JobPhase.ASSIGNING
    jobs[0].cancel()
    # a batch the market refuses raises the market's error, typed, with nothing posted
    owner = AssayClient(requester.w3, ANVIL_KEYS[0], deployment=deployment)
    owner.transact(owner.market.functions.pause())
    with pytest.raises(errors.EnforcedPause):
        requester.post_jobs(ECHO, ["d", "e"], reward=REWARD)
    assert requester.market.functions.jobCount().call() == 3


def test_client_refuses_deployment_of_another_chain(w3: Web3, deployment: Deployment) -> None:
    other = dataclasses.replace(deployment, chain_id=1)
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

    market = requester.market.functions
    on_chain = {
        "fee_bps": market.MAX_FEE_BPS().call(),
        "collateral_bps": market.MAX_COLLATERAL_BPS().call(),
        "arbiter_share_bps": market.MAX_ARBITER_SHARE_BPS().call(),
        "accept_window": market.MAX_WINDOW().call(),
        "reveal_window": market.MAX_WINDOW().call(),
        "challenge_window": market.MAX_WINDOW().call(),
        "dispute_window": market.MAX_DISPUTE_WINDOW().call(),
        "no_show_penalty": market.MAX_NO_SHOW_PENALTY().call(),
        "unstake_cooldown": requester.registry.functions.MAX_COOLDOWN().call(),
        "committee_size": 15,  # CommitteeArbiter.MAX_COMMITTEE, not deployed here
        "committee_deposit": 2**128 - 1,
        "committee_penalty": 2**128 - 1,
    }
    assert {name: high for name, _low, high in _BOUNDS} == on_chain


def test_reads_take_addresses_in_any_case_and_refuse_what_is_not_one(requester: AssayClient) -> None:
    lower = requester.address.lower()
    assert requester.balance(lower) == requester.balance(requester.address)
    assert requester.stake_of(lower) == requester.stake_of(requester.address)
    with pytest.raises(ConfigError, match="account '0xnope' is not an address"):
        requester.balance("0xnope")
    with pytest.raises(ConfigError, match="non-negative integer"):
        requester.job(-1)


def test_a_batch_result_must_hold_one_item_per_input(
    requester: AssayClient, worker: AssayClient, result_server: tuple[ResultStore, str]
) -> None:
    serve(worker)
    short = requester.post_batch(ECHO, ["one", "two", "three"], reward=REWARD)
    whole = requester.post_batch(ECHO, ["four", "five"], reward=REWARD)
    worker.submit_result(short, *publish(result_server, encode_batch([b"1", b"2"])))  # an answer is missing
    worker.submit_result(whole, *publish(result_server, encode_batch([b"4", b"5"])))

    result = short.wait(until="submitted", timeout=5)
    assert result.inputs == 3
    with pytest.raises(errors.BatchFormatError, match="2 items for 3 inputs"):
        result.items()
    assert whole.wait(until="submitted", timeout=5).items() == [b"4", b"5"]
