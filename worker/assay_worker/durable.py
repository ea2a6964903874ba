"""SQLite files that survive a crash (the journal, the results): WAL with synchronous=FULL, so a
commit is on disk when it returns, and explicit write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def open_durable(path: Path, schema: str, *, shared: bool = False) -> sqlite3.Connection:
    """The database at `path` with `schema` created; `shared` lets other threads use the
    connection (the caller serialises them)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=not shared)  # explicit transactions
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db


@contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, committed durably when the block ends; rolled back when the block or
    the COMMIT itself fails (a failed COMMIT would otherwise leave it open, and every later BEGIN fail)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
