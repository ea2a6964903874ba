"""The batch document (`assay.batch`): what any ABI encoder writes for `(bytes32, bytes[])` —
checked against foundry's `cast` — decodes back to its items, and every other byte string that
claims to be one is refused with a typed error before the decoder can be made to work hard."""

from __future__ import annotations

import subprocess

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


def test_no_text_is_taken_for_a_batch() -> None:
    # BATCH_TAG starts with 0xff, a byte UTF-8 never uses
    for text in ("", "hello", BATCH_TAG.decode("latin-1"), "\u00ff" * 40, "\U0001f600" * 10):
        assert not is_batch(text.encode("utf-8"))


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (b"plain input", "does not start with BATCH_TAG"),
        (BATCH_TAG, "must start at byte 64"),
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


def test_item_counts_outside_the_limits_are_refused_when_encoding() -> None:
    with pytest.raises(BatchFormatError, match="got 0"):
        encode_batch([])
    with pytest.raises(BatchFormatError, match=f"got {MAX_BATCH_ITEMS + 1}"):
        encode_batch([b"x"] * (MAX_BATCH_ITEMS + 1))
