"""`assay devnet up/down`: a local anvil chain with the contracts deployed, kept running."""

from __future__ import annotations

import json
from pathlib import Path

import click
from eth_account import Account

from .._deploy import MarketParams, deploy_contracts
from ..devnet import ANVIL_KEYS, Anvil, stop_process
from ._context import console, json_option, show_deployment

STATE = Path(".assay") / "devnet.json"


@click.group()
def devnet() -> None:
    """Run a local chain with Assay deployed (anvil, chain 31337)."""


@devnet.command()
@click.option("--port", default=8545, show_default=True)
@click.option("--block-time", default=1.0, show_default=True, help="seconds between blocks")
@click.option("--challenge-window", default=10, show_default=True, help="seconds")
@click.option("--deployments", "out", default="deployments", show_default=True, help="folder for <chainId>.json")
@json_option
def up(port: int, block_time: float, challenge_window: int, out: str, as_json: bool) -> None:
    """Start anvil in the background and deploy the contracts."""
    if STATE.exists():
        raise click.UsageError(f"a devnet is already running (see {STATE}); `assay devnet down` first")
    STATE.parent.mkdir(parents=True, exist_ok=True)
    chain = Anvil(port, block_time, detach=True, log_path=STATE.parent / "anvil.log").start()
    try:
        deployment = deploy_contracts(
            chain.w3, Account.from_key(ANVIL_KEYS[0]), MarketParams(challenge_window=challenge_window)
        )
    except BaseException:
        chain.stop()
        raise
    path = deployment.save(out)
    state = {"pid": chain.pid, "rpc_url": chain.url, "deployments": str(path)}
    STATE.write_text(json.dumps(state, indent=2))
    show_deployment(deployment, as_json, f"anvil running at {chain.url} (pid {chain.pid}); wrote {path}", state)
    if as_json:
        return
    console.print("  development accounts, 10,000 ETH each (use --dev-account N):")
    for index, key in enumerate(ANVIL_KEYS):
        console.print(f"    {index}  {Account.from_key(key).address}")


@devnet.command()
def down() -> None:
    """Stop the devnet started by `assay devnet up`."""
    if not STATE.exists():
        raise click.UsageError("no devnet is running here")
    state = json.loads(STATE.read_text())
    stopped = stop_process(int(state["pid"]))
    STATE.unlink()
    console.print("devnet stopped" if stopped else "devnet was not running; state cleared")
