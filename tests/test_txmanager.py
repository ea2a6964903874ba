"""TxManager on a real anvil: local nonces under concurrency, replacement of a stuck transaction,
the fee cap, reverts raised once, transient RPC failures retried, and a nonce resync."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from assay import AssayClient, ConfigError, Deployment, FeeCapExceeded, TransactionFailed, TxManager, TxPolicy, errors
from assay._deploy import deploy_contracts
from assay._txmanager import bump, is_transient
from assay.devnet import ANVIL_KEYS, Anvil
from eth_account import Account
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import RPCEndpoint, RPCResponse

from .conftest import MARKET_PARAMS, wait_for
from .flaky_rpc import FlakyRpc

KEY = ANVIL_KEYS[3]
SENDER = Account.from_key(KEY)
RECIPIENT = Account.from_key(ANVIL_KEYS[4]).address
GWEI = 10**9


class CountingProvider(Web3.HTTPProvider):
    """An HTTP provider that counts the requests it makes by method and keeps every raw
    transaction's hash, in order; web3's own retries are off so that the manager's are tested."""

    def __init__(self, url: str) -> None:
        super().__init__(url, request_kwargs={"timeout": 10}, exception_retry_configuration=None)
        self.calls: Counter[str] = Counter()
        self.sent: list[HexBytes] = []

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self.calls[method] += 1
        try:
            return super().make_request(method, params)
        finally:  # once the node has seen it, so a test that waits for a send can act on it
            tx_hash = HexBytes(keccak(hexstr=params[0])) if method == "eth_sendRawTransaction" else None
            if tx_hash is not None and tx_hash not in self.sent:
                self.sent.append(tx_hash)


@dataclass
class Chain:
    anvil: Anvil
    deployment: Deployment

    def counted(self, url: str | None = None) -> tuple[Web3, CountingProvider]:
        provider = CountingProvider(url or self.anvil.url)
        return Web3(provider), provider

    def rpc(self, method: str, *params: Any) -> Any:
        return self.anvil.w3.provider.make_request(RPCEndpoint(method), list(params))


@pytest.fixture
def chain() -> Iterator[Chain]:
    """A fresh anvil with the contracts (these tests stop mining and move the base fee)."""
    with Anvil() as anvil:
        yield Chain(anvil, deploy_contracts(anvil.w3, Account.from_key(ANVIL_KEYS[0]), MARKET_PARAMS))


def mined(w3: Web3, tx_hash: HexBytes) -> bool:
    try:
        w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return False
    return True


def test_back_to_back_sends_from_threads_use_local_nonces(chain: Chain) -> None:
    w3, provider = chain.counted()
    client = AssayClient(w3, KEY, deployment=chain.deployment)
    start = chain.anvil.w3.eth.get_transaction_count(SENDER.address)
    with ThreadPoolExecutor(4) as pool:
        receipts = list(pool.map(lambda _: client.stake(1), range(20)))

    assert all(receipt["status"] == 1 for receipt in receipts)
    nonces = sorted(chain.anvil.w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts)
    assert nonces == list(range(start, start + 20))
    assert client.stake_of().free == 20
    assert provider.calls["eth_getTransactionCount"] == 1  # read once, then counted locally
    assert provider.calls["eth_sendRawTransaction"] == 20


def test_stuck_transaction_is_replaced_with_higher_fees(chain: Chain) -> None:
    w3, provider = chain.counted()
    manager = TxManager(w3, SENDER, TxPolicy(priority_fee=1, replace_after=1.0, receipt_timeout=20))
    start = w3.eth.get_transaction_count(SENDER.address)
    chain.rpc("evm_setAutomine", False)
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(manager.send, {"to": RECIPIENT}, 1)
            wait_for(lambda: len(provider.sent) == 1, timeout=10.0, interval=0.02)
            first = chain.anvil.w3.eth.get_transaction(provider.sent[0])
            # the next block's base fee is above what the first version offers: it cannot be included
            chain.rpc("anvil_setNextBlockBaseFeePerGas", hex(4 * first["maxFeePerGas"]))
            chain.rpc("evm_mine")
            assert not mined(w3, provider.sent[0])
            wait_for(
                lambda: len(provider.sent) >= 2, timeout=10.0, interval=0.02
            )  # replace_after passed: re-sent, fees bumped
            chain.rpc("evm_mine")
            receipt = pending.result(timeout=20)
    finally:
        chain.rpc("evm_setAutomine", True)

    assert [mined(w3, tx_hash) for tx_hash in provider.sent].count(True) == 1
    assert receipt["transactionHash"] in provider.sent[1:]
    replacement = chain.anvil.w3.eth.get_transaction(receipt["transactionHash"])
    assert replacement["nonce"] == first["nonce"] == start
    assert replacement["maxFeePerGas"] >= bump(first["maxFeePerGas"])
    assert replacement["maxPriorityFeePerGas"] >= bump(first["maxPriorityFeePerGas"])
    assert w3.eth.get_transaction_count(SENDER.address) == start + 1  # the nonce was used once


