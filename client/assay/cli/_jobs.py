"""`assay job ...`: post, inspect, wait for, cancel and refund jobs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from .._async import AsyncAssayClient
from .._events import JobEvent
from .._jobs import Job, JobInfo, JobPhase, JobResult
from .._models import BUILTIN_MODELS, ModelManifest
from ..batch import encode_batch, is_batch
from ._context import ADDRESS, Settings, console, emit_json, eth, json_option, output, parse_eth, pass_settings


def info_record(info: JobInfo) -> dict[str, Any]:
    return {
        "id": info.job_id,
        "phase": info.phase.name.lower(),
        "requester": info.requester,
        "worker": info.worker,
        "model_id": "0x" + info.model_id.hex(),
        "reward_wei": info.reward,
        "redundancy": info.terms.redundancy,
        "collateral_wei": info.terms.collateral,
        "claim_deadline": info.terms.claim_deadline,
        "result_deadline": info.terms.result_deadline,
        "challenge_end": info.challenge_end or None,
        "success": info.success,
        "result_hash": "0x" + info.result_hash.hex() if info.result_hash else None,
        "paid_wei": info.paid,
        "fee_wei": info.fee,
        "refunded_wei": info.refunded,
        "callback_failed": info.callback_failed,
    }


def result_record(result: JobResult) -> dict[str, Any]:
    return {
        "id": result.job_id,
        "worker": result.worker,
        "result_hash": "0x" + result.result_hash.hex(),
        "uri": result.uri,
        "verified": True,
        "payload": result.payload.decode("utf-8", errors="replace"),
        **(
            {"items": [item.decode("utf-8", errors="replace") for item in result.items()]}
            if is_batch(result.payload)
            else {}
        ),
    }


class ModelType(click.ParamType):
    """A built-in model's name, or any registered model's 0x id (`assay models list`)."""

    name = "model"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> ModelManifest | bytes:
        if isinstance(value, ModelManifest | bytes):
            return value
        if value in BUILTIN_MODELS:
            return BUILTIN_MODELS[value]
        text = str(value).lower().removeprefix("0x")
        if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
            return bytes.fromhex(text)
        self.fail(
            f"{value!r} is neither a built-in model ({', '.join(sorted(BUILTIN_MODELS))}) nor a 0x model id "
            "(`assay models list` shows the registered ones)",
            param,
            ctx,
        )


@click.group()
def job() -> None:
    """Post and follow inference jobs."""


@job.command()
@click.argument("model", type=ModelType())
@click.argument("job_input", metavar="INPUT", required=False)
@click.option(
    "--input-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="read INPUT from a file"
)
@click.option(
    "--batch-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="post one batch job: each non-empty line of the file is an input",
)
@click.option("--input-uri", help="where you host the input; only its hash and this URI go on chain")
@click.option("--reward", required=True, help="reward in ETH, e.g. 0.01")
@click.option("--redundancy", default=1, show_default=True, help="workers that run the job (1-8)")
@click.option("--claim-timeout", default=600, show_default=True, help="seconds slots can be taken")
@click.option("--result-timeout", default=1800, show_default=True, help="seconds after posting to deliver")
@click.option("--wait", "wait_for", is_flag=True, help="wait for the verified result")
@click.option("--timeout", default=600.0, show_default=True, help="seconds to wait with --wait")
@json_option
@pass_settings
def post(
    settings: Settings,
    model: ModelManifest | bytes,
    job_input: str | None,
    input_file: Path | None,
    batch_file: Path | None,
    input_uri: str | None,
    reward: str,
    redundancy: int,
    claim_timeout: int,
    result_timeout: int,
    wait_for: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Post a job running MODEL (a built-in model's name or a registered model's 0x id) on INPUT
    (text) and print its id."""
    if [job_input, input_file, batch_file].count(None) != 2:
        raise click.UsageError("give exactly one of INPUT, --input-file or --batch-file")
    if batch_file is not None:
        data = encode_batch([line for line in batch_file.read_text().splitlines() if line.strip()])
    else:
        data = input_file.read_bytes() if input_file else str(job_input).encode()
    client = settings.client()
    with console.status("posting job…"):
        posted = client.post_job(
            model,
            data,
            reward=parse_eth(reward),
            redundancy=redundancy,
            claim_timeout=claim_timeout,
            result_timeout=result_timeout,
            input_uri=input_uri,
        )
    if not wait_for:
        if as_json:
            emit_json({"id": posted.id, "tx": posted.receipt["transactionHash"].hex() if posted.receipt else None})
        else:
            click.echo(posted.id)
        return
    console.print(f"posted job {posted.id}")
    show_result(wait_with_progress(posted, timeout), as_json)


def wait_with_progress(handle: Job, timeout: float) -> JobResult:
    with console.status(f"job {handle.id}: waiting…") as status:

        def progress(phase: JobPhase, elapsed: float) -> None:
            status.update(f"job {handle.id}: {phase.name.lower()} ({elapsed:.0f} s)")
            console.print(f"[dim]{elapsed:6.1f} s[/] job {handle.id} {phase.name.lower()}")

        return handle.wait(timeout, on_progress=progress)


def show_result(result: JobResult, as_json: bool) -> None:
    if as_json:
        emit_json(result_record(result))
        return
    console.print(f"result of job {result.job_id} verified against hash 0x{result.result_hash.hex()}")
    for item in result.items() if is_batch(result.payload) else [result.payload]:  # a batch: a line an input
        click.echo(item.decode("utf-8", errors="replace"))


