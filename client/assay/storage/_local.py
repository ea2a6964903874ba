"""A directory of blobs, each at `<dir>/<keccak256 hex>`; writes are atomic and durable (temp file,
fsync, rename, fsync of the directory), so a crash never leaves a half-written blob under a hash
name nor loses the name of one that was stored."""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

from eth_hash.auto import keccak

from .._errors import PayloadTooLarge, StorageError, UnsafeURI
from ._base import MAX_PAYLOAD_BYTES, Storage, content_hash, verified

LOCAL_PREFIX = "local:"
_SYNC_TOGETHER = 64  # files open and synced at once by `write_many`


@functools.cache
def _syncing() -> ThreadPoolExecutor:
    """Threads that fsync the files of one batch at once (fsync waits on the disk, not the GIL)."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="fsync")


_NAME = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")


class LocalStorage(Storage):
    """Blobs in `directory`. `put` returns `<base_url>/0x<hash>` when the directory is served
    over HTTP at `base_url` (as the worker serves its results), else `local:0x<hash>`, which
    only holders of this directory can resolve."""

    def __init__(
        self, directory: str | os.PathLike[str], *, base_url: str | None = None, max_bytes: int = MAX_PAYLOAD_BYTES
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.max_bytes = max_bytes

    def path_of(self, digest: bytes) -> Path:
        return self.directory / digest.hex()

    def write(self, payload: bytes) -> bytes:
        """Store `payload` (once) and return its 32-byte hash."""
        return self.write_many([payload])[0]

    def write_many(self, payloads: Sequence[bytes]) -> list[bytes]:
        """Store each payload (once) and return their hashes. The files of a batch are synced
        together, so the file system commits them in a few journal commits instead of one each
        (a batch of 32 results took ~16 ms one by one, ~5 ms together), and one directory sync
        covers their names."""
        digests = [content_hash(payload) for payload in payloads]
        # a payload stored already, or twice in this batch, is written once
        fresh = list({d: p for d, p in zip(digests, payloads, strict=True) if not self.path_of(d).exists()}.values())
        for first in range(0, len(fresh), _SYNC_TOGETHER):
            with ExitStack() as stack:
                part = fresh[first : first + _SYNC_TOGETHER]
                blobs = [stack.enter_context(StagedBlob(self)) for _ in part]
                for blob, payload in zip(blobs, part, strict=True):
                    blob.write(payload)
                list(_syncing().map(StagedBlob.sync, blobs))
                for blob in blobs:
                    blob.publish(sync_directory=False)
        if fresh:
            self.sync()
        return digests

    def sync(self) -> None:
        """Make the names of blobs published so far durable (a rename lives in the directory)."""
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, digest: bytes) -> bytes | None:
        """The stored blob named `digest`, or None; unchecked (for the directory's owner)."""
        path = self.path_of(digest)
        return path.read_bytes() if path.exists() else None

    def uri_of(self, digest: bytes) -> str:
        name = f"0x{digest.hex()}"
        return f"{self.base_url}/{name}" if self.base_url else LOCAL_PREFIX + name

    def put(self, payload: bytes) -> str:
        if len(payload) > self.max_bytes:
            raise PayloadTooLarge(f"{len(payload)} bytes is over this store's limit of {self.max_bytes}")
        return self.uri_of(self.write(payload))

    def get(self, uri: str, expected_hash: bytes) -> bytes:
        path = self.path_of(self._name_in(uri))
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise PayloadTooLarge(f"{uri} is {size} bytes; the limit is {self.max_bytes}")
            payload = path.read_bytes()
        except FileNotFoundError:
            raise StorageError(f"{uri} is not in {self.directory}") from None
        except OSError as exc:
            raise StorageError(f"cannot read {uri} from {self.directory}: {exc}") from exc
        return verified(payload, expected_hash, uri, self.max_bytes)

    def accepts(self, uri: str) -> bool:
        return uri.startswith(LOCAL_PREFIX) or (self.base_url is not None and uri.startswith(self.base_url + "/"))

    def _name_in(self, uri: str) -> bytes:
        """The hash a URI of this store names; anything else (a path, `..`) is refused."""
        if not self.accepts(uri):
            raise UnsafeURI(f"refusing {uri!r}: not a URI of the store in {self.directory}")
        name = uri.removeprefix(LOCAL_PREFIX) if uri.startswith(LOCAL_PREFIX) else uri.rsplit("/", 1)[-1]
        digest = digest_named(name)
        if digest is None:
            raise UnsafeURI(f"refusing {uri!r}: a blob is named by its 32-byte keccak256 in hex")
        return digest


def digest_named(name: str) -> bytes | None:
    """The hash a blob name (`0x<64 hex>` or `<64 hex>`) stands for; None for any other name."""
    match = _NAME.fullmatch(name)
    return bytes.fromhex(match.group(1)) if match else None


class StagedBlob:
    """A temporary file in a store's directory that is hashed while written, and becomes
    `<hash>` on `publish` or is removed when the `with` block ends without it."""

    def __init__(self, store: LocalStorage) -> None:
        self.store = store
        fd, name = tempfile.mkstemp(dir=store.directory, suffix=".part")
        self.path = Path(name)
        self.size = 0
        self._file = os.fdopen(fd, "wb")
        self._hash = keccak.new(b"")
        self._published = False
        self._synced = -1

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def digest(self) -> bytes:
        return self._hash.digest()

    def sync(self) -> None:
        """Make the bytes written so far durable (publish does it when it was not done)."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._synced = self.size

    def publish(self, *, sync_directory: bool = True) -> bytes:
        """Make the blob durable under its hash name and return the hash; with `sync_directory`
        False the name is durable only after the store's `sync()`."""
        digest = self.digest()
        if self._synced != self.size:
            self.sync()
        self._file.close()
        os.replace(self.path, self.store.path_of(digest))
        self._published = True
        if sync_directory:
            self.store.sync()
        return digest

    def __enter__(self) -> StagedBlob:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._file.close()
        if not self._published:
            self.path.unlink(missing_ok=True)
