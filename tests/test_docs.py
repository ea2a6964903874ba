"""Every Python example in docs/sdk.md runs, as its own process, against a local chain with a
worker serving the echo and MiniLM models."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from assay import ECHO, MINILM_L6_V2
from assay._deploy import deploy_contracts
from assay.devnet import ANVIL_KEYS, Anvil, free_port
from assay_worker.launcher import WorkerProcess
from eth_account import Account

from .conftest import MARKET_PARAMS

DOC = Path(__file__).resolve().parent.parent / "docs" / "sdk.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    folder = tmp_path_factory.mktemp("docs")
    with Anvil(block_time=1) as chain:
        deploy_contracts(chain.w3, Account.from_key(ANVIL_KEYS[0]), MARKET_PARAMS).save(folder)
        worker = WorkerProcess(
            rpc_url=chain.url,
            key=ANVIL_KEYS[2],
            deployments=folder,
            models=[ECHO.name, MINILM_L6_V2.name],
            results_dir=folder / "results",
            port=free_port(),
            log_path=folder / "worker.log",
        )
        try:
            worker.wait_ready()
            yield os.environ | {
                "ASSAY_RPC_URL": chain.url,
                "ASSAY_PRIVATE_KEY": ANVIL_KEYS[1],
                "ASSAY_DEPLOYMENTS": str(folder),
            }
        finally:
            assert worker.stop() == 0


def test_the_doc_has_examples() -> None:
    assert len(EXAMPLES) == 8


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_doc_example_runs(environment: dict[str, str], index: int) -> None:
    result = subprocess.run(
        [sys.executable, "-c", EXAMPLES[index]], env=environment, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, f"example {index + 1} failed:\n{EXAMPLES[index]}\n{result.stderr}"
