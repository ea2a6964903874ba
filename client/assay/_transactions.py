"""Decoding contract reverts into typed errors, and a one-off `send_transaction` (the sending
itself is `TxManager`'s, in `_txmanager.py`)."""

from __future__ import annotations

from functools import cache

from eth_abi.abi import decode
from eth_account.signers.local import LocalAccount
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.types import TxReceipt

from ._artifacts import CONTRACTS, load_artifact
from ._contract_errors import CONTRACT_ERRORS
from ._errors import ContractRevert

RECEIPT_TIMEOUT = 120.0
GAS_MARGIN = 1.25
"""Gas limit over the estimate: a job's draws depend on the randomness of the block that
includes it, so execution can take a few more draw attempts than the estimate saw."""


@cache
def _custom_errors() -> dict[bytes, tuple[str, list[str], list[str]]]:
    """selector -> (error name, argument names, argument types) for every Assay contract."""
    errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for contract in CONTRACTS:
        for item in load_artifact(contract).abi:
            if item["type"] != "error":
                continue
            types = [arg["type"] for arg in item["inputs"]]
            names = [arg["name"] for arg in item["inputs"]]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            errors[selector] = (item["name"], names, types)
    return errors


def decode_revert(data: str | bytes, function: str) -> ContractRevert | None:
    """Decode revert data into a `ContractRevert`, or None when it is no Assay custom error."""
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data
    known = _custom_errors().get(raw[:4])
    if known is None:
        return None
    name, names, types = known
    values = [
        to_checksum_address(value) if kind == "address" else value
        for kind, value in zip(types, decode(types, raw[4:]), strict=True)
    ]
    error_class = CONTRACT_ERRORS.get(name, ContractRevert)
    return error_class(name, dict(zip(names, values, strict=True)), function)


def send_transaction(
    w3: Web3, account: LocalAccount, call: ContractFunction | ContractConstructor, value: int = 0
) -> TxReceipt:
    """Send one transaction through a fresh `TxManager` (default policy, nonce read from the
    chain) and return its receipt; see `TxManager.send` for the errors. A sender of many
    transactions keeps one `TxManager` instead, as `AssayClient` does."""
    from ._txmanager import TxManager  # imported here: _txmanager builds on this module

    return TxManager(w3, account).send(call, value)


def gas_cost(receipt: TxReceipt) -> int:
    """Wei the sender paid for gas."""
    return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
