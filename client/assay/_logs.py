"""Reading contract events in block-range pages: public RPCs refuse wide eth_getLogs ranges."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from web3.contract.contract import ContractEvent
from web3.types import EventData

LOG_PAGE = 2_000
"""Blocks per eth_getLogs call; within every public provider's limit."""


def iter_logs(
    event: type[ContractEvent] | ContractEvent,
    from_block: int,
    to_block: int,
    *,
    argument_filters: dict[str, Any] | None = None,
    page: int = LOG_PAGE,
) -> Iterator[EventData]:
    """Yield `event` logs from `from_block` to `to_block` (inclusive), oldest first."""
    start = from_block
    while start <= to_block:
        end = min(to_block, start + page - 1)
        yield from event.get_logs(from_block=start, to_block=end, argument_filters=argument_filters)
        start = end + 1
