"""`assay-worker`: run an Assay worker. The private key comes from $ASSAY_WORKER_KEY, never argv.

    ASSAY_WORKER_KEY=0x... assay-worker --rpc-url http://127.0.0.1:8545 \
        --model sentence-transformers/all-MiniLM-L6-v2 --results-dir ./results
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from decimal import Decimal
from types import FrameType

from assay import BUILTIN_MODELS, AssayClient, AssayError
from web3 import Web3

from .daemon import FAILPOINTS, Worker, WorkerSettings
from .runtimes import RuntimeLoadError

KEY_ENV = "ASSAY_WORKER_KEY"
FAILPOINT_ENV = "ASSAY_WORKER_FAILPOINT"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="assay-worker", description=__doc__.split("\n")[0])
    parser.add_argument("--rpc-url", default=env("ASSAY_RPC_URL", "http://127.0.0.1:8545"))
    parser.add_argument("--deployments", default=env("ASSAY_DEPLOYMENTS"), help="deployments file or folder")
    parser.add_argument(
        "--model",
        dest="models",
        action="append",
        choices=sorted(BUILTIN_MODELS),
        help="a model to serve (repeatable; default: the echo test model)",
    )
    parser.add_argument("--results-dir", default=env("ASSAY_RESULTS_DIR", ".assay/results"))
    parser.add_argument(
        "--journal", default=env("ASSAY_JOURNAL", ".assay/journal.sqlite"), help="SQLite journal of in-flight work"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address the result API listens on")
    parser.add_argument("--port", type=int, default=8600, help="port of the result API (0: any free)")
    parser.add_argument("--public-url", help="base URL requesters use to fetch results")
    parser.add_argument("--stake", default="0.1", help="ETH of free stake to keep (default 0.1)")
    parser.add_argument(
        "--allow-private-uris",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fetch inputs from private/loopback addresses (default: only on a local chain)",
    )
    parser.add_argument("--poll-interval", type=float, default=0.5, help="seconds between chain polls")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    key = os.environ.get(KEY_ENV)
    if not key:
        print(f"assay-worker: set {KEY_ENV} to the worker account's private key", file=sys.stderr)
        return 2
    failpoint = os.environ.get(FAILPOINT_ENV) or None
    if failpoint not in (None, *FAILPOINTS):
        print(f"assay-worker: {FAILPOINT_ENV} must be one of {', '.join(FAILPOINTS)}", file=sys.stderr)
        return 2
    try:
        stake = Web3.to_wei(Decimal(args.stake), "ether")
        client = AssayClient(args.rpc_url, key, deployment=args.deployments, allow_private_uris=args.allow_private_uris)
        settings = WorkerSettings(
            models=args.models or ["assay/echo-v1"],
            results_dir=args.results_dir,
            journal_path=args.journal,
            host=args.host,
            port=args.port,
            public_url=args.public_url,
            stake=stake,
            poll_interval=args.poll_interval,
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
