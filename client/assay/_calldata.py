"""Fast calldata for hot paths: a function's selector and ABI types are worked out once, then
each call is one `eth_abi.encode`. web3's contract-call encoding re-validates and re-normalises
the whole argument tree on every call, which costs milliseconds per job-terms tuple."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types, get_abi_output_types


class Calldata:
    """Encoder/decoder for the functions of one contract ABI (by name; no overloads)."""

    def __init__(self, abi: Sequence[Mapping[str, Any]]) -> None:
        self._functions = {
            item["name"]: (
                function_abi_to_4byte_selector(item),  # type: ignore[arg-type]
                get_abi_input_types(item),  # type: ignore[arg-type]
                get_abi_output_types(item),  # type: ignore[arg-type]
            )
            for item in abi
            if item["type"] == "function"
        }

    def encode(self, function: str, *args: Any) -> bytes:
        """`selector ++ abi.encode(args)` for `function(args)`."""
        selector, types, _ = self._functions[function]
        return selector + encode(types, args)

    def decode(self, function: str, data: bytes) -> tuple[Any, ...]:
        """The return values of `function` from its raw result."""
        return tuple(decode(self._functions[function][2], data))
