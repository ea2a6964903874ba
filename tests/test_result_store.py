"""The worker's result store: content-addressed, durable per batch, shared by the worker's threads."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from assay import content_hash
from assay_worker.results import DATABASE, ResultStore


def test_a_batch_is_stored_under_its_hashes_and_survives_reopening(tmp_path: Path) -> None:
    payloads = [b"first", b"second", b"first"]  # a repeated payload is stored once
    store = ResultStore(tmp_path)
    digests = store.put_many(payloads)
    assert digests == [content_hash(p) for p in payloads]
    assert store.put(b"third") == content_hash(b"third")
    store.close()
    reopened = ResultStore(tmp_path)
    assert [reopened.get(d) for d in digests] == payloads
    assert reopened.get(content_hash(b"third")) == b"third"
    assert reopened.get(content_hash(b"never stored")) is None
    assert (tmp_path / DATABASE).is_file()


def test_results_stored_as_files_by_earlier_versions_are_still_served(tmp_path: Path) -> None:
    digest = content_hash(b"stored by an older worker")
    (tmp_path / digest.hex()).write_bytes(b"stored by an older worker")
    assert ResultStore(tmp_path).get(digest) == b"stored by an older worker"


def test_a_reader_thread_sees_every_committed_batch(tmp_path: Path) -> None:
    """The worker API reads results on its own threads while the main thread stores batches."""
    store = ResultStore(tmp_path)
    batches = [[f"batch {b} item {i}".encode() for i in range(32)] for b in range(20)]
    committed: list[bytes] = []
    missing: list[bytes] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            for digest in list(committed):
                if store.get(digest) is None:
                    missing.append(digest)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for batch in batches:
            committed.extend(store.put_many(batch))
    finally:
        done.set()
        reader.join()
    assert missing == []
    assert all(store.get(content_hash(p)) == p for batch in batches for p in batch)


def test_a_database_error_is_an_oserror_and_leaves_the_store_usable(tmp_path: Path) -> None:
    """Another writer holding the database (here past sqlite's 5 s busy wait): the batch is refused
    as a failed file write was (OSError: the worker's round fails and the jobs are taken again),
    and the next batch is stored once the database is free."""
    store = ResultStore(tmp_path)
    other = sqlite3.connect(tmp_path / DATABASE, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OSError, match="cannot store 1 result"):
        store.put_many([b"refused"])
    other.execute("ROLLBACK")
    other.close()
    assert store.get(content_hash(b"refused")) is None
    assert store.put_many([b"stored"]) == [content_hash(b"stored")]
    assert store.get(content_hash(b"stored")) == b"stored"
    store.close()
    assert store.get(content_hash(b"stored")) is None  # closed: an API request still running finds nothing


def test_pruning_deletes_old_results_but_keeps_those_asked_for(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    old, kept = store.put_many([b"old", b"old but its job is unfinished"])
    assert store.prune(max_age=3600) == 0  # nothing is an hour old
    time.sleep(0.01)
    assert store.prune(max_age=0, keep={kept}) == 1  # everything stored before now is too old
    assert store.get(old) is None
    assert store.get(kept) == b"old but its job is unfinished"
    # kept results are dated afresh, so they outlive their job by the retention
    assert store.prune(max_age=3600) == 0 and store.get(kept) is not None


def test_a_result_stored_again_is_dated_afresh(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    [digest] = store.put_many([b"same answer"])
    time.sleep(0.5)
    stored_again = time.time()
    store.put_many([b"same answer"])  # another job, the same deterministic result
    # older than the first store, younger than the second (0.25 s of slack either way)
    assert store.prune(max_age=time.time() - stored_again + 0.25) == 0
    assert store.get(digest) == b"same answer"
