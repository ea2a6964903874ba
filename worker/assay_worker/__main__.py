"""`assay-worker` (also `assay worker run`): run an Assay worker.

Settings come from --config FILE (TOML), then $ASSAY_WORKER_* variables, then the flags below.
The key comes from an encrypted keystore (password from $ASSAY_WORKER_PASSWORD or a file) or
$ASSAY_WORKER_KEY; never from the command line.

    assay-worker --config worker.toml
    ASSAY_WORKER_KEY=0x... assay-worker --model sentence-transformers/all-MiniLM-L6-v2 --port 8600
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType

from assay import AssayClient, AssayError
from assay.storage import storage_from_uri
from web3 import Web3

from .config import WorkerConfig
from .daemon import FAILPOINTS, Worker, WorkerSettings
from .runtimes import BUILTIN_RUNTIMES, RuntimeLoadError

FAILPOINT_ENV = "ASSAY_WORKER_FAILPOINT"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="assay-worker", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", help="TOML config file")
    parser.add_argument("--rpc-url")
    parser.add_argument("--ws-url", help="websocket endpoint of the node: new blocks are pushed, not polled")
    parser.add_argument("--deployments", help="deployments file or folder")
    parser.add_argument("--model", dest="models", action="append", choices=sorted(BUILTIN_RUNTIMES), help="repeatable")
    parser.add_argument("--results-dir")
    parser.add_argument("--journal", help="SQLite journal of in-flight work")
    parser.add_argument("--host", help="address the API listens on")
    parser.add_argument("--port", type=int, help="port of the API (0: any free)")
    parser.add_argument("--public-url", help="base URL requesters use to fetch results")
    parser.add_argument("--stake", help="ETH of free stake to keep")
    parser.add_argument("--poll-interval", type=float, help="seconds between chain polls")
    parser.add_argument("--confirmations", type=int, help="blocks a job must be buried under before it is acted on")
    parser.add_argument("--batch-size", type=int, help="most jobs of one model run (and submitted) together")
    parser.add_argument("--batch-wait", type=float, help="seconds a job may wait for a fuller batch")
    parser.add_argument("--allow-private-uris", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument(
        "--open-claiming",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also take slots nobody took after the draw rounds (default: on)",
    )
    return parser.parse_args(argv)


def load_config(args: argparse.Namespace) -> WorkerConfig:
    api = {"host": args.host, "port": args.port, "public_url": args.public_url}
    overrides = {
        key: getattr(args, key)
        for key in (
            "rpc_url",
            "ws_url",
            "deployments",
            "models",
            "results_dir",
            "journal",
            "stake",
            "poll_interval",
            "confirmations",
            "allow_private_uris",
            "open_claiming",
            "batch_size",
            "batch_wait",
        )
    }
    config = WorkerConfig.load(args.config, **overrides)
    given = {key: value for key, value in api.items() if value is not None}
    return config.model_copy(update={"api": config.api.model_copy(update=given)}) if given else config


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    failpoint = os.environ.get(FAILPOINT_ENV) or None
    if failpoint not in (None, *FAILPOINTS.values()):
        print(f"assay-worker: {FAILPOINT_ENV} must be one of {', '.join(FAILPOINTS.values())}", file=sys.stderr)
        return 2
    try:
        config = load_config(args)
        account = config.account()
    except AssayError as exc:
        print(f"assay-worker: {exc}", file=sys.stderr)
        return 2
    try:
        client = AssayClient(
            config.rpc_url,
            account,
            deployment=config.deployments,
            allow_private_uris=config.allow_private_uris,
            fees=config.fees.policy(),
        )
        settings = WorkerSettings(
            models=config.runtime_models(),
            results_dir=str(config.results_dir),
            journal_path=str(config.journal),
            host=config.api.host,
            port=config.api.port,
            public_url=config.api.public_url,
            stake=Web3.to_wei(config.stake, "ether"),
            poll_interval=config.poll_interval,
            ws_url=config.ws_url,
            confirmations=config.confirmations,
            open_claiming=config.open_claiming,
            batch_size=config.batch_size,
            batch_wait=config.batch_wait,
            model_timeout=config.model_timeout,
            result_retention_days=config.result_retention_days,
            memory_budget_mb=config.memory_budget_mb,
            min_reward=Web3.to_wei(config.min_reward, "ether"),
            max_batch_items=config.max_batch_items,
            max_active_jobs=config.max_active_jobs,
            deadline_margin=config.deadline_margin,
            storage=storage_from_uri(config.storage, account) if config.storage else None,
            failpoint=failpoint,
        )
        worker = Worker(client, settings)

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            logging.getLogger("assay.worker").info("received %s, stopping", signal.Signals(signum).name)
            worker.stop()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        worker.run()
    except (AssayError, RuntimeLoadError, OSError, ValueError) as exc:
        print(f"assay-worker: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
