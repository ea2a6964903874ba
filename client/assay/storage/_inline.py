"""Inline storage: the payload travels inside its own `data:` URI, so it is on chain with the job
or result and needs no server. Only for small payloads: every byte costs calldata gas."""

from __future__ import annotations

import base64
import binascii

from .._errors import PayloadTooLarge, UnsafeURI
from ._base import Storage, verified

PREFIX = "data:application/octet-stream;base64,"
MAX_INLINE_BYTES = 16_384
"""As `AssayMarket.MAX_INLINE_INPUT`: beyond it, inline data is not worth its gas."""


class InlineStorage(Storage):
    """Payloads as `data:application/octet-stream;base64,...` URIs (RFC 2397); reads any media
    type's base64 data URI."""

    def __init__(self, *, max_bytes: int = MAX_INLINE_BYTES) -> None:
        self.max_bytes = max_bytes

    def put(self, payload: bytes) -> str:
        if len(payload) > self.max_bytes:
            raise PayloadTooLarge(f"{len(payload)} bytes is too much to inline; the limit is {self.max_bytes}")
        return PREFIX + base64.b64encode(payload).decode()

    def get(self, uri: str, expected_hash: bytes) -> bytes:
        header, comma, encoded = uri.partition(",")
        # any media type (manifests are application/json), but always base64
        if not (header.startswith("data:") and header.endswith(";base64") and comma):
            raise UnsafeURI(f"refusing {uri[:60]!r}: not a base64 data URI")
        # refuse before decoding: base64 is 4 characters per 3 bytes
        if len(encoded) > 4 * (self.max_bytes // 3 + 1):
            raise PayloadTooLarge(f"the data URI holds more than {self.max_bytes} bytes")
        try:
            payload = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise UnsafeURI(f"refusing a malformed data URI: {exc}") from exc
        return verified(payload, expected_hash, "the data URI", self.max_bytes)

    def accepts(self, uri: str) -> bool:
        return uri.startswith("data:")
