"""Fetching content-addressed payloads: every payload is checked against its keccak256 hash."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from eth_utils.crypto import keccak

from ._errors import PayloadTooLarge, ResultMismatch, StorageError

MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
FETCH_TIMEOUT = 30.0


def content_hash(payload: bytes) -> bytes:
    """The 32-byte keccak256 that names a payload on chain and in storage."""
    return keccak(payload)


def fetch_payload(
    uri: str,
    expected_hash: bytes,
    *,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    timeout: float = FETCH_TIMEOUT,
) -> bytes:
    """Download `uri` (http or https), refusing more than `max_bytes`, and return the bytes only
    if their keccak256 equals `expected_hash`."""
    scheme = urlsplit(uri).scheme
    if scheme not in ("http", "https"):
        raise StorageError(f"cannot fetch {uri!r}: only http and https URIs are supported")
    try:
        with httpx.stream("GET", uri, timeout=timeout, follow_redirects=False) as response:
            if response.status_code != 200:
                raise StorageError(f"GET {uri} answered HTTP {response.status_code}")
            declared = int(response.headers.get("content-length", 0))
            if declared > max_bytes:
                raise PayloadTooLarge(f"{uri} is {declared} bytes; the limit is {max_bytes}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"{uri} sent more than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise StorageError(f"cannot fetch {uri}: {exc}") from exc
    payload = b"".join(chunks)
    actual = content_hash(payload)
    if actual != expected_hash:
        raise ResultMismatch(f"payload from {uri} hashes to 0x{actual.hex()}, but 0x{expected_hash.hex()} is on chain")
    return payload
