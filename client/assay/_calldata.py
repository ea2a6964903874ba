"""Fast calldata for hot paths: a function's selector and ABI types are worked out once, then
each call is one ABI encode (`assay._abi`). web3's contract-call encoding re-validates and re-normalises
the whole argument tree on every call, which costs milliseconds per job-terms tuple.

An argument that many calls repeat (a job's terms, ~900 bytes: ~100 µs to encode) can be encoded
once as `AbiEncoded` and spliced into each call's calldata as it is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from eth_abi.grammar import parse
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types, get_abi_output_types

from ._abi import decode, encode

_WORD = 32


class AbiEncoded(bytes):
    """A value already ABI-encoded as a call argument of its type: for a dynamic type (a tuple
    holding arrays, say) the tail that the argument's offset points at."""

    @classmethod
    def of(cls, abi_type: str, value: Any) -> AbiEncoded:
        encoded = encode([abi_type], [value])
        return cls(encoded[_WORD:] if _is_dynamic(abi_type) else encoded)

    @classmethod
    def argument_of(cls, data: bytes, index: int) -> AbiEncoded:
        """Argument `index` of the ABI-encoded arguments `data`, as encoded there, when it and the
        argument after it are both dynamic: the bytes between their offsets. Solidity writes the
        tails in argument order, so these are the argument's own encoding; they are checked only by
        being used (a market call with other bytes for a job's terms fails its hash check)."""
        start, end = (int.from_bytes(data[i * _WORD : (i + 1) * _WORD], "big") for i in (index, index + 1))
        if not _WORD <= start <= end <= len(data):
            raise ValueError(f"argument {index}: offsets {start}..{end} are not within {len(data)} bytes")
        return cls(data[start:end])


@cache
def _is_dynamic(abi_type: str) -> bool:
    """Whether `abi_type` is encoded in a head/tail layout; eth_abi works it out again each time
    from the parsed type tree (a tenth of the worker's calldata encoding for the terms' tuple)."""
    return bool(parse(abi_type).is_dynamic)


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

    def input_type(self, function: str, index: int) -> str:
        """The ABI type of `function`'s argument `index` (for `AbiEncoded.of`)."""
        return self._functions[function][1][index]

    def encode(self, function: str, *args: Any) -> bytes:
        """`selector ++ abi.encode(args)` for `function(args)`; `AbiEncoded` arguments go in as they are."""
        selector, types, _ = self._functions[function]
        if not any(isinstance(arg, AbiEncoded) for arg in args):
            return selector + encode(types, args)
        heads: list[bytes | int] = []  # an int: the index of a dynamic argument's tail
        tails: list[bytes] = []
        for abi_type, arg in zip(types, args, strict=True):
            dynamic = _is_dynamic(abi_type)
            part = arg if isinstance(arg, AbiEncoded) else encode([abi_type], [arg])[_WORD if dynamic else 0 :]
            if dynamic:
                heads.append(len(tails))
                tails.append(part)
            else:
                heads.append(part)
        offset = sum(_WORD if isinstance(head, int) else len(head) for head in heads)
        starts = []
        for tail in tails:
            starts.append(offset)
            offset += len(tail)
        return b"".join(
            [selector]
            + [starts[head].to_bytes(_WORD, "big") if isinstance(head, int) else head for head in heads]
            + tails
        )

    def decode(self, function: str, data: bytes) -> tuple[Any, ...]:
        """The return values of `function` from its raw result."""
        return tuple(decode(self._functions[function][2], data))
