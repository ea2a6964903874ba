"""The storage interface every backend implements, and the checks every fetch ends with."""

from __future__ import annotations

from abc import ABC, abstractmethod

from eth_utils.crypto import keccak

from .._errors import PayloadTooLarge, ResultMismatch

MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
"""Default limit on one payload, in both directions."""
TIMEOUT = 30.0
"""Default seconds for one network call of a backend."""


def content_hash(payload: bytes) -> bytes:
    """The 32-byte keccak256 that names a payload on chain and in storage."""
    return keccak(payload)


def verified(payload: bytes, expected_hash: bytes, source: str, max_bytes: int) -> bytes:
    """`payload` if it is within `max_bytes` and hashes to `expected_hash`, else the typed error."""
    if len(payload) > max_bytes:
        raise PayloadTooLarge(f"{source} is {len(payload)} bytes; the limit is {max_bytes}")
    actual = content_hash(payload)
    if actual != expected_hash:
        raise ResultMismatch(
            f"payload from {source} hashes to 0x{actual.hex()}, but 0x{expected_hash.hex()} is on chain"
        )
    return payload


class Storage(ABC):
    """A content-addressed store: `put` returns a URI, `get` returns only bytes that match a hash.

    A backend is handed to `AssayClient(storage=...)`; its `get` resolves the URIs it `accepts`
    and everything else goes through the safe HTTP fetch (see `assay.storage.fetch`)."""

    max_bytes: int = MAX_PAYLOAD_BYTES

    @abstractmethod
    def put(self, payload: bytes) -> str:
        """Store `payload` and return the URI that others fetch it by."""

    @abstractmethod
    def get(self, uri: str, expected_hash: bytes) -> bytes:
        """The payload at `uri`, refused (`PayloadTooLarge`, `ResultMismatch`, `StorageError`,
        `UnsafeURI`) unless it is at most `max_bytes` and hashes to `expected_hash`."""

    @abstractmethod
    def accepts(self, uri: str) -> bool:
        """Whether `uri` is one of this backend's own (so `get` should resolve it)."""
