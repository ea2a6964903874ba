"""The worker's durable journal: SQLite in WAL mode, written *before* each transaction.

Every job the worker touches gets a row whose `state` is the last intent or outcome recorded
(`working` → `submitting` → `submitted` for one slot, or `working` → `committing` → `committed`
→ `revealing` → `revealed` for redundant jobs; then `settling` → `settled`, or an end state
`lost` / `failed`), and every change is appended to `history`. A commitment's salt is written
with its `committing` intent, before the transaction leaves, so a crash can never lose it. After a crash the worker
reads the unfinished rows and reconciles each with the chain, which is the truth: an intent
without an outcome means "the transaction may or may not have landed; look before acting".
The scan cursor (last block whose logs were processed) lives here too."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assay import ConfigError

from .durable import open_durable, write_transaction

FINISHED = ("settled", "lost", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    result_hash BLOB,
    slot INTEGER,
    salt BLOB,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    detail TEXT NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class JournalRecord:
    """One state change to write: fields left None keep their stored values."""

    job_id: int
    state: str
    detail: str = ""
    result_hash: bytes | None = None
    slot: int | None = None
    salt: bytes | None = None


@dataclass(frozen=True)
class JournalEntry:
    job_id: int
    state: str
    result_hash: bytes | None
    slot: int | None
    salt: bytes | None


class Journal:
    """One SQLite file per worker account and market; each write is committed durably at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = open_durable(self.path, _SCHEMA)

    def close(self) -> None:
        self._db.close()

    def bind(self, chain_id: int, market: str, worker: str, anchor: str) -> None:
        """Tie the journal to one chain, market and worker; refuse to reuse it for another.
        `anchor` (the hash of the deployment's start block) tells a restarted local chain, whose
        contracts land at the same addresses, from the one the journal was written for."""
        identity = f"{chain_id}:{market}:{worker}:{anchor}"
        row = self._db.execute("SELECT value FROM meta WHERE key = 'identity'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('identity', ?)", (identity,))
        elif row[0] != identity:
            raise ConfigError(
                f"journal {self.path} belongs to {row[0]} (chain:market:worker:anchor), not {identity}; "
                "use another --journal file"
            )

    @property
    def cursor(self) -> int | None:
        """The next block to scan, or None for a new journal."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'cursor'").fetchone()
        return int(row[0]) if row else None

    @cursor.setter
    def cursor(self, block: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('cursor', ?)", (str(block),))

    def record(
        self,
        job_id: int,
        state: str,
        detail: str = "",
        *,
        result_hash: bytes | None = None,
        slot: int | None = None,
        salt: bytes | None = None,
    ) -> None:
        """Set the job's state (keeping fields not given) and append it to the history, atomically."""
        self.record_many([JournalRecord(job_id, state, detail, result_hash, slot, salt)])

    def record_many(self, records: Sequence[JournalRecord]) -> None:
        """`record` each of `records` in one durable transaction (one fsync for a whole batch)."""
        now = time.time()
        with write_transaction(self._db):
            for r in records:
                self._db.execute(
                    """INSERT INTO jobs (job_id, state, result_hash, slot, salt, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?)
                       ON CONFLICT (job_id) DO UPDATE SET
                         state = excluded.state,
                         result_hash = COALESCE(excluded.result_hash, jobs.result_hash),
                         slot = COALESCE(excluded.slot, jobs.slot),
                         salt = COALESCE(excluded.salt, jobs.salt),
                         updated_at = excluded.updated_at""",
                    (r.job_id, r.state, r.result_hash, r.slot, r.salt, now),
                )
                self._db.execute(
                    "INSERT INTO history (job_id, state, detail, at) VALUES (?, ?, ?, ?)",
                    (r.job_id, r.state, r.detail, now),
                )

    def get(self, job_id: int) -> JournalEntry | None:
        row = self._db.execute(
            "SELECT job_id, state, result_hash, slot, salt FROM jobs WHERE job_id = ?", (job_id,)
        ).fetchone()
        return JournalEntry(*row) if row else None

    def unfinished(self) -> list[JournalEntry]:
        """Jobs whose last state is not an end state, oldest first."""
        marks = ",".join("?" * len(FINISHED))
        rows = self._db.execute(
            f"SELECT job_id, state, result_hash, slot, salt FROM jobs WHERE state NOT IN ({marks}) ORDER BY job_id",
            FINISHED,
        ).fetchall()
        return [JournalEntry(*row) for row in rows]

    def history(self, job_id: int) -> list[str]:
        rows = self._db.execute("SELECT state FROM history WHERE job_id = ? ORDER BY id", (job_id,)).fetchall()
        return [row[0] for row in rows]


def recent_jobs(path: str | Path, limit: int = 50) -> list[dict[str, object]]:
    """The `limit` most recently updated jobs, read through a connection of the caller's own
    (the worker's connection belongs to its main thread; WAL lets readers run alongside)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT job_id, state, result_hash, updated_at FROM jobs ORDER BY updated_at DESC LIMIT ?", (limit,)
        ).fetchall()
    return [
        {
            "job_id": job_id,
            "state": state,
            "result_hash": "0x" + result_hash.hex() if result_hash else None,
            "updated": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(updated_at)),
        }
        for job_id, state, result_hash, updated_at in rows
    ]
