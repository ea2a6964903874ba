"""A local anvil chain for demos and tests, with anvil's well-known development accounts.

These keys are public (anvil prints them at start); they are for chain 31337 only and are
refused elsewhere by `dev_key`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from types import TracebackType

from web3 import Web3

from ._deployments import LOCAL_CHAIN_ID
from ._errors import ConfigError

ANVIL_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)
"""Private keys of anvil's first accounts (mnemonic "test test ... junk"), 10,000 ETH each."""


def dev_key(index: int, chain_id: int) -> str:
    """Anvil development key `index`, only for the local chain id."""
    if chain_id != LOCAL_CHAIN_ID:
        raise ConfigError(f"development keys are for local chain {LOCAL_CHAIN_ID} only, not chain {chain_id}")
    if not 0 <= index < len(ANVIL_KEYS):
        raise ConfigError(f"development accounts are numbered 0..{len(ANVIL_KEYS) - 1}, not {index}")
    return ANVIL_KEYS[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Anvil:
    """An anvil process on a free local port; a context manager that always stops it.

    >>> with Anvil() as chain:           # doctest: +SKIP
    ...     print(chain.w3.eth.block_number)
    """

    def __init__(
        self,
        port: int | None = None,
        block_time: float | None = None,
        *,
        detach: bool = False,
        log_path: str | os.PathLike[str] | None = None,
        state: str | os.PathLike[str] | None = None,
    ) -> None:
        """`detach` starts anvil in its own session, so it outlives this process (`assay devnet up`).
        `state` is a file anvil loads its chain from at start (when it exists) and dumps it to when
        stopped, so a chain survives a restart."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.block_time = block_time
        self.detach = detach
        self.log_path = log_path
        self.state = state
        self.process: subprocess.Popen[bytes] | None = None
        self.w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 30}))

    def start(self, timeout: float = 30.0) -> Anvil:
        binary = shutil.which("anvil")
        if binary is None:
            raise ConfigError("anvil not found on PATH; run scripts/setup.sh or install foundry")
        command = [binary, "--port", str(self.port), "--silent", "--chain-id", str(LOCAL_CHAIN_ID)]
        if self.block_time:
            command += ["--block-time", str(self.block_time)]
        if self.state is not None:
            command += ["--state", str(self.state)]
        with open(self.log_path or os.devnull, "ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=self.detach
            )
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None:
                raise ConfigError(f"anvil exited with code {self.process.returncode} on port {self.port}")
            if time.monotonic() > deadline:
                self.stop()
                raise ConfigError(f"anvil did not answer on {self.url} within {timeout:.0f} s")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        try:
            return self.w3.is_connected()
        except Exception:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def stop_process(pid: int, timeout: float = 10.0) -> bool:
    """SIGTERM `pid` and wait for it to go; False when it was not running."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True
