"""The batch document (`assay.batch`): what any ABI encoder writes for `(bytes32, bytes[])` —
checked against foundry's `cast` — decodes back to its items, and every other byte string that
claims to be one is refused with a typed error before the decoder can be made to work hard."""

from __future__ import annotations

import random
import shlex
import subprocess
import tracemalloc
from pathlib import Path

import pytest
from assay import BatchFormatError
from assay.batch import BATCH_TAG, MAX_BATCH_ITEMS, decode_batch, encode_batch, is_batch
from eth_abi.abi import encode

ITEMS = [b"a", b"bb", "caf\u00e9".encode(), bytes(range(256)), b"x" * 33]


def test_the_document_is_what_cast_encodes_and_decodes_to_its_items() -> None:
    document = encode_batch(ITEMS)
    listing = "[" + ",".join("0x" + item.hex() for item in ITEMS) + "]"
    cast = subprocess.run(
        ["cast", "abi-encode", "f(bytes32,bytes[])", "0x" + BATCH_TAG.hex(), listing],
        capture_output=True,
        text=True,
        check=True,
    )
    assert bytes.fromhex(cast.stdout.strip().removeprefix("0x")) == document
    assert is_batch(document)
    assert decode_batch(document) == ITEMS
    assert decode_batch(encode_batch(["text", b"bytes"])) == [b"text", b"bytes"]


def test_the_cast_line_in_the_sdk_doc_writes_a_batch_document() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "sdk.md").read_text()
    (line,) = [line for line in doc.splitlines() if line.startswith("cast abi-encode")]
    cast = subprocess.run(shlex.split(line), capture_output=True, text=True, check=True)
    assert decode_batch(bytes.fromhex(cast.stdout.strip().removeprefix("0x"))) == [b"hi", b"there"]


def test_no_text_is_taken_for_a_batch() -> None:
    # BATCH_TAG starts with 0xff, a byte UTF-8 never uses
    for text in ("", "hello", BATCH_TAG.decode("latin-1"), "\u00ff" * 40, "\U0001f600" * 10):
        assert not is_batch(text.encode("utf-8"))


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (b"plain input", "does not start with BATCH_TAG"),
        (BATCH_TAG, "malformed batch document: it ends at byte 32"),
        (BATCH_TAG + (96).to_bytes(32, "big") + bytes(64), "must start at byte 64"),
        (encode(("bytes32", "bytes[]"), (BATCH_TAG, [])), "claims 0"),
        (BATCH_TAG + (64).to_bytes(32, "big") + (2**255).to_bytes(32, "big"), f"1 to {MAX_BATCH_ITEMS} items"),
        (encode_batch([b"a", b"b"])[:-32], "malformed"),
        (encode_batch([b"a", b"b"]) + bytes(32), "not in canonical ABI encoding"),
    ],
)
def test_malformed_documents_are_refused(document: bytes, why: str) -> None:
    with pytest.raises(BatchFormatError, match=why):
        decode_batch(document)


def test_a_document_whose_item_points_elsewhere_is_refused() -> None:
    document = bytearray(encode_batch([b"first", b"second"]))
    document[96 + 31] = 0x40 + 32  # item 0's offset moved one word on: decodable, but not canonical
    with pytest.raises(BatchFormatError):
        decode_batch(bytes(document))


def test_items_that_all_point_at_one_large_item_are_refused_without_copying_it() -> None:
    # 4,096 offsets naming the same 1 MB item: a general decoder makes 4,096 copies (4 GB)
    count, size = MAX_BATCH_ITEMS, 1_000_000
    head = BATCH_TAG + (64).to_bytes(32, "big") + count.to_bytes(32, "big")
    offsets = (32 * count).to_bytes(32, "big") * count
    item = size.to_bytes(32, "big") + b"x" * size
    tracemalloc.start()
    with pytest.raises(BatchFormatError, match="item 1 is not where it must be"):
        decode_batch(head + offsets + item)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * size  # not thousands of copies


def test_padding_must_be_zero() -> None:
    document = bytearray(encode_batch([b"abc"]))
    document[-1] = 1
    with pytest.raises(BatchFormatError, match="item 0 is not zero-padded"):
        decode_batch(bytes(document))


def test_random_documents_round_trip_and_mutations_only_raise_the_typed_error() -> None:
    rng = random.Random(7)
    for _ in range(300):
        items = [rng.randbytes(rng.choice((0, 1, 31, 32, 33, 64, 100))) for _ in range(rng.randint(1, 12))]
        document = encode_batch(items)
        assert decode_batch(document) == items
        mutated = bytearray(document)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(32, len(mutated))] = rng.randrange(256)
        try:
            decoded = decode_batch(bytes(mutated))
        except BatchFormatError:
            continue
        assert encode_batch(decoded) == bytes(mutated)  # whatever is accepted is canonical


def test_one_str_or_bytes_is_not_a_batch_of_its_characters() -> None:
    for single in ("hello", b"hi", bytearray(b"hi")):
        with pytest.raises(BatchFormatError, match="not one str or bytes"):
            encode_batch(single)  # type: ignore[arg-type]
    with pytest.raises(BatchFormatError, match="batch item 1 is int"):
        encode_batch([b"ok", 5])  # type: ignore[list-item]


def test_item_counts_outside_the_limits_are_refused_when_encoding() -> None:
    with pytest.raises(BatchFormatError, match="got 0"):
        encode_batch([])
    with pytest.raises(BatchFormatError, match=f"got {MAX_BATCH_ITEMS + 1}"):
        encode_batch([b"x"] * (MAX_BATCH_ITEMS + 1))