@job.command()
@click.argument("job_id", type=int)
@json_option
@pass_settings
def status(settings: Settings, job_id: int, as_json: bool) -> None:
    """Show a job's phase and terms."""
    record = info_record(settings.client(signer=False).job(job_id).info())
    if as_json:
        emit_json(record)
        return
    for key, value in record.items():  # plain lines on stdout: never cut, easy to grep
        shown = eth(value) if key.endswith("_wei") and value is not None else str(value)
        click.echo(f"{key.removesuffix('_wei'):<16} {shown}")


@job.command()
@click.argument("job_id", type=int)
@click.option("--timeout", default=600.0, show_default=True, help="seconds to wait")
@json_option
@pass_settings
def wait(settings: Settings, job_id: int, timeout: float, as_json: bool) -> None:
    """Wait for a job's verified result and print it."""
    show_result(wait_with_progress(settings.client(signer=False).job(job_id), timeout), as_json)


@job.command(name="list")
@click.option("--requester", type=ADDRESS, help="only this requester's jobs (default: all)")
@click.option("--mine", is_flag=True, help="only jobs posted by the configured account")
@click.option(
    "--phase",
    "phases",
    multiple=True,
    type=click.Choice([phase.name.lower() for phase in JobPhase if phase != JobPhase.NONE]),
    help="only jobs in this phase (repeatable)",
)
@json_option
@pass_settings
def list_jobs(settings: Settings, requester: str | None, mine: bool, phases: tuple[str, ...], as_json: bool) -> None:
    """List jobs on the market."""
    client = settings.client(signer=mine)
    records = [info_record(handle.info()) for handle in client.jobs(client.address if mine else requester)]
    records = [r for r in records if not phases or r["phase"] in phases]
    if as_json:
        emit_json(records)
        return
    table = Table("id", "phase", "reward", "requester", "worker")
    for r in records:
        table.add_row(str(r["id"]), r["phase"], eth(r["reward_wei"]), r["requester"], r["worker"] or "-")
    output.print(table)


@job.command()
@click.argument("job_id", type=int, required=False)
@click.option("--follow", is_flag=True, help="keep printing new events until interrupted")
@click.option("--from-block", type=int, help="first block to read (default: the market's deployment)")
@click.option("--ws-url", help="the node's websocket endpoint: with --follow, events are pushed, not polled")
@json_option
@pass_settings
def events(
    settings: Settings, job_id: int | None, follow: bool, from_block: int | None, ws_url: str | None, as_json: bool
) -> None:
    """Print the market's job events (JOB_ID's only, when given), oldest first; one JSON object
    per line with --json."""
    client = AsyncAssayClient(settings.client(signer=False), ws_url=ws_url)
    start = client.sync.deployment.start_block if from_block is None else from_block
    if not follow:
        head = client.w3.eth.block_number
        for event in client.sync.event_decoder.scan(client.w3, start, head, job_id):
            _print_event(event, as_json)
        return

    async def follow_events() -> None:
        async for event in client.events(start, job_id=job_id):
            _print_event(event, as_json)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends following; nothing is left half-done
        asyncio.run(follow_events())


def _print_event(event: JobEvent, as_json: bool) -> None:
    args = {name: _plain(value) for name, value in event.args.items() if name != "terms"}
    if as_json:
        record = {"block": event.block_number, "event": event.name, "job_id": event.job_id, "args": args}
        click.echo(json.dumps(record | {"tx": "0x" + event.tx_hash.hex(), "removed": event.removed}), nl=True)
        sys.stdout.flush()
        return
    shown = ", ".join(f"{name}={value}" for name, value in args.items() if name != "jobId")
    click.echo(f"block {event.block_number:>8}  job {event.job_id:>6}  {event.name:<16} {shown}")


def _plain(value: Any) -> Any:
    """An event argument as JSON can hold it: bytes as 0x-hex, large integers as they are."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@job.command()
@click.argument("job_id", type=int)
@pass_settings
def cancel(settings: Settings, job_id: int) -> None:
    """Cancel your job before any slot is taken; its reward becomes withdrawable."""
    receipt = settings.client().job(job_id).cancel()
    console.print(f"job {job_id} cancelled (gas {receipt['gasUsed']:,}); `assay withdraw` sends you the reward")


@job.command("refund-expired")
@pass_settings
def refund_expired(settings: Settings) -> None:
    """Settle all your jobs whose deadline passed with nothing to pay for, in as few transactions as possible."""
    refunds = settings.client().refund_expired()
    for refund in refunds:
        amount = eth(refund.refunded) if int(refund.token, 16) == 0 else f"{refund.refunded:,} of token {refund.token}"
        console.print(f"job {refund.job_id}: {amount} back to you (tx {refund.transaction})")
    if refunds:
        console.print(f"{len(refunds)} job(s) refunded; `assay withdraw` (`--token ADDRESS`) sends you your balance")
    else:
        console.print("none of your jobs is expired and unsettled")


@job.command()
@click.argument("job_id", type=int)
@pass_settings
def refund(settings: Settings, job_id: int) -> None:
    """Settle a job whose deadline passed without a result: its escrow returns to the requester (anyone may call)."""
    client = settings.client()
    receipt = client.job(job_id).refund()
    settled = [event.args for event in client.event_decoder.decode(receipt["logs"]) if event.name == "JobSettled"]
    refunded = int(settled[-1]["refunded"]) if settled else 0
    console.print(
        f"job {job_id} settled (gas {receipt['gasUsed']:,}): {refunded:,} wei back to the requester, "
        "who can `assay withdraw` it"
    )
