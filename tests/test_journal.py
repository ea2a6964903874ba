"""The worker journal on its own: durable states, history, cursor, identity."""

from __future__ import annotations

from pathlib import Path

import pytest
from assay import ConfigError
from assay_worker.journal import Journal


def test_states_history_and_cursor_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path)
    journal.bind(31337, "0xmarket", "0xworker", "0xa")
    assert journal.cursor is None
    journal.record(7, "working")
    journal.record(7, "committing", "uri", result_hash=b"\x01" * 32, slot=2, salt=b"\x02" * 32)
    journal.record(7, "committed")
    journal.record(8, "working")
    journal.record(8, "lost", "slot taken by someone else")
    journal.cursor = 42
    journal.close()

    reopened = Journal(path)
    reopened.bind(31337, "0xmarket", "0xworker", "0xa")
    entry = reopened.get(7)
    assert entry is not None
    # the salt written with the intent survives: a restarted worker can still reveal
    assert (entry.state, entry.result_hash, entry.slot, entry.salt) == ("committed", b"\x01" * 32, 2, b"\x02" * 32)
    assert [e.job_id for e in reopened.unfinished()] == [7]
    assert reopened.history(7) == ["working", "committing", "committed"]
    assert reopened.cursor == 42
    assert reopened.get(9) is None


def test_journal_refuses_another_chain_market_or_worker(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    journal.bind(31337, "0xmarket", "0xworker", "0xa")
    with pytest.raises(ConfigError, match="belongs to 31337:0xmarket:0xworker:0xa"):
        journal.bind(31337, "0xmarket", "0xother", "0xa")
    with pytest.raises(ConfigError, match="not 31337:0xmarket:0xworker:0xb"):  # same addresses, new chain
        journal.bind(31337, "0xmarket", "0xworker", "0xb")