def test_a_transaction_not_mined_in_time_has_its_nonce_freed(chain: Chain) -> None:
    """Past the receipt timeout the nonce goes to an empty self-transfer at higher fees: the
    transaction is cancelled, and later ones are not stuck behind it."""
    w3, provider = chain.counted()
    manager = TxManager(w3, SENDER, TxPolicy(priority_fee=1, replace_after=30, receipt_timeout=1.0))
    start = w3.eth.get_transaction_count(SENDER.address)
    before = w3.eth.get_balance(RECIPIENT)
    chain.rpc("evm_setAutomine", False)
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(manager.send, {"to": RECIPIENT}, 1)
            # the transfer, then its cancellation
            wait_for(lambda: len(provider.sent) == 2, timeout=10.0, interval=0.02)
            cancel = chain.anvil.w3.eth.get_transaction(provider.sent[1])
            assert (cancel["to"], cancel["value"], cancel["nonce"]) == (SENDER.address, 0, start)
            chain.rpc("evm_mine")
            with pytest.raises(TransactionFailed, match="cancelled"):
                pending.result(timeout=20)
    finally:
        chain.rpc("evm_setAutomine", True)
    assert mined(w3, provider.sent[1]) and not mined(w3, provider.sent[0])
    assert w3.eth.get_balance(RECIPIENT) == before  # the transfer never happened
    assert manager.send({"to": RECIPIENT}, 1)["status"] == 1  # the next one goes through at once
    assert w3.eth.get_transaction_count(SENDER.address) == start + 2


