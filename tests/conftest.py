"""Fixture chain: anvil (one per session) -> deployment -> snapshot per test -> clients."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from assay import ECHO, AssayClient, Deployment
from assay._deploy import MarketParams, deploy_contracts
from assay.devnet import ANVIL_KEYS, Anvil, free_port
from assay_worker.api import ApiServer, create_app
from assay_worker.launcher import WorkerProcess
from assay_worker.results import ResultStore
from eth_account import Account
from prometheus_client.parser import text_string_to_metric_families
from web3 import Web3

CHALLENGE_WINDOW = 2
MARKET_PARAMS = MarketParams(
    treasury=Account.from_key(ANVIL_KEYS[5]).address,
    fee_bps=250,
    collateral_bps=10_000,
    challenge_window=CHALLENGE_WINDOW,
    reveal_window=30,
    accept_window=30,
    unstake_cooldown=3_600,
)


def wait_for(
    condition: Callable[[], bool], timeout: float = 60.0, interval: float = 0.2, explain: Callable[[], str] = str
) -> None:
    """Return once `condition()` holds; fail after `timeout` seconds with `explain()` (what to look at)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s. {explain()}"
        time.sleep(interval)


def metric_samples(text: str) -> dict[tuple[str, str], float]:
    """Prometheus text as (sample name, outcome, model or reason label) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            label = sample.labels.get("outcome") or sample.labels.get("model") or sample.labels.get("reason", "")
            found[(sample.name, label)] = sample.value
    return found


def time_travel(w3: Web3, seconds: int) -> None:
    """Move the chain's clock forward and mine a block at the new time."""
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    with Anvil() as chain:
        yield chain


@pytest.fixture(scope="session")
def deployment(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    deployed = deploy_contracts(anvil.w3, Account.from_key(ANVIL_KEYS[0]), MARKET_PARAMS)
    deployed.save(tmp_path_factory.mktemp("deployments"))
    return deployed


@pytest.fixture
def w3(anvil: Anvil, deployment: Deployment) -> Iterator[Web3]:
    """The chain, reverted to its post-deployment state after each test."""
    snapshot = anvil.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield anvil.w3
    anvil.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


@pytest.fixture
def requester(w3: Web3, deployment: Deployment) -> AssayClient:
    return AssayClient(w3, ANVIL_KEYS[1], deployment=deployment)


@pytest.fixture
def worker(w3: Web3, deployment: Deployment) -> AssayClient:
    return AssayClient(w3, ANVIL_KEYS[2], deployment=deployment)


@pytest.fixture
def treasury() -> str:
    assert MARKET_PARAMS.treasury is not None
    return MARKET_PARAMS.treasury


@pytest.fixture
def deployments_dir(deployment: Deployment, tmp_path: Path) -> Path:
    deployment.save(tmp_path)
    return tmp_path


@contextmanager
def local_market(folder: Path, params: MarketParams = MARKET_PARAMS) -> Iterator[tuple[Anvil, Deployment]]:
    """A fresh anvil making a block a second (as a real chain does, so challenge windows end by
    themselves), with the contracts deployed and `<folder>/31337.json` written."""
    with Anvil(block_time=1) as chain:
        deployed = deploy_contracts(chain.w3, Account.from_key(ANVIL_KEYS[0]), params)
        deployed.save(folder)
        yield chain, deployed


def worker_process(
    chain: Anvil,
    folder: Path,
    key_index: int = 2,
    models: tuple[str, ...] = (ECHO.name,),
    rpc_url: str | None = None,
    **kwargs: Any,
) -> WorkerProcess:
    """A worker subprocess for `chain` (through `rpc_url` if given), its files under `folder`."""
    return WorkerProcess(
        rpc_url=rpc_url or chain.url,
        key=ANVIL_KEYS[key_index],
        deployments=folder,
        models=list(models),
        results_dir=folder / f"worker{key_index}" / "results",
        port=free_port(),
        log_path=folder / f"worker{key_index}.log",
        **kwargs,
    )


@contextmanager
def gateway_server(rpc_url: str, folder: Path, *options: str) -> Iterator[str]:
    """`assay gateway serve` in a subprocess, blobs under `<folder>/blobs` (the deployments file
    is read from `folder`); yields its URL once /health answers."""
    port = free_port()
    args = ["--rpc-url", rpc_url, "--deployments", str(folder), "gateway", "serve", "--dir", str(folder / "blobs")]
    log = (folder / "gateway.log").open("w")
    process = subprocess.Popen(
        ["assay", *args, "--port", str(port), *options], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (folder / "gateway.log").read_text()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the gateway did not answer within 30 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def result_server(tmp_path: Path) -> Iterator[tuple[ResultStore, str]]:
    """A real HTTP server publishing results, as a worker does."""
    store = ResultStore(tmp_path / "results")
    server = ApiServer(create_app(store, lambda: {"status": "ok"}), "127.0.0.1", 0)
    server.start()
    yield store, f"http://127.0.0.1:{server.port}"
    server.stop()


def publish(result_server: tuple[ResultStore, str], payload: bytes) -> tuple[bytes, str]:
    store, base = result_server
    digest = store.put(payload)
    return digest, f"{base}/results/0x{digest.hex()}"
