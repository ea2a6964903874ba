"""Content-addressed result storage on local disk: one SQLite file (WAL) in the results directory,
each payload keyed by the keccak256 submitted on chain.

A file per result cost a batch of 32 results 11-40 ms of the worker's CPU (creating, syncing and
renaming 32 files, then syncing the directory) against ~1 ms for one SQLite transaction, and a rig
running for weeks would pile up millions of files in one directory. A commit is durable before
`put_many` returns (synchronous=FULL), so a result is on disk before its hash goes on chain."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TypeVar

from assay import content_hash

from .durable import open_durable, write_transaction

DATABASE = "results.sqlite"
_PRUNE_CHUNK = 1000
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    hash BLOB PRIMARY KEY,
    payload BLOB NOT NULL,
    stored_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS results_by_age ON results (stored_at);
"""


class ResultStore:
    """Results in `<directory>/results.sqlite`, named by their keccak256. Safe to share between the
    worker's threads (the API thread reads while the main thread writes)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._closed = False
        self._db = open_durable(self.directory / DATABASE, _SCHEMA, shared=True)  # shared under self._lock

    def close(self) -> None:
        """Close the database; reads after it find nothing (an API request still being answered
        while the worker stops)."""
        with self._lock:
            self._closed = True
            self._db.close()

    def put(self, payload: bytes) -> bytes:
        """Store `payload` and return its 32-byte hash."""
        return self.put_many([payload])[0]

    def put_many(self, payloads: Sequence[bytes]) -> list[bytes]:
        """Store a batch's payloads in one durable transaction and return their hashes (a payload
        stored already is dated afresh). A database error (disk full, locked) is an `OSError`, as a
        failed file write was: the batch is not stored and its jobs are taken again."""
        digests = [content_hash(payload) for payload in payloads]
        rows = [(digest, payload, time.time()) for digest, payload in zip(digests, payloads, strict=True)]
        self._transaction(
            f"store {len(rows)} result(s)",
            lambda db: db.executemany(
                """INSERT INTO results (hash, payload, stored_at) VALUES (?, ?, ?)
                   ON CONFLICT (hash) DO UPDATE SET stored_at = max(stored_at, excluded.stored_at)""",
                rows,
            ),
        )
        return digests

    def prune(self, max_age: float, keep: Collection[bytes] = ()) -> int:
        """Delete the results stored more than `max_age` seconds ago and return how many. Those in
        `keep` (results of jobs not finished: a challenge or dispute still needs them) are dated
        now instead, so a result outlives its job by `max_age` at least, whoever's job it was.
        Deleted a chunk a transaction: the API thread's reads wait only for one chunk."""
        now = time.time()
        refreshed = [(now, digest) for digest in keep]
        self._transaction(
            "keep results", lambda db: db.executemany("UPDATE results SET stored_at = ? WHERE hash = ?", refreshed)
        )
        deleted = 0
        while True:
            chunk = self._transaction(
                "prune results",
                lambda db: (
                    db.execute(
                        "DELETE FROM results WHERE hash IN (SELECT hash FROM results WHERE stored_at < ? LIMIT ?)",
                        (now - max_age, _PRUNE_CHUNK),
                    ).rowcount
                ),
            )
            deleted += chunk
            if chunk < _PRUNE_CHUNK:
                return deleted

    def _transaction(self, what: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` in one durable write transaction (rolled back when it fails); a database error
        raised as an `OSError` saying it could not `what`."""
        with self._lock:
            try:
                with write_transaction(self._db) as db:
                    return work(db)
            except sqlite3.Error as exc:
                raise OSError(f"cannot {what} in {self.directory / DATABASE}: {exc}") from exc

    def get(self, digest: bytes) -> bytes | None:
        """The payload with hash `digest`, or None. Results stored by versions before 2026-12-03,
        one file each named by the hash in hex, are still found."""
        with self._lock:
            if self._closed:
                return None
            row = self._db.execute("SELECT payload FROM results WHERE hash = ?", (digest,)).fetchone()
        if row is not None:
            return bytes(row[0])
        legacy = self.directory / digest.hex()
        return legacy.read_bytes() if legacy.is_file() else None
