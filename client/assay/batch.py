"""Batch jobs: one job, many inputs of one model, one result per input.

A batch job costs one posting, one result transaction and one settlement however many inputs it
holds, so the gas per inference falls with its size (docs/gas.md), and the worker runs its
inputs as full model batches. Its input is a *batch document*, and so is its result:

    abi.encode(bytes32 BATCH_TAG, bytes[] items)

the standard ABI encoding any client produces (ethers `AbiCoder.encode(["bytes32","bytes[]"],
...)`, `cast abi-encode "f(bytes32,bytes[])"`, Solidity `abi.encode`). Result `i` answers input
`i`; a consumer contract reads its results with `abi.decode(result, (bytes32, bytes[]))`.
`BATCH_TAG` begins with the byte 0xff, which no UTF-8 text begins with, so no text input is ever
mistaken for a batch. Workers accept only the canonical encoding (what `abi.encode` produces):
the bytes, and so the hash on chain, name one list of items.

The job's reward pays for all its items; a worker refuses a batch whose reward per item is
below its `min_reward`, or that holds more items than its `max_batch_items` (default 1,024).
Each item must be one the model accepts; one bad item refuses the whole job (before any slot is
taken: refusing costs the worker nothing).

    job = client.post_batch(MINILM_L6_V2, ["first text", "second text"], reward=10**16)
    vectors = [json.loads(item)["embedding"] for item in job.wait().items()]
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError

from ._errors import BatchFormatError

BATCH_TAG = b"\xffassay.batch/1".ljust(32, b"\x00")
"""The first word of every batch document."""

MAX_BATCH_ITEMS = 4_096
"""Most items a batch document may hold."""

_TYPES = ("bytes32", "bytes[]")


def encode_batch(items: Sequence[bytes | str]) -> bytes:
    """The batch document of `items` (str is UTF-8 encoded)."""
    if not 0 < len(items) <= MAX_BATCH_ITEMS:
        raise BatchFormatError(f"a batch holds 1 to {MAX_BATCH_ITEMS} items, got {len(items)}")
    encoded = [item.encode() if isinstance(item, str) else bytes(item) for item in items]
    return encode(_TYPES, (BATCH_TAG, encoded))


def is_batch(data: bytes) -> bool:
    """Whether `data` claims to be a batch document (it starts with `BATCH_TAG`)."""
    return data[:32] == BATCH_TAG


def item_count(data: bytes) -> int:
    """How many model inputs `data` holds: the count a batch document claims (not checked), else 1."""
    return int.from_bytes(data[64:96], "big") if is_batch(data) else 1


def decode_batch(data: bytes) -> list[bytes]:
    """The items of the batch document `data`; `BatchFormatError` says why when it is not one."""
    if not is_batch(data):
        raise BatchFormatError("not a batch document: it does not start with BATCH_TAG")
    # the layout's head is checked before decoding, so that a hostile length cannot make the decoder work
    if data[32:64] != (64).to_bytes(32, "big"):
        raise BatchFormatError("batch document is not in canonical ABI encoding: its items must start at byte 64")
    count = int.from_bytes(data[64:96], "big")
    if not 0 < count <= MAX_BATCH_ITEMS:
        raise BatchFormatError(f"a batch holds 1 to {MAX_BATCH_ITEMS} items, this one claims {count}")
    try:
        _, items = decode(_TYPES, data)
    except (DecodingError, ValueError, OverflowError) as exc:
        raise BatchFormatError(f"malformed batch document: {exc}") from exc
    if encode(_TYPES, (BATCH_TAG, items)) != data:
        raise BatchFormatError("batch document is not in canonical ABI encoding (as abi.encode writes it)")
    return list(items)
