"""`assay worker run/status`: run the worker daemon (needs the `worker` extra) and ask it how it is."""

from __future__ import annotations

import sys

import click
import httpx

from ._context import console, emit_json, json_option


@click.group()
def worker() -> None:
    """Run a GPU worker and check on it."""


@worker.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(args: tuple[str, ...]) -> None:
    """Run the worker daemon: `assay worker run --config worker.toml` (see `assay worker run --help`)."""
    try:
        from assay_worker.__main__ import main as worker_main
    except ImportError as exc:
        raise click.UsageError(f"the worker is not installed: pip install 'assay-protocol[worker]' ({exc})") from exc
    sys.exit(worker_main(list(args)))


@worker.command()
@click.option("--url", default="http://127.0.0.1:8600", show_default=True, help="the worker's API")
@json_option
def status(url: str, as_json: bool) -> None:
    """Show a running worker's health: models, jobs, what it is waiting for."""
    try:
        health = httpx.get(f"{url.rstrip('/')}/health", timeout=5).raise_for_status().json()
    except httpx.HTTPError as exc:
        raise click.ClickException(f"no worker answers at {url} ({exc}); is it running?") from exc
    if as_json:
        emit_json(health)
        return
    for key, value in health.items():
        console.print(f"{key:<22} {value}")
