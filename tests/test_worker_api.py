"""The worker's API on a running worker: Prometheus metrics, recent jobs, and the HTML status
page rendered by headless Chromium (which saves docs/worker-status.png)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from assay import ECHO, AssayClient
from assay.devnet import ANVIL_KEYS
from assay_worker.daemon import Worker
from eth_account import Account

from .conftest import MARKET_PARAMS, local_market, metric_samples, wait_for, worker_process

REWARD = 10**16
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "worker-status.png"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def test_metrics_jobs_and_status_page(tmp_path: Path) -> None:
    with local_market(tmp_path) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        worker = worker_process(chain, tmp_path)
        try:
            worker.wait_ready()
            jobs = [requester.post_job(ECHO, f"page {n}", reward=REWARD) for n in range(3)]
            for job in jobs:
                job.wait(timeout=60)
            metrics = httpx.get(f"{worker.url}/metrics").text
            recent = httpx.get(f"{worker.url}/jobs").json()
            ready = httpx.get(f"{worker.url}/ready")
            page = httpx.get(f"{worker.url}/")
            if shutil.which("chromium"):
                render(worker.url, tmp_path)
            elif os.environ.get("CI"):
                pytest.fail("CI must have Debian's chromium (scripts/test.sh installs it)")
        finally:
            assert worker.stop() == 0

    found = metric_samples(metrics)
    fee = REWARD * MARKET_PARAMS.fee_bps // 10_000
    assert found[("assay_worker_jobs_total", "settled")] == 3
    assert found[("assay_worker_jobs_total", "submitted")] == 3
    assert found[("assay_worker_jobs_total", "failed")] == 0
    assert found[("assay_worker_earned_wei_total", "")] == 3 * (REWARD - fee)
    assert found[("assay_worker_gas_spent_wei_total", "")] > 0
    assert ("assay_worker_model_load_seconds", ECHO.name) in found
    assert found[("assay_worker_active_jobs", "")] == 0
    assert found[("assay_worker_queue_depth", ECHO.name)] == 0

    assert (ready.status_code, ready.json()) == (200, {"ready": True})
    assert {entry["job_id"]: entry["state"] for entry in recent} == {job.id: "settled" for job in jobs}
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert Account.from_key(ANVIL_KEYS[2]).address in page.text and "0.029250 ETH" in page.text


def test_queue_depth_counts_jobs_waiting_for_a_fuller_batch(tmp_path: Path) -> None:
    with local_market(tmp_path) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        env = {"ASSAY_WORKER_BATCH_SIZE": "8", "ASSAY_WORKER_BATCH_WAIT": "60"}
        worker = worker_process(chain, tmp_path, extra_env=env)
        try:
            worker.wait_ready()
            requester.post_jobs(ECHO, ["one", "two"], reward=REWARD)
            wait_for(lambda: queue_depth(worker.url) == 2, timeout=30)
            found = metric_samples(httpx.get(f"{worker.url}/metrics").text)
        finally:
            assert worker.stop() == 0
    assert found[("assay_worker_active_jobs", "")] == 2
    assert found[("assay_worker_jobs_total", "submitted")] == 0  # still waiting for six more


def queue_depth(url: str) -> float:
    return metric_samples(httpx.get(f"{url}/metrics").text)[("assay_worker_queue_depth", ECHO.name)]


def render(url: str, tmp_path: Path) -> None:
    """Dump the page's DOM and screenshot it with headless Chromium."""
    profile = ["--user-data-dir=" + str(tmp_path / "chromium")]
    dom = subprocess.run(
        ["chromium", *CHROMIUM_FLAGS, *profile, "--dump-dom", url], capture_output=True, text=True, timeout=60
    )
    assert dom.returncode == 0, dom.stderr
    assert "Recent jobs" in dom.stdout and "settled" in dom.stdout
    shot = subprocess.run(
        ["chromium", *CHROMIUM_FLAGS, *profile, "--window-size=1100,760", f"--screenshot={SCREENSHOT}", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shot.returncode == 0, shot.stderr
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_readiness_reasons() -> None:
    worker = SimpleNamespace(
        stopping=threading.Event(), last_round=None, wedged=None, settings=SimpleNamespace(poll_interval=0.5)
    )
    assert "catching up" in (Worker.readiness(worker) or "")  # type: ignore[arg-type]
    worker.last_round = time.monotonic()
    assert Worker.readiness(worker) is None  # type: ignore[arg-type]
    worker.last_round -= 60
    assert "no poll round has finished for 60 s" in (Worker.readiness(worker) or "")  # type: ignore[arg-type]
    worker.last_round = time.monotonic()
    worker.wedged = "model m has run one batch for more than 600 s"
    assert Worker.readiness(worker) == "model m has run one batch for more than 600 s"  # type: ignore[arg-type]
    worker.stopping.set()
    assert Worker.readiness(worker) == "stopping"  # type: ignore[arg-type]
