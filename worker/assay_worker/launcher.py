"""Start a worker as a subprocess and wait until its API answers: for the demo and the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .config import KEY_ENV


class WorkerProcess:
    """An `assay-worker` subprocess; `stop()` asks it to shut down gracefully (SIGTERM)."""

    def __init__(
        self,
        *,
        rpc_url: str,
        key: str,
        deployments: str | os.PathLike[str],
        models: list[str],
        results_dir: str | os.PathLike[str],
        port: int,
        journal: str | os.PathLike[str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        stake_eth: str = "0.1",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        """`journal` defaults to journal.sqlite beside `results_dir`."""
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "assay_worker", "--rpc-url", rpc_url, "--deployments", str(deployments)]
        journal = journal or Path(results_dir).parent / "journal.sqlite"
        command += ["--results-dir", str(results_dir), "--journal", str(journal)]
        command += ["--port", str(port), "--stake", stake_eth]
        for model in models:
            command += ["--model", model]
        self.log_path = Path(log_path) if log_path else None
        self._log = self.log_path.open("wb") if self.log_path else None
        output = self._log or subprocess.DEVNULL
        self.process = subprocess.Popen(
            command,
            env=os.environ | {KEY_ENV: key} | (extra_env or {}),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )

    def wait_ready(self, timeout: float = 120.0) -> dict[str, object]:
        """Poll /health until the worker has loaded its models and staked; return the health record."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with code {self.process.returncode}; {self._log_hint()}")
            try:
                health: dict[str, object] = httpx.get(f"{self.url}/health", timeout=1).json()
                return health
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"worker not ready within {timeout:.0f} s; {self._log_hint()}")

    def health(self) -> dict[str, object]:
        result: dict[str, object] = httpx.get(f"{self.url}/health", timeout=5).json()
        return result

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, wait, then SIGKILL if it does not exit; returns its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
        return self.process.returncode

    def log_text(self) -> str:
        """What the worker has logged so far ('' without a log file)."""
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def _log_hint(self) -> str:
        return f"see {self.log_path}" if self.log_path else "run with a log path for details"
