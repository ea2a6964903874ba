"""Transactions from one account for a long-running sender such as the worker: nonces tracked
locally, EIP-1559 fees under a cap, stuck transactions re-sent with higher fees, and transient
RPC errors retried while reverts are raised at once.

>>> manager = TxManager(w3, account, TxPolicy(max_fee_per_gas=50 * 10**9))  # doctest: +SKIP
>>> receipt = manager.send(registry.functions.stake(), value=10**17)           # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from eth_account.datastructures import SignedTransaction
from hexbytes import HexBytes
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import TxParams, TxReceipt

from ._errors import ChainError, ConfigError, FeeCapExceeded, InsufficientFunds, TransactionFailed
from ._keys import Signer
from ._rpc import raw_request, receipt_with_raw_logs
from ._transactions import GAS_MARGIN, RECEIPT_TIMEOUT, decode_revert

log = logging.getLogger("assay.transactions")

T = TypeVar("T")
_Fetch = Callable[[HexBytes], "TxReceipt | None"]
"""Reads one transaction's receipt (None or `TransactionNotFound`: not mined yet)."""
Sendable = ContractFunction | ContractConstructor | TxParams
"""A contract call, a deployment, or plain transaction fields (`to`, `data`) such as a transfer."""

POLL_INTERVAL = 0.1
"""Seconds between receipt polls (web3's `wait_for_transaction_receipt` default)."""
GAP_CHECK_INTERVAL = 2.0
"""Seconds between checks, while waiting, that no earlier nonce is missing (see `_fill_gap`)."""
NONCE_ATTEMPTS = 3
"""Sends of a new transaction, each after a nonce resync, before 'nonce too low' is raised."""

_ALREADY_KNOWN = ("already known", "already imported", "known transaction")
_NONCE_TOO_LOW = ("nonce too low",)
_UNDERPRICED = ("underpriced",)
_RATE_LIMITED = ("rate limit", "too many requests", "429")
_FEE_FIELDS = ("gasPrice", "maxFeePerGas", "maxPriorityFeePerGas")


