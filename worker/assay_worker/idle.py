"""Why a worker is not working: the first thing an operator asks of an idle rig. Checked in the
order that blocks most: no gas for any transaction, then too little free stake for any job's
collateral, then simply no open job for the models served."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from assay import AssayClient

GAS_PER_STEP = 300_000
"""Gas the wallet should cover for one step (a submit, commit, reveal or settle, with margin)."""


class IdleReason(NamedTuple):
    code: str  # a short label for the metric: no_gas, low_stake, no_jobs
    text: str  # what to tell the operator, with the figures and what to do


def idle_reason(client: AssayClient, min_collateral: Mapping[str, int], followed: int) -> IdleReason | None:
    """Why the worker with `client`'s account, serving models named in `min_collateral` (each
    with its collateral floor per slot) and following `followed` jobs, cannot or does not work;
    None when it is working."""
    w3 = client.w3
    wallet = int(w3.eth.get_balance(client.address))
    needed = int(w3.eth.gas_price) * GAS_PER_STEP
    if wallet < needed:
        return IdleReason(
            "no_gas",
            f"the wallet holds {wallet} wei, less than one step's gas ({needed} wei at the current price): "
            f"send ETH to {client.address}",
        )
    free = client.stake_of().free
    if min_collateral and free < min(min_collateral.values()):
        floors = ", ".join(f"{name} {floor} wei" for name, floor in sorted(min_collateral.items()))
        return IdleReason(
            "low_stake",
            f"free stake {free} wei is below the smallest collateral a job can need ({floors}): "
            "stake more (`assay stake`) or wait for held jobs to settle",
        )
    if followed == 0:
        return IdleReason("no_jobs", f"no open job for the models served ({', '.join(sorted(min_collateral))})")
    return None
