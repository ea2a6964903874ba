"""`assay gateway serve`: run an Assay blob gateway (needs fastapi and uvicorn, the `worker` extra)."""

from __future__ import annotations

import click
from eth_utils.address import to_checksum_address

from ..storage import MAX_PAYLOAD_BYTES
from ._context import Settings, console, parse_eth, pass_settings


@click.group()
def gateway() -> None:
    """Store job inputs and results by hash for others to fetch."""


@gateway.command()
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False), help="where blobs are kept")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True)
@click.option("--allow", multiple=True, help="an address that may upload (repeatable)")
@click.option(
    "--staked/--no-staked",
    default=True,
    show_default=True,
    help="also accept uploads from accounts staked in the WorkerRegistry (reads --rpc-url)",
)
@click.option("--min-stake", default="0.01", show_default=True, help="ETH of stake that lets an account upload")
@click.option("--max-bytes", default=MAX_PAYLOAD_BYTES, show_default=True, help="largest blob accepted")
@pass_settings
def serve(
    settings: Settings,
    directory: str,
    host: str,
    port: int,
    allow: tuple[str, ...],
    staked: bool,
    min_stake: str,
    max_bytes: int,
) -> None:
    """Serve blobs from DIR: PUT /blobs/0x<hash> (signed uploads), GET /blobs/0x<hash>, GET /health."""
    try:
        import uvicorn

        from ..gateway import create_app
    except ImportError as exc:
        raise click.UsageError(
            f"the gateway needs fastapi and uvicorn: pip install 'assay-protocol[worker]' ({exc})"
        ) from exc
    try:
        allowlist = [to_checksum_address(address) for address in allow]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--allow") from None
    if not allowlist and not staked:
        raise click.UsageError("nobody could upload: pass --allow ADDRESS or keep --staked")
    client = settings.client(signer=False) if staked else None
    app = create_app(directory, allowlist=allowlist, client=client, min_stake=parse_eth(min_stake), max_bytes=max_bytes)
    who = f"{len(allowlist)} allowlisted" + (f", or staked ≥ {min_stake} ETH" if staked else "")
    console.print(f"serving blobs from {directory} at http://{host}:{port} (uploads: {who})")
    uvicorn.run(app, host=host, port=port, log_level="warning")
