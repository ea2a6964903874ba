"""A manifest may say how much (GPU) memory its model needs (`memory_mb`): it is part of the
manifest document and so of the model id (a manifest without it keeps its old id), it survives
registration on chain, and a worker budgets with it before it has measured the model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from assay import ECHO, AssayClient, Deployment
from assay._models import manifest_from_document
from assay.devnet import ANVIL_KEYS
from assay_worker.daemon import Worker, WorkerSettings
from assay_worker.runtimes import RuntimeLoadError, RuntimeSpec
from web3 import Web3

SIZED = replace(ECHO, name="test/sized-echo", memory_mb=1_500)


def test_memory_is_part_of_the_document_only_when_set() -> None:
    document = json.loads(SIZED.canonical_json())
    assert document["memory_mb"] == 1_500 and list(document) == sorted(document)
    assert replace(SIZED, memory_mb=1_501).model_id != SIZED.model_id
    assert b"memory_mb" not in ECHO.canonical_json()  # unchanged for manifests without it
    assert manifest_from_document(SIZED.canonical_json(), SIZED.audit_bps, SIZED.min_collateral) == SIZED


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "1500"])
def test_memory_must_be_a_positive_whole_number(bad: object) -> None:
    with pytest.raises(ValueError, match="memory_mb must be a positive whole number"):
        replace(ECHO, memory_mb=bad)


def test_registered_manifest_carries_its_memory(w3: Web3, deployment: Deployment) -> None:
    client = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment)
    assert client.register_model(SIZED) == SIZED.model_id
    registered = {model.model_id: model for model in client.registered_models()}
    manifest = registered[SIZED.model_id].manifest
    assert manifest is not None and manifest.memory_mb == 1_500


def test_worker_refuses_a_model_whose_manifest_exceeds_its_memory_budget(
    w3: Web3, deployment: Deployment, tmp_path: Path
) -> None:
    spec = RuntimeSpec(
        "hf-textgen", "test/too-big", "sha256:00", "llm-greedy", path=tmp_path / "weights", memory_mb=2_000
    )
    assert spec.manifest.memory_mb == 2_000
    settings = WorkerSettings(
        models=[ECHO.name, spec],
        results_dir=str(tmp_path / "results"),
        journal_path=str(tmp_path / "journal.sqlite"),
        memory_budget_mb=1_000,
    )
    client = AssayClient(w3, ANVIL_KEYS[2], deployment=deployment)
    with pytest.raises(RuntimeLoadError, match=r"larger than the memory budget of 1000 MB: \['test/too-big'\]"):
        Worker(client, settings)
