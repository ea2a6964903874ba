"""Jobs paid in an allowlisted ERC-20 token, from Python on anvil: the SDK approves the market,
the worker is paid in the token and withdraws it; a shortfall, a token that is not allowlisted
and a fee-on-transfer token are refused with typed errors and nothing moves."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from assay import ECHO, AssayClient, InsufficientFunds, JobPhase, content_hash, errors
from assay.devnet import ANVIL_KEYS
from web3 import Web3
from web3.contract import Contract

from .conftest import CHALLENGE_WINDOW, MARKET_PARAMS, time_travel

ROOT = Path(__file__).resolve().parent.parent
REWARD = 5 * 10**18  # token units
STAKE = 10**17


@cache
def compiled(name: str) -> dict[str, Any]:
    """A test token from forge's output (tests/contracts/doubles/Tokens.sol), built if missing."""
    path = ROOT / "build" / "out" / "Tokens.sol" / f"{name}.json"
    if not path.exists():
        subprocess.run(["forge", "build"], cwd=ROOT, check=True, capture_output=True)
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def deploy_token(w3: Web3, owner: AssayClient, name: str, holder: str, amount: int) -> Contract:
    artifact = compiled(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"]["object"])
    address = owner.transact(factory.constructor())["contractAddress"]  # type: ignore[arg-type]
    token = w3.eth.contract(address=address, abi=artifact["abi"])
    owner.transact(token.functions.mint(holder, amount))
    return token


@pytest.fixture
def owner(w3: Web3, deployment: Any) -> AssayClient:
    return AssayClient(w3, ANVIL_KEYS[0], deployment=deployment)


def allow(owner: AssayClient, token: Contract) -> None:
    # collateral is priced in wei: one token unit counts as 0.001 wei, so 5 tokens lock 0.005 ETH
    owner.transact(owner.market.functions.configureToken(token.address, True, 10**15))


def test_token_job_pays_the_worker_in_the_token(
    w3: Web3, owner: AssayClient, requester: AssayClient, worker: AssayClient, treasury: str
) -> None:
    token = deploy_token(w3, owner, "TestToken", requester.address, REWARD)
    allow(owner, token)
    worker.stake(STAKE)
    worker.join_model(ECHO)

    job = requester.post_job(ECHO, "paid in tokens", reward=REWARD, token=token.address)
    assert job.terms.token == token.address
    assert token.functions.balanceOf(requester.address).call() == 0  # approved and pulled by the SDK
    assert token.functions.balanceOf(requester.market.address).call() == REWARD
    worker.submit_result(job, content_hash(b"tokens"), "http://127.0.0.1:1/unused")
    collateral = REWARD * 10**15 // 10**18 * MARKET_PARAMS.collateral_bps // 10_000
    assert job.terms.collateral == collateral == worker.stake_of().locked  # in wei, at the token's rate
    time_travel(w3, CHALLENGE_WINDOW)
    worker.settle(job)
    assert job.status() == JobPhase.CLOSED and job.info().success

    fee = REWARD * MARKET_PARAMS.fee_bps // 10_000
    assert worker.balance(token=token.address) == REWARD - fee
    assert worker.balance() == 0  # nothing in ETH
    assert requester.balance(treasury, token=token.address) == fee
    worker.withdraw(token.address)
    assert token.functions.balanceOf(worker.address).call() == REWARD - fee
    assert token.functions.balanceOf(requester.market.address).call() == fee
    assert worker.stake_of().locked == 0


def test_a_reward_beyond_the_balance_is_refused_before_sending(
    w3: Web3, owner: AssayClient, requester: AssayClient
) -> None:
    token = deploy_token(w3, owner, "TestToken", requester.address, REWARD - 1)
    allow(owner, token)
    count = requester.market.functions.jobCount().call()
    with pytest.raises(InsufficientFunds, match=f"the reward is {REWARD} units"):
        requester.post_job(ECHO, "too dear", reward=REWARD, token=token.address)
    assert requester.market.functions.jobCount().call() == count
    assert token.functions.allowance(requester.address, requester.market.address).call() == 0


def test_a_token_that_is_not_allowlisted_is_refused(w3: Web3, owner: AssayClient, requester: AssayClient) -> None:
    token = deploy_token(w3, owner, "TestToken", requester.address, REWARD)
    with pytest.raises(errors.MarketTokenNotAllowed) as caught:
        requester.post_job(ECHO, "unknown token", reward=REWARD, token=token.address)
    assert caught.value.args_by_name == {"token": token.address}
    assert token.functions.balanceOf(requester.address).call() == REWARD
    assert token.functions.allowance(requester.address, requester.market.address).call() == 0  # nothing approved


def test_a_fee_on_transfer_token_is_refused(w3: Web3, owner: AssayClient, requester: AssayClient) -> None:
    token = deploy_token(w3, owner, "FeeOnTransferToken", requester.address, REWARD)
    allow(owner, token)
    with pytest.raises(errors.MarketTokenShortfall) as caught:
        requester.post_job(ECHO, "leaky token", reward=REWARD, token=token.address)
    assert caught.value.args_by_name["received"] == REWARD - REWARD // 100
    assert token.functions.balanceOf(requester.address).call() == REWARD  # the post reverted whole