def test_a_transaction_mined_just_before_its_cancellation_is_returned(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancellation races the original: when the original is mined first (the node then
    refuses the cancellation, 'nonce too low'), its receipt is returned, not an error."""
    w3, provider = chain.counted()
    manager = TxManager(w3, SENDER, TxPolicy(priority_fee=1, replace_after=30, receipt_timeout=1.0))
    pricing = manager._replacement_fees

    def mined_meanwhile(*args: Any) -> Any:
        chain.rpc("evm_mine")  # the original lands between the last receipt check and the cancellation
        return pricing(*args)

    monkeypatch.setattr(manager, "_replacement_fees", mined_meanwhile)
    chain.rpc("evm_setAutomine", False)
    try:
        receipt = manager.send({"to": RECIPIENT}, 1)
    finally:
        chain.rpc("evm_setAutomine", True)
    assert receipt["status"] == 1 and receipt["transactionHash"] == provider.sent[0]


def test_base_fee_above_the_cap_raises_and_sends_nothing(chain: Chain) -> None:
    w3, provider = chain.counted()
    manager = TxManager(w3, SENDER, TxPolicy(max_fee_per_gas=5 * GWEI, priority_fee=GWEI))
    chain.rpc("anvil_setNextBlockBaseFeePerGas", hex(3 * GWEI))
    receipt = manager.send({"to": RECIPIENT}, 1)  # under the cap: 2 x base + tip is cut to the cap
    assert w3.eth.get_transaction(receipt["transactionHash"])["maxFeePerGas"] == 5 * GWEI

    chain.rpc("anvil_setNextBlockBaseFeePerGas", hex(6 * GWEI))
    with pytest.raises(FeeCapExceeded, match="max_fee_per_gas=5000000000") as raised:
        manager.send({"to": RECIPIENT}, 1)
    assert (raised.value.cap, raised.value.base_fee) == (5 * GWEI, 6 * GWEI)
    assert provider.calls["eth_sendRawTransaction"] == 1


def test_chain_without_base_fee_gets_a_capped_legacy_gas_price(chain: Chain) -> None:
    w3, provider = chain.counted()
    price = w3.eth.gas_price
    manager = TxManager(w3, SENDER, TxPolicy(max_fee_per_gas=price))
    manager._eip1559 = False  # as detected on a chain whose blocks carry no baseFeePerGas
    receipt = manager.send({"to": RECIPIENT}, 1)
    sent = w3.eth.get_transaction(receipt["transactionHash"])
    assert (sent["type"], sent["gasPrice"]) == (0, price)

    capped = TxManager(w3, SENDER, TxPolicy(max_fee_per_gas=1))
    capped._eip1559 = False
    with pytest.raises(FeeCapExceeded):
        capped.send({"to": RECIPIENT}, 1)
    assert provider.calls["eth_sendRawTransaction"] == 1


def test_reverts_are_raised_typed_and_never_retried(chain: Chain) -> None:
    w3, provider = chain.counted()
    client = AssayClient(w3, KEY, deployment=chain.deployment)
    with pytest.raises(errors.RegistryInsufficientFree) as raised:
        client.request_unstake(1)  # nothing staked: the estimate reverts
    assert raised.value.args_by_name["needed"] == 1
    assert (provider.calls["eth_estimateGas"], provider.calls["eth_sendRawTransaction"]) == (1, 0)

    # two unstakes of the whole stake both pass the estimate; mined together, the second reverts
    client.stake(10)
    chain.rpc("evm_setAutomine", False)
    try:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(client.request_unstake, 10)
            wait_for(lambda: len(provider.sent) == 2, timeout=10.0, interval=0.02)
            second = pool.submit(client.request_unstake, 10)
            wait_for(lambda: len(provider.sent) == 3, timeout=10.0, interval=0.02)
            chain.rpc("evm_mine")
            assert first.result(timeout=10)["status"] == 1
            with pytest.raises(TransactionFailed, match="reverted on chain"):
                second.result(timeout=10)
    finally:
        chain.rpc("evm_setAutomine", True)
    assert provider.calls["eth_sendRawTransaction"] == 3  # the reverted one was not sent again


def test_transient_rpc_failures_are_retried_and_each_transaction_lands_once(chain: Chain) -> None:
    before = chain.anvil.w3.eth.get_balance(RECIPIENT)
    start = chain.anvil.w3.eth.get_transaction_count(SENDER.address)
    # seeded: this run has sends that land while their answer is lost, so they are re-sent
    with FlakyRpc(chain.anvil.url, fail=0.15, delay=0.0, drop=0.1, seed=3) as proxy:
        w3, provider = chain.counted(proxy.url)
        manager = TxManager(w3, SENDER, TxPolicy(retry_for=20))
        # half of them read their receipts raw (`raw_logs`): the same retries must cover that path
        receipts = [manager.send({"to": RECIPIENT}, value, raw_logs=value % 2 == 0) for value in range(1, 7)]

    assert all(receipt["status"] == 1 for receipt in receipts)
    assert chain.anvil.w3.eth.get_transaction_count(SENDER.address) == start + 6
    assert chain.anvil.w3.eth.get_balance(RECIPIENT) == before + sum(range(1, 7))  # none twice
    assert proxy.counts["failed"] and proxy.counts["dropped"], proxy.counts
    assert provider.calls["eth_sendRawTransaction"] > 6  # some sends were retried...
    assert provider.calls["eth_getTransactionByHash"]  # ...and found to have landed already


def test_a_receipt_with_raw_logs_is_the_formatted_receipt_but_for_its_logs(chain: Chain) -> None:
    client = AssayClient(chain.anvil.w3, KEY, deployment=chain.deployment)
    raw = TxManager(chain.anvil.w3, SENDER).send(client.registry.functions.stake(), 5, raw_logs=True)
    formatted = chain.anvil.w3.eth.get_transaction_receipt(raw["transactionHash"])

    assert {key: value for key, value in raw.items() if key != "logs"} == {
        key: value for key, value in formatted.items() if key != "logs"
    }
    assert raw["logs"] and len(raw["logs"]) == len(formatted["logs"])
    for log, same in zip(raw["logs"], formatted["logs"], strict=True):
        assert log["data"] == same["data"].to_0x_hex() and log["logIndex"] == hex(same["logIndex"])
        assert log["topics"] == [topic.to_0x_hex() for topic in same["topics"]]
        assert Web3.to_checksum_address(log["address"]) == same["address"]


def test_nonce_is_resynced_after_a_transaction_sent_behind_its_back(chain: Chain) -> None:
    w3, provider = chain.counted()
    manager = TxManager(w3, SENDER)
    manager.send({"to": RECIPIENT}, 1)
    outside = chain.anvil.w3
    nonce = outside.eth.get_transaction_count(SENDER.address)
    fields = {"to": RECIPIENT, "value": 1, "gas": 21_000, "nonce": nonce, "chainId": outside.eth.chain_id}
    signed = SENDER.sign_transaction({**fields, "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI})
    outside.eth.send_raw_transaction(signed.raw_transaction)

    receipt = manager.send({"to": RECIPIENT}, 2)
    assert w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == nonce + 1
    assert provider.calls["eth_getTransactionCount"] == 2  # at start and once after 'nonce too low'
    assert provider.calls["eth_sendRawTransaction"] == 3  # the refused one, then the resent one


def test_transient_errors_are_told_from_refusals() -> None:
    def http_error(status: int) -> requests.HTTPError:
        response = requests.Response()
        response.status_code = status
        return requests.HTTPError(response=response)

    assert is_transient(http_error(502)) and is_transient(http_error(429))
    assert not is_transient(http_error(401))
    assert is_transient(requests.ConnectionError()) and is_transient(requests.Timeout())
    assert is_transient(Web3RPCError("429 Too Many Requests"))
    assert not is_transient(Web3RPCError("nonce too low"))
    assert not is_transient(ContractLogicError("execution reverted"))
    assert bump(8) == 9 and bump(1) == 2 and bump(GWEI) == 1_125_000_000


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ConfigError, match="replace_after"):
        TxPolicy(replace_after=0)
