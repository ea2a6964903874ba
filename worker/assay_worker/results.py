"""Content-addressed result storage on local disk: a payload lives at `<dir>/<keccak hex>`,
written atomically by the SDK's `LocalStorage`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from assay.storage import LocalStorage


class ResultStore:
    """Results on disk, named by the keccak256 submitted on chain; writes are atomic.

    `storage` is the same directory as an `assay.storage` backend: with `base_url` set to where
    the worker API serves it (`<public url>/results`), `storage.put(payload)` returns the result
    URI to submit."""

    def __init__(self, directory: str | os.PathLike[str], base_url: str | None = None) -> None:
        self.storage = LocalStorage(directory, base_url=base_url)
        self.directory = self.storage.directory

    def put(self, payload: bytes) -> bytes:
        """Store `payload` and return its 32-byte hash."""
        return self.storage.write(payload)

    def put_many(self, payloads: Sequence[bytes]) -> list[bytes]:
        """Store a batch's payloads (one directory sync for all) and return their hashes."""
        return self.storage.write_many(payloads)

    def path_of(self, digest: bytes) -> Path:
        return self.storage.path_of(digest)

    def get(self, digest: bytes) -> bytes | None:
        """The payload with hash `digest`, or None."""
        return self.storage.read(digest)
