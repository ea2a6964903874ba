"""Content-addressed result storage on local disk: a payload lives at `<dir>/<keccak hex>`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from assay import content_hash


class ResultStore:
    """Results on disk, named by the keccak256 submitted on chain; writes are atomic."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def put(self, payload: bytes) -> bytes:
        """Store `payload` and return its 32-byte hash."""
        digest = content_hash(payload)
        path = self.path_of(digest)
        if not path.exists():
            with tempfile.NamedTemporaryFile(dir=self.directory, delete=False, suffix=".tmp") as tmp:
                tmp.write(payload)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp.name, path)
        return digest

    def path_of(self, digest: bytes) -> Path:
        return self.directory / digest.hex()

    def get(self, digest: bytes) -> bytes | None:
        """The payload with hash `digest`, or None."""
        path = self.path_of(digest)
        return path.read_bytes() if path.exists() else None