@dataclass(frozen=True, kw_only=True)
class TxPolicy:
    """How a `TxManager` prices, re-prices, waits for and retries transactions (fees in wei)."""

    max_fee_per_gas: int | None = None
    """Never offer more per gas; a base fee above it raises `FeeCapExceeded`. None: no cap."""
    priority_fee: int | None = None
    """Tip per gas; None: the node's `eth_maxPriorityFeePerGas`."""
    replace_after: float = 30.0
    """Seconds without a receipt before the transaction is re-sent at its nonce with fees 12.5 % higher."""
    receipt_timeout: float = RECEIPT_TIMEOUT
    """Seconds from the first send until the nonce is freed by an empty self-transfer at higher
    fees (so that later transactions are not stuck behind it) and `TransactionFailed` is raised,
    if none of the sent versions is mined (one that is mined meanwhile is returned after all)."""
    retry_for: float = 30.0
    """Seconds a transient RPC error (connection, timeout, HTTP 429/5xx) is retried before it is raised."""

    def __post_init__(self) -> None:
        for name in ("max_fee_per_gas", "priority_fee"):
            if (getattr(self, name) or 0) < 0:
                raise ConfigError(f"{name} must not be negative, got {getattr(self, name)}")
        for name in ("replace_after", "receipt_timeout", "retry_for"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")


@dataclass(frozen=True)
class _Fees:
    max_fee: int
    tip: int | None
    """None: a legacy transaction paying `max_fee` as its gasPrice."""

    def fields(self) -> dict[str, int]:
        if self.tip is None:
            return {"gasPrice": self.max_fee}
        return {"maxFeePerGas": self.max_fee, "maxPriorityFeePerGas": self.tip}


class _StaleNonce(ChainError):
    """The node refused our nonce as used; raised after `NONCE_ATTEMPTS` resyncs."""


def bump(fee: int) -> int:
    """`fee` raised by 12.5 %, rounded up: the least a replacement must offer (geth, anvil)."""
    return fee + (fee + 7) // 8


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is an RPC failure worth retrying (the request may succeed later)."""
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else 500
        return status == 429 or status >= 500
    if isinstance(exc, ContractLogicError):
        return False
    if isinstance(exc, Web3RPCError):
        return _says(exc, _RATE_LIMITED)
    return isinstance(exc, OSError)  # connection errors and timeouts of requests are OSErrors


def _says(exc: Exception, phrases: tuple[str, ...]) -> bool:
    text = str(exc).lower()
    return any(phrase in text for phrase in phrases)


class TxManager:
    """Sends transactions from `account`; safe to use from several threads at once."""

    def __init__(self, w3: Web3, account: Signer, policy: TxPolicy | None = None) -> None:
        self.w3 = w3
        self.account = account
        self.policy = policy or TxPolicy()
        self._lock = threading.Lock()
        self._nonce: int | None = None  # next nonce to use; None: read it from the chain first
        self._chain_id: int | None = None
        self._eip1559: bool | None = None
        self._retrying = Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_delay(self.policy.retry_for),
            wait=wait_exponential_jitter(multiplier=0.1, max=2.0, jitter=0.2),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        )

    def send(self, call: Sendable, value: int = 0, label: str | None = None, *, raw_logs: bool = False) -> TxReceipt:
        """Estimate, price, sign, send and wait for `call`; re-send it with higher fees while it is
        stuck. Raise `ContractRevert` (decoded) when it would revert, `TransactionFailed` when it
        reverts on chain or is not mined in time, `FeeCapExceeded` when the base fee is above the cap.
        `label` names it in errors and logs (default: the function's name). With `raw_logs` the
        receipt's logs are left as the node sent them (hex strings, for `EventDecoder.decode`):
        web3 formats a 32-job multicall's logs in ~8 ms."""
        label = label or _label(call)
        params: TxParams = {"from": self.account.address, "value": Web3.to_wei(value, "wei")}
        gas = self._estimate(call, params, label)
        fees = self._fees(label)
        fields: Any = {**params, "gas": gas, "chainId": self._chain(), **fees.fields()}
        tx = dict(call.build_transaction(fields) if not isinstance(call, dict) else {**call, **fields})
        nonce, first = self._send_new(tx, fees, label)
        return self._wait(tx, nonce, fees, first, label, self._light_receipt if raw_logs else self._receipt)

    def resync(self) -> None:
        """Read the next nonce from the chain before the next send (done on refusals and timeouts)."""
        with self._lock:
            self._nonce = None

    def _rpc(self, fn: Callable[..., T], *args: Any) -> T:
        return self._retrying.copy()(fn, *args)

    def _chain(self) -> int:
        if self._chain_id is None:
            self._chain_id = self._rpc(lambda: self.w3.eth.chain_id)
        return self._chain_id

    def _estimate(self, call: Sendable, params: TxParams, label: str) -> int:
        try:
            if isinstance(call, dict):
                estimate = self._rpc(self.w3.eth.estimate_gas, {**call, **params})
            else:
                estimate = self._rpc(call.estimate_gas, params)
        except ContractCustomError as exc:
            raise decode_revert(str(exc.data), label) or ChainError(f"{label} would revert: {exc}") from exc
        except ContractLogicError as exc:
            raise ChainError(f"{label} would revert: {exc}") from exc
        except Web3RPCError as exc:
            raise _refused(exc, label) from exc
        return int(estimate * GAS_MARGIN)

    def _fees(self, label: str) -> _Fees:
        """Fees for the next block: tip + twice the base fee (room for six full blocks of rises),
        within the cap; a legacy gasPrice where the chain has no base fee."""
        cap = self.policy.max_fee_per_gas
        if self._eip1559 is None:
            self._eip1559 = "baseFeePerGas" in self._rpc(self.w3.eth.get_block, "latest")
        if not self._eip1559:
            price = int(self._rpc(lambda: self.w3.eth.gas_price))
            if cap is not None and price > cap:
                raise FeeCapExceeded(label, cap, price)
            return _Fees(price, None)
        base = int(self._rpc(self.w3.eth.fee_history, 1, "latest", [])["baseFeePerGas"][-1])
        tip = self.policy.priority_fee
        if tip is None:
            tip = int(self._rpc(lambda: self.w3.eth.max_priority_fee))
        if cap is None:
            return _Fees(2 * base + tip, tip)
        if base > cap:
            raise FeeCapExceeded(label, cap, base)
        tip = min(tip, cap - base)
        return _Fees(min(2 * base + tip, cap), tip)

    def _sign(self, tx: dict[str, Any], nonce: int, fees: _Fees) -> SignedTransaction:
        unpriced = {key: value for key, value in tx.items() if key not in _FEE_FIELDS}
        return self.account.sign_transaction({**unpriced, **fees.fields(), "nonce": nonce})

    def _broadcast(self, signed: SignedTransaction) -> None:
        """Send; a node that already holds this exact transaction (our earlier send whose answer
        was lost) counts as success."""
        try:
            self._rpc(self.w3.eth.send_raw_transaction, signed.raw_transaction)
        except Web3RPCError as exc:
            if not _says(exc, _ALREADY_KNOWN):
                raise

    def _send_new(self, tx: dict[str, Any], fees: _Fees, label: str) -> tuple[int, HexBytes]:
        """Send `tx` at the next local nonce; the lock spans allocation and send so that a refused
        send leaves no gap. 'nonce too low' (another sender used the key) resyncs and retries."""
        attempts = Retrying(
            retry=retry_if_exception_type(_StaleNonce),
            stop=stop_after_attempt(NONCE_ATTEMPTS),
            wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.2),
            reraise=True,
        )
        return attempts(self._send_at_next_nonce, tx, fees, label)

    def _send_at_next_nonce(self, tx: dict[str, Any], fees: _Fees, label: str) -> tuple[int, HexBytes]:
        with self._lock:
            if self._nonce is None:
                self._nonce = int(self._rpc(self.w3.eth.get_transaction_count, self.account.address, "pending"))
            nonce = self._nonce
            signed = self._sign(tx, nonce, fees)
            try:
                self._broadcast(signed)
            except OSError:
                self._nonce = None  # it may have reached the node all the same
                raise
            except Web3RPCError as exc:
                # 'nonce too low' after a lost answer may be our own transaction, already mined
                if not (_says(exc, _NONCE_TOO_LOW) and self._known(signed.hash)):
                    if _says(exc, _NONCE_TOO_LOW + _UNDERPRICED):  # the key sent behind our back
                        self._nonce = None
                        raise _StaleNonce(f"{label}: nonce {nonce} is taken: {exc}") from exc
                    raise _refused(exc, label) from exc
            self._nonce = nonce + 1
        log.debug("%s sent as %s (nonce %d, %s)", label, signed.hash.hex(), nonce, fees)
        return nonce, signed.hash

    def _known(self, tx_hash: HexBytes) -> bool:
        try:
            self._rpc(self.w3.eth.get_transaction, tx_hash)
        except TransactionNotFound:
            return False
        return True

    def _wait(
        self, tx: dict[str, Any], nonce: int, fees: _Fees, first: HexBytes, label: str, fetch: _Fetch
    ) -> TxReceipt:
        """Poll every sent version until one is mined, replacing the latest after `replace_after`."""
        sent = [first]
        started = last_sent = last_gap_check = time.monotonic()
        nonce_taken = False
        while True:
            receipt, error = self._find_receipt(sent, fetch)
            now = time.monotonic()
            if receipt is None and not nonce_taken and now - started >= self.policy.receipt_timeout:
                receipt = self._cancel(nonce, fees, sent, label, fetch)
            if receipt is not None:
                if receipt["status"] != 1:
                    raise TransactionFailed(f"{label} transaction {receipt['transactionHash'].hex()} reverted on chain")
                return receipt
            if nonce_taken or now - started >= self.policy.receipt_timeout:
                self.resync()  # the nonce may be free again (dropped) or used by someone else
                if error is not None:
                    raise error
                why = f"nonce {nonce} was used by another transaction" if nonce_taken else "it was not mined"
                raise TransactionFailed(f"{label} transaction {sent[-1].hex()}: {why} within {now - started:.0f} s")
            if now - last_gap_check >= GAP_CHECK_INTERVAL:
                last_gap_check = now
                self._fill_gap(nonce, label)
            if now - last_sent >= self.policy.replace_after:
                last_sent = now
                try:
                    replaced = self._replace(tx, nonce, fees, label)
                except _StaleNonce:
                    nonce_taken = True
                    continue  # one of ours may have been mined meanwhile: look once more
                if replaced is not None:
                    fees, tx_hash = replaced
                    sent.append(tx_hash)
            time.sleep(POLL_INTERVAL)

    def _cancel(self, nonce: int, fees: _Fees, sent: list[HexBytes], label: str, fetch: _Fetch) -> TxReceipt | None:
        """Free `nonce` after the receipt timeout: an empty self-transfer at replacement fees, so
        that our later transactions are not stuck behind one that will not be mined. Waits up to
        `replace_after` for it or a sent version: returns the version's receipt if that one was
        mined after all, raises `TransactionFailed` when the cancellation was, and returns None when
        neither was (or no cancellation could be offered within the fee cap)."""
        try:
            replaced = self._replace(self._empty_transfer(), nonce, fees, f"{label} (cancelling)")
        except _StaleNonce:  # a version was mined meanwhile
            replaced = None
        if replaced is None:
            return self._find_receipt(sent, fetch)[0]
        _, cancel_hash = replaced
        log.warning("%s not mined in time: cancelling nonce %d with %s", label, nonce, cancel_hash.hex())
        deadline = time.monotonic() + self.policy.replace_after
        while time.monotonic() < deadline:
            receipt, _ = self._find_receipt(sent, fetch)
            if receipt is not None:
                return receipt
            cancelled, _ = self._find_receipt([cancel_hash], fetch)
            if cancelled is not None:
                raise TransactionFailed(
                    f"{label} transaction {sent[-1].hex()} was not mined within {self.policy.receipt_timeout:.0f} s; "
                    f"cancelled: nonce {nonce} went to the empty self-transfer {cancel_hash.hex()}"
                )
            time.sleep(POLL_INTERVAL)
        return self._find_receipt(sent, fetch)[0]

    def _fill_gap(self, nonce: int, label: str) -> None:
        """When the chain's next nonce is below ours (transactions before ours were dropped, say by
        a reorg), ours can never be mined: fill each missing nonce with an empty self-transfer.
        Re-sending ours at a lower nonce instead could get it mined twice."""
        pending = int(self._rpc(self.w3.eth.get_transaction_count, self.account.address, "pending"))
        if pending >= nonce:
            return
        log.warning(
            "%s: nonces %d..%d never reached the chain; filling them so nonce %d can be mined",
            label,
            pending,
            nonce - 1,
            nonce,
        )
        fill = self._empty_transfer()
        fees = self._fees(label)
        for missing in range(pending, nonce):
            self._broadcast(self._sign(fill, missing, fees))

    def _empty_transfer(self) -> dict[str, Any]:
        """A zero-value transfer to ourselves: what a nonce is used up with when nothing should happen."""
        return {"to": self.account.address, "value": 0, "gas": 21_000, "chainId": self._chain()}

    def _find_receipt(self, sent: list[HexBytes], fetch: _Fetch) -> tuple[TxReceipt | None, Exception | None]:
        """The receipt of whichever sent version is mined; a transient RPC failure is returned, not
        raised, so that the wait goes on (it is raised if the wait times out)."""
        for tx_hash in reversed(sent):
            try:
                receipt = fetch(tx_hash)
            except TransactionNotFound:
                continue
            except Exception as exc:
                if not is_transient(exc):
                    raise
                return None, exc
            if receipt is not None:
                return receipt, None
        return None, None

    def _receipt(self, tx_hash: HexBytes) -> TxReceipt:
        return self.w3.eth.get_transaction_receipt(tx_hash)

    def _light_receipt(self, tx_hash: HexBytes) -> TxReceipt | None:
        raw = raw_request(self.w3, "eth_getTransactionReceipt", [tx_hash.to_0x_hex()])
        return None if raw is None else receipt_with_raw_logs(raw)

    def _replace(self, tx: dict[str, Any], nonce: int, fees: _Fees, label: str) -> tuple[_Fees, HexBytes] | None:
        """Re-send at `nonce` with bumped fees and return them with the new hash; None when no
        replacement went out (the versions sent before stay valid); `_StaleNonce` when the nonce is used."""
        try:
            new = self._replacement_fees(fees, label)
            if new is None:
                return None
            signed = self._sign(tx, nonce, new)
            self._broadcast(signed)
        except Web3RPCError as exc:
            if _says(exc, _NONCE_TOO_LOW):
                raise _StaleNonce(f"{label}: nonce {nonce} is used") from exc
            log.warning("%s: replacement refused, still waiting: %s", label, exc)
            return None
        except OSError as exc:
            log.warning("%s: replacement not sent, still waiting: %s", label, exc)
            return None
        waited = self.policy.replace_after
        log.info("%s not mined after %.0f s: re-sent as %s with %s", label, waited, signed.hash.hex(), new)
        return new, signed.hash

    def _replacement_fees(self, old: _Fees, label: str) -> _Fees | None:
        """At least 12.5 % above `old` and at least what the chain asks now; None past the cap."""
        try:
            now = self._fees(label)
        except FeeCapExceeded:
            return None
        max_fee = max(bump(old.max_fee), now.max_fee)
        cap = self.policy.max_fee_per_gas
        if cap is not None:
            max_fee = min(max_fee, cap)
        if max_fee < bump(old.max_fee):
            return None
        if old.tip is None:
            return _Fees(max_fee, None)
        tip = min(max(bump(old.tip), now.tip or 0), max_fee)
        return _Fees(max_fee, tip) if tip >= bump(old.tip) else None


def _label(call: Sendable) -> str:
    if isinstance(call, ContractFunction):
        return call.fn_name
    return "constructor" if isinstance(call, ContractConstructor) else "transaction"


def _refused(exc: Web3RPCError, label: str) -> ChainError:
    """A node's refusal as an Assay error (not retried: sending it again would be refused again)."""
    if _says(exc, ("insufficient funds",)):
        return InsufficientFunds(f"{label}: the account cannot pay for it: {exc}")
    return ChainError(f"{label} was refused by the node: {exc}")
