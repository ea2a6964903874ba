"""`Calldata.encode` with arguments encoded once (`AbiEncoded`) gives the very bytes of a plain
encode, whatever the argument order of static and dynamic types."""

from __future__ import annotations

import importlib
import random
import sys
from typing import Any

import eth_abi
import eth_abi.abi
import pytest
from assay import _abi
from assay._artifacts import load_artifact
from assay._calldata import AbiEncoded, Calldata
from assay._events import JobEvent
from assay._jobs import JobTerms
from eth_abi.abi import decode
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

MARKET = Calldata(load_artifact("AssayMarket").abi)


def address(rng: random.Random) -> ChecksumAddress:
    return to_checksum_address(rng.randbytes(20))


def terms(rng: random.Random, assignees: int, allowlist: int) -> JobTerms:
    """Random terms within each field's width (`JobTerms` field order)."""
    reward, collateral = rng.randrange(2**128), rng.randrange(2**128)
    model, input_hash, seed = rng.randbytes(32), rng.randbytes(32), rng.randbytes(32)
    numbers = [rng.randrange(2**bits) for bits in (32, 8, 8, 16, 16, 16, 40, 40, 40, 32, 32, 32, 32, 64)]
    values: list[Any] = [address(rng), address(rng), reward, collateral, model, input_hash, seed, address(rng)]
    values += [*numbers, tuple(address(rng) for _ in range(assignees)), tuple(address(rng) for _ in range(allowlist))]
    return JobTerms(*values)


@pytest.mark.parametrize("seed", range(6))
def test_encode_splices_abi_encoded_terms_as_a_plain_encode_would(seed: int) -> None:
    rng = random.Random(seed)
    job = terms(rng, assignees=seed % 4, allowlist=seed // 2)
    job_id, slot, worker = rng.randrange(2**256), rng.randrange(8), address(rng)
    result = rng.randbytes(rng.randrange(0, 100))
    calls = {
        "phaseOf": (job_id, job.as_tuple()),
        "eligible": (job_id, job.as_tuple(), slot, worker),
        "submitResult": (job_id, job.as_tuple(), rng.randbytes(32), "ipfs://" + "x" * seed * 20, result),
        "commit": (job_id, job.as_tuple(), slot, rng.randbytes(32)),
    }
    for function, args in calls.items():
        spliced = (args[0], job.encoded, *args[2:])
        assert MARKET.encode(function, *spliced) == MARKET.encode(function, *args), function


def test_a_static_argument_can_be_encoded_once_too() -> None:
    encoded = AbiEncoded.of("uint256", 7)
    assert encoded == (7).to_bytes(32, "big")
    rng = random.Random(1)
    job = terms(rng, 1, 0)
    worker = address(rng)
    assert MARKET.encode("eligible", 3, job.encoded, encoded, worker) == MARKET.encode(
        "eligible", 3, job.as_tuple(), 7, worker
    )


def test_terms_encoded_once_decode_back_to_the_terms() -> None:
    job = terms(random.Random(2), 2, 1)
    (decoded,) = decode([MARKET.input_type("phaseOf", 1)], (32).to_bytes(32, "big") + job.encoded)
    assert JobTerms.from_event(decoded) == job


@pytest.mark.parametrize("seed", range(3))
def test_the_hot_path_codec_gives_eth_abis_bytes_and_values(seed: int) -> None:
    """`assay._abi` (faster-eth-abi where it has wheels) against eth_abi itself, on a JobPosted
    log's data types."""
    rng = random.Random(seed)
    types = [MARKET.input_type("phaseOf", 1), "bytes", "string"]
    values = [terms(rng, seed, 1).as_tuple(), rng.randbytes(rng.randrange(200)), "ipfs://" + "q" * seed]
    data = eth_abi.encode(types, values)
    assert _abi.encode(types, values) == data
    assert _abi.decode(types, data) == eth_abi.decode(types, data)


def test_without_faster_eth_abi_the_codec_is_eth_abis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where faster-eth-abi has no wheel (Linux on ARM) it is not installed: eth_abi serves."""
    monkeypatch.setitem(sys.modules, "faster_eth_abi", None)  # its import now raises ImportError
    try:
        fallback = importlib.reload(_abi)
        assert fallback.decode == eth_abi.abi.decode and fallback.encode == eth_abi.abi.encode
    finally:
        monkeypatch.undo()
        importlib.reload(_abi)


@pytest.mark.parametrize("seed", range(4))
def test_terms_taken_from_a_jobposted_log_are_their_encoding(seed: int) -> None:
    """A worker takes a job's encoded terms from its JobPosted log's data instead of encoding them
    again: the bytes between the terms' and the input's offsets are the terms' own encoding."""
    rng = random.Random(seed)
    job = terms(rng, assignees=seed, allowlist=3 - seed)
    types = [MARKET.input_type("phaseOf", 1), "bytes", "string"]
    data = eth_abi.encode(types, [job.as_tuple(), rng.randbytes(rng.randrange(300)), "ipfs://" + "q" * seed])
    event = JobEvent("JobPosted", {"jobId": 5, "terms": _abi.decode(types, data)[0]}, data=data)
    taken = JobTerms.from_posted(event)
    assert taken == job
    assert taken.encoded == AbiEncoded.of(types[0], job.as_tuple())


def test_offsets_outside_the_data_are_refused() -> None:
    data = eth_abi.encode(["bytes", "bytes"], [b"a", b"b"])
    assert AbiEncoded.argument_of(data, 0) == eth_abi.encode(["bytes"], [b"a"])[32:]
    with pytest.raises(ValueError, match="not within"):
        AbiEncoded.argument_of(data[:70], 0)


def test_a_slice_of_the_wrong_size_is_not_taken_for_the_terms() -> None:
    rng = random.Random(9)
    job = terms(rng, assignees=2, allowlist=1)
    types = [MARKET.input_type("phaseOf", 1), "bytes", "string"]
    data = eth_abi.encode(types, [job.as_tuple(), b"input", ""])
    offset = (3 * 32 + len(job.encoded) + 32).to_bytes(32, "big")  # input's offset one word too far
    skewed = data[:32] + offset + data[64:]
    taken = JobTerms.from_posted(JobEvent("JobPosted", {"jobId": 1, "terms": job.as_tuple()}, data=skewed))
    assert taken.encoded == job.encoded  # encoded afresh, not sliced
