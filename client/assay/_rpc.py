"""JSON-RPC requests answered as the node sent them, for the worker's hot paths.

web3's result formatters and middleware turn every log of an answer into HexBytes,
checksummed addresses and nested AttributeDicts; for a page of job logs or a receipt of a
32-job multicall that costs several milliseconds, more than decoding the logs themselves."""

from __future__ import annotations

from typing import Any, cast

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.datastructures import AttributeDict
from web3.types import RPCEndpoint, TxReceipt


def raw_request(w3: Web3, method: str, params: list[Any]) -> Any:
    """The `result` of `method(params)` unformatted (hex strings, plain dicts; None for a null
    result); an error answer raises web3's own exception for it, as a formatted call would."""
    response = w3.provider.make_request(RPCEndpoint(method), params)
    return w3.manager.formatted_response(response, params)


_QUANTITIES = frozenset(
    (
        *("blockNumber", "transactionIndex", "type", "status"),
        *("gasUsed", "cumulativeGasUsed", "effectiveGasPrice", "blobGasUsed", "blobGasPrice"),
    )
)
_BYTES = frozenset(("blockHash", "transactionHash", "logsBloom", "root"))
_ADDRESSES = frozenset(("from", "to", "contractAddress"))


def receipt_with_raw_logs(raw: dict[str, Any]) -> TxReceipt:
    """A raw `eth_getTransactionReceipt` result with its own fields formatted as web3 formats them
    (ints, HexBytes, checksummed addresses) and its logs left as the node sent them."""
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key in _QUANTITIES:
            value = int(value, 16)
        elif isinstance(value, str) and key in _BYTES:
            value = HexBytes(value)
        elif isinstance(value, str) and key in _ADDRESSES:
            value = to_checksum_address(value)
        fields[key] = value
    return cast(TxReceipt, AttributeDict(fields))
