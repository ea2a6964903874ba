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
from collections.abc import Collection, Sequence
from pathlib import Path

from assay import content_hash

DATABASE = "results.sqlite"

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
        self._db = sqlite3.connect(self.directory / DATABASE, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

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
        """Store a batch's payloads in one durable transaction and return their hashes; a payload
        stored already keeps its first copy. A database error (disk full, locked) is an `OSError`,
        as a failed file write was: the batch is not stored and its jobs are taken again."""
        digests = [content_hash(payload) for payload in payloads]
        rows = [(digest, payload, time.time()) for digest, payload in zip(digests, payloads, strict=True)]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany(
                        "INSERT OR IGNORE INTO results (hash, payload, stored_at) VALUES (?, ?, ?)", rows
                    )
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise OSError(f"cannot store {len(rows)} result(s) in {self.directory / DATABASE}: {exc}") from exc
        return digests

    def prune(self, stored_before: float, keep: Collection[bytes] = ()) -> int:
        """Delete the results stored before `stored_before` (a Unix time), except those in `keep`
        (results of jobs not finished yet: a challenge or dispute still needs them); the count."""
        with self._lock:
            try:
                rows = self._db.execute("SELECT hash FROM results WHERE stored_at < ?", (stored_before,)).fetchall()
                doomed = [(row[0],) for row in rows if bytes(row[0]) not in keep]
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany("DELETE FROM results WHERE hash = ?", doomed)
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise OSError(f"cannot prune results in {self.directory / DATABASE}: {exc}") from exc
        return len(doomed)

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
