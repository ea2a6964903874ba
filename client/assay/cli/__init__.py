"""`assay`: the command line for requesters, workers and operators.

Secrets never go on the command line: the account comes from --keystore (password from
$ASSAY_KEYSTORE_PASSWORD or a hidden prompt), $ASSAY_PRIVATE_KEY, or --dev-account N on a local chain.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

import click

from .._deploy import MarketParams, deploy_contracts
from .._errors import AssayError
from .._models import BUILTIN_MODELS, MODES, ModelManifest, RegisteredModel
from .._rpc import http_provider
from ._context import (
    ADDRESS,
    KEYSTORE_ENV,
    Settings,
    console,
    emit_json,
    eth,
    json_option,
    parse_eth,
    pass_settings,
    show_deployment,
)
from ._devnet import devnet
from ._gateway import gateway
from ._jobs import job
from ._worker import worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--rpc-url", envvar="ASSAY_RPC_URL", default="http://127.0.0.1:8545", show_default=True)
@click.option("--deployments", envvar="ASSAY_DEPLOYMENTS", help="deployments file or folder [default: ./deployments]")
@click.option("--keystore", envvar=KEYSTORE_ENV, type=click.Path(dir_okay=False), help="encrypted key file")
@click.option("--dev-account", type=int, help="anvil development account N (local chain only)")
@click.version_option(package_name="assay-protocol")
@click.pass_context
def cli(
    ctx: click.Context, rpc_url: str, deployments: str | None, keystore: str | None, dev_account: int | None
) -> None:
    """Assay: verifiable, escrowed AI inference."""
    ctx.obj = Settings(rpc_url, deployments, keystore, dev_account)


cli.add_command(devnet)
cli.add_command(gateway)
cli.add_command(job)
cli.add_command(worker)


@cli.command()
@click.option("--out", default="deployments", show_default=True, help="folder for <chainId>.json")
@click.option("--treasury", help="fee receiver [default: the deployer]")
@click.option("--fee-bps", default=MarketParams.fee_bps, show_default=True)
@click.option("--collateral-bps", default=MarketParams.collateral_bps, show_default=True)
@click.option("--challenge-window", default=MarketParams.challenge_window, show_default=True, help="seconds")
@click.option("--dispute-window", default=MarketParams.dispute_window, show_default=True, help="seconds")
@click.option("--unstake-cooldown", default=MarketParams.unstake_cooldown, show_default=True, help="seconds")
@click.option(
    "--arbiter",
    type=click.Choice(["trusted", "committee"]),
    default="trusted",
    show_default=True,
    help="trusted: the deployer rules (testnets); committee: staked verifiers vote",
)
@json_option
@pass_settings
def deploy(
    settings: Settings,
    out: str,
    treasury: str | None,
    fee_bps: int,
    collateral_bps: int,
    challenge_window: int,
    dispute_window: int,
    unstake_cooldown: int,
    arbiter: Literal["trusted", "committee"],
    as_json: bool,
) -> None:
    """Deploy the Assay contracts, register the built-in models and write <out>/<chainId>.json."""
    from web3 import Web3

    w3 = Web3(http_provider(settings.rpc_url, timeout=30))
    params = MarketParams(
        treasury=treasury,
        fee_bps=fee_bps,
        collateral_bps=collateral_bps,
        challenge_window=challenge_window,
        dispute_window=dispute_window,
        unstake_cooldown=unstake_cooldown,
        arbiter=arbiter,
    )
    with console.status("deploying…"):
        deployment = deploy_contracts(w3, settings.account(w3), params)
    path = deployment.save(out)
    show_deployment(deployment, as_json, f"wrote {path}")


@cli.group()
def models() -> None:
    """Models jobs can name."""


@models.command(name="list")
@click.option("--builtin", is_flag=True, help="the manifests built into this package (no chain needed)")
@json_option
@pass_settings
def list_models(settings: Settings, builtin: bool, as_json: bool) -> None:
    """List the models registered on the chain (or, with --builtin, the built-in manifests)."""
    if builtin:
        records = [_model_record(m.model_id, m, m) for m in BUILTIN_MODELS.values()]
    else:
        registered = settings.client(signer=False).registered_models()
        records = [_model_record(m.model_id, m.manifest, m) | {"registrant": m.registrant} for m in registered]
    if as_json:
        emit_json(records)
        return
    if not records:
        console.print("no model is registered on this chain yet (assay models register)")
    for r in records:
        name, runtime = r["name"] or "(manifest unavailable)", r["runtime"] or "?"
        click.echo(f"{name:<42} {r['model_id']}  ({runtime}, {r['verification']}, audit {r['audit_bps']} bps)")


def _model_record(
    model_id: bytes, manifest: ModelManifest | None, terms: ModelManifest | RegisteredModel
) -> dict[str, object]:
    return {
        "name": manifest.name if manifest else None,
        "model_id": "0x" + model_id.hex(),
        "runtime": manifest.runtime if manifest else None,
        "memory_mb": manifest.memory_mb if manifest else None,
        "verification": terms.verification,
        "audit_bps": terms.audit_bps,
        "min_collateral_wei": terms.min_collateral,
    }


@models.command(name="register")
@click.argument("manifest")
@json_option
@pass_settings
def register_model(settings: Settings, manifest: str, as_json: bool) -> None:
    """Register MANIFEST (a built-in model's name, or a JSON file with name, runtime,
    weights_digest, verification and optional audit_bps, min_collateral, memory_mb) and print
    its id."""
    chosen = BUILTIN_MODELS.get(manifest) or read_manifest(Path(manifest))
    model_id = settings.client().register_model(chosen)
    if as_json:
        emit_json({"name": chosen.name, "model_id": "0x" + model_id.hex(), "manifest_uri": chosen.manifest_uri})
    else:
        console.print(f"registered {chosen.name} as 0x{model_id.hex()}")


def read_manifest(path: Path) -> ModelManifest:
    if not path.is_file():
        raise click.BadParameter(f"{path} is neither a built-in model ({', '.join(BUILTIN_MODELS)}) nor a file")
    try:
        data = json.loads(path.read_text())
        manifest = ModelManifest(**data)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(f"{path} is not a valid manifest: {exc}") from exc
    if manifest.verification not in MODES:
        raise click.BadParameter(f"verification must be one of {', '.join(MODES)}, got {manifest.verification!r}")
    return manifest


@cli.command()
@click.argument("address", required=False, type=ADDRESS)
@json_option
@pass_settings
def balance(settings: Settings, address: str | None, as_json: bool) -> None:
    """Show market balance (withdrawable), stake and wallet ETH of ADDRESS or your account."""
    client = settings.client(signer=address is None)
    who = address or client.address
    stake = client.stake_of(who)
    record = {
        "address": who,
        "wallet_wei": client.w3.eth.get_balance(who),  # type: ignore[arg-type]
        "withdrawable_wei": client.balance(who),
        "stake_free_wei": stake.free,
        "stake_locked_wei": stake.locked,
        "stake_unstaking_wei": stake.unstaking,
        "unstake_unlock_at": stake.unlock_at or None,
    }
    if as_json:
        emit_json(record)
    else:
        for key, value in record.items():
            shown = eth(value) if key.endswith("_wei") and isinstance(value, int) else value
            click.echo(f"{key.removesuffix('_wei'):<22} {shown}")


@cli.command()
@click.option("--token", type=ADDRESS, help="withdraw this ERC-20 token's balance instead of ETH")
@pass_settings
def withdraw(settings: Settings, token: str | None) -> None:
    """Withdraw your market balance (payouts, refunds, fees)."""
    client = settings.client()
    amount = client.balance(token=token)
    receipt = client.withdraw(token)
    shown = f"{amount:,} units of token {token}" if token else eth(amount)
    console.print(f"withdrew {shown} (gas {receipt['gasUsed']:,})")


@cli.command()
@click.argument("amount")
@pass_settings
def stake(settings: Settings, amount: str) -> None:
    """Add AMOUNT ETH to your worker stake."""
    client = settings.client()
    client.stake(parse_eth(amount))
    console.print(f"staked {amount} ETH; free stake now {eth(client.stake_of().free)}")


@cli.command()
@click.argument("amount")
@pass_settings
def unstake(settings: Settings, amount: str) -> None:
    """Start the cooldown on AMOUNT ETH of free stake."""
    client = settings.client()
    client.request_unstake(parse_eth(amount))
    console.print(f"unstaking {amount} ETH; withdraw after {client.stake_of().unlock_at} (unix time)")


@cli.command(name="withdraw-stake")
@pass_settings
def withdraw_stake(settings: Settings) -> None:
    """Withdraw stake whose cooldown has passed."""
    settings.client().withdraw_stake()
    console.print("stake withdrawn")


def main() -> None:
    """Entry point: user-facing errors print one line, no traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        console.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AssayError as exc:
        console.print(f"[red]error:[/] {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)


__all__ = ["cli", "main"]
