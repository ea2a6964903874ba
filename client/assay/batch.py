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
below its `min_reward`, or that holds more items than its `max_batch_items` (default 256).
Each item must be one the model accepts; one bad item refuses the whole job (before any slot is
taken: refusing costs the worker nothing).

    job = client.post_batch(MINILM_L6_V2, ["first text", "second text"], reward=10**16)
    vectors = [json.loads(item)["embedding"] for item in job.wait().items()]
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi.abi import encode

from ._errors import BatchFormatError

BATCH_TAG = b"\xffassay.batch/1".ljust(32, b"\x00")
"""The first word of every batch document."""

MAX_BATCH_ITEMS = 4_096
"""Most items a batch document may hold."""

_TYPES = ("bytes32", "bytes[]")


def encode_batch(items: Sequence[bytes | str]) -> bytes:
    """The batch document of `items` (str is UTF-8 encoded)."""
    if isinstance(items, str | bytes | bytearray | memoryview):
        raise BatchFormatError("a batch is a list of inputs, not one str or bytes")
    if not 0 < len(items) <= MAX_BATCH_ITEMS:
        raise BatchFormatError(f"a batch holds 1 to {MAX_BATCH_ITEMS} items, got {len(items)}")
    encoded = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            encoded.append(item.encode())
        elif isinstance(item, bytes | bytearray | memoryview):
            encoded.append(bytes(item))
        else:
            raise BatchFormatError(f"batch item {index} is {type(item).__name__}, not str or bytes")
    return encode(_TYPES, (BATCH_TAG, encoded))


def is_batch(data: bytes) -> bool:
    """Whether `data` claims to be a batch document (it starts with `BATCH_TAG`)."""
    return data[:32] == BATCH_TAG


def item_count(data: bytes) -> int:
    """How many model inputs `data` holds: the count a batch document claims (not checked), else 1."""
    return int.from_bytes(data[64:96], "big") if is_batch(data) else 1


def decode_batch(data: bytes) -> list[bytes]:
    """The items of the batch document `data`; `BatchFormatError` says why when it is not one.

    Only the canonical layout is read: the items follow one another in order, each a length word
    and its bytes zero-padded to a word, and the offsets say exactly that. The layout is walked
    and the items sliced out, never handed to a general decoder, so that a hostile document
    (offsets that all point at one large item) cannot make it copy that item thousands of times."""
    if not is_batch(data):
        raise BatchFormatError("not a batch document: it does not start with BATCH_TAG")
    if _word(data, 32) != 64:
        raise BatchFormatError("batch document is not in canonical ABI encoding: its items must start at byte 64")
    count = _word(data, 64)
    if not 0 < count <= MAX_BATCH_ITEMS:
        raise BatchFormatError(f"a batch holds 1 to {MAX_BATCH_ITEMS} items, this one claims {count}")
    base = 96  # item offsets count from the first offset word
    expected = 32 * count  # where item 0 must start, relative to base
    items = []
    for index in range(count):
        if _word(data, base + 32 * index) != expected:
            raise BatchFormatError(
                f"batch document is not in canonical ABI encoding: item {index} is not where it must be"
            )
        start = base + expected + 32
        length = _word(data, start - 32)
        padded = (length + 31) // 32 * 32
        if start + padded > len(data):
            raise BatchFormatError(f"malformed batch document: item {index} runs past its end")
        if any(data[start + length : start + padded]):
            raise BatchFormatError(f"batch document is not in canonical ABI encoding: item {index} is not zero-padded")
        items.append(data[start : start + length])
        expected += 32 + padded
    if base + expected != len(data):
        raise BatchFormatError("batch document is not in canonical ABI encoding: bytes after its last item")
    return items


def _word(data: bytes, at: int) -> int:
    if at + 32 > len(data):
        raise BatchFormatError(f"malformed batch document: it ends at byte {len(data)}, inside its layout")
    return int.from_bytes(data[at : at + 32], "big")
