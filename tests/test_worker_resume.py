"""Rounds that do not go to plan: a worker restarted with another set of models lets go of a
journaled job whose model it no longer serves, and a round cut short by an error waits for the
batch it left on the model thread."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from assay import ECHO, MINILM_L6_V2, AssayClient, Deployment, Job, JobPhase, TxPolicy
from assay.devnet import ANVIL_KEYS
from assay_worker.daemon import Worker, WorkerSettings
from assay_worker.journal import Journal
from assay_worker.runtimes import RuntimeSpec, register_runtime
from web3 import Web3


def test_a_resumed_job_whose_model_left_the_config_is_let_go(w3: Web3, deployment: Deployment, tmp_path: Path) -> None:
    requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment)
    job = requester.post_job(ECHO, "left behind", reward=10**15)
    journal_path = tmp_path / "journal.sqlite"
    earlier = Journal(journal_path)  # the worker served ECHO and stopped while running this job
    earlier.record(job.id, "working")
    earlier.close()

    settings = WorkerSettings(
        models=[MINILM_L6_V2.name], results_dir=str(tmp_path / "results"), journal_path=str(journal_path), port=0
    )
    worker = Worker(AssayClient(w3, ANVIL_KEYS[2], deployment=deployment), settings)
    try:
        assert worker.retry == {job.id}
        worker._poll_once()
        entry = worker.journal.get(job.id)
        assert entry is not None and entry.state == "lost"
        assert job.id not in worker.views and not worker.retry
        assert worker.journal.unfinished() == []  # the next start does not resume it again
    finally:
        worker.journal.close()
    assert job.status() == JobPhase.ASSIGNING  # untouched, for the workers that serve its model


class SlowEcho:
    """The input back after a pause, counting the batches running at any moment."""

    def __init__(self, spec: RuntimeSpec) -> None:
        self.manifest = spec.manifest
        self.running = 0
        self.batches = 0

    def load(self) -> None:
        return None

    def unload(self) -> None:
        return None

    def memory_bytes(self) -> int:
        return 0

    def check_input(self, data: bytes) -> str | None:
        return None

    def run(self, inputs: list[bytes]) -> list[bytes]:
        self.running += 1
        time.sleep(0.5)
        self.batches += 1
        self.running -= 1
        return inputs


register_runtime("test-slow-echo", SlowEcho)
SLOW = RuntimeSpec("test-slow-echo", "test/slow-echo", "none", "exact")


def serve(w3: Web3, deployment: Deployment, spec: RuntimeSpec) -> None:
    """Dev account 2 registers, stakes for and serves `spec`'s model."""
    operator = AssayClient(w3, ANVIL_KEYS[2], deployment=deployment)
    operator.register_model(spec.manifest)
    operator.stake(10**18)
    operator.join_model(spec.manifest)


def serve_and_post(w3: Web3, deployment: Deployment, spec: RuntimeSpec, inputs: list[str]) -> list[Job]:
    """`serve`, then dev account 1 posts `inputs` to the model."""
    serve(w3, deployment, spec)
    return AssayClient(w3, ANVIL_KEYS[1], deployment=deployment).post_jobs(spec.manifest, inputs, reward=10**15)


def settings_for(spec: RuntimeSpec, folder: Path, **options: Any) -> WorkerSettings:
    return WorkerSettings(
        models=[spec],
        results_dir=str(folder / "results"),
        journal_path=str(folder / "j.sqlite"),
        port=0,
        **options,
    )


def test_a_failed_submit_waits_for_the_batch_left_on_the_model_thread(
    w3: Web3, deployment: Deployment, tmp_path: Path
) -> None:
    """When a batch's transaction fails beyond the round's handling (here every fee is over the
    worker's cap), the batch already running on the model thread ends before the round does: its
    model must not be unloaded under it, nor its jobs run twice at once."""
    jobs = serve_and_post(w3, deployment, SLOW, ["first", "second"])
    capped = AssayClient(w3, ANVIL_KEYS[2], deployment=deployment, fees=TxPolicy(max_fee_per_gas=1))
    worker = Worker(capped, settings_for(SLOW, tmp_path, batch_size=1))
    runtime = worker.runtimes[SLOW.manifest.model_id]
    assert isinstance(runtime, SlowEcho)
    try:
        worker._poll_once()  # batch 1's submit raises FeeCapExceeded while batch 2 runs
        assert runtime.batches == 2 and runtime.running == 0
        states = [entry.state for entry in (worker.journal.get(job.id) for job in jobs) if entry is not None]
        assert states == ["submitting", "working"]  # nothing sent; both are taken again next round
    finally:
        worker.model_thread.shutdown()
        worker.journal.close()
    assert [job.status() for job in jobs] == [JobPhase.ASSIGNING] * 2


class StuckEcho(SlowEcho):
    """A model engine that hangs (a dead CUDA context, a deadlocked server) for `hang` seconds."""

    hang = 3.0

    def run(self, inputs: list[bytes]) -> list[bytes]:
        time.sleep(self.hang)
        return inputs


register_runtime("test-stuck-echo", StuckEcho)
STUCK = RuntimeSpec("test-stuck-echo", "test/stuck-echo", "none", "exact")


class HangsOnRequest(SlowEcho):
    """Answers at once, except that an input `hang` hangs it for 3 s."""

    def run(self, inputs: list[bytes]) -> list[bytes]:
        if b"hang" in inputs:
            time.sleep(3.0)
        return inputs


register_runtime("test-hangs-on-request", HangsOnRequest)
HANGS = RuntimeSpec("test-hangs-on-request", "test/hangs-on-request", "none", "exact")


def test_a_stuck_batch_left_behind_by_a_failed_submit_wedges_the_worker(
    w3: Web3, deployment: Deployment, tmp_path: Path
) -> None:
    """Batch 1 runs and its submit fails (fees over the cap) while batch 2 hangs on the model
    thread: the round ends with the worker wedged, so no later round queues jobs behind it."""
    serve_and_post(w3, deployment, HANGS, ["fine", "hang"])
    capped = AssayClient(w3, ANVIL_KEYS[2], deployment=deployment, fees=TxPolicy(max_fee_per_gas=1))
    worker = Worker(capped, settings_for(HANGS, tmp_path, batch_size=1, model_timeout=0.5))
    try:
        worker._poll_once()
        assert worker.wedged is not None and "test/hangs-on-request" in worker.wedged
    finally:
        worker.model_thread.shutdown()
        worker.journal.close()


def test_a_wedged_model_lets_its_jobs_go_and_makes_the_worker_unready(
    w3: Web3, deployment: Deployment, tmp_path: Path
) -> None:
    (job,) = serve_and_post(w3, deployment, STUCK, ["never answered"])
    operator = AssayClient(w3, ANVIL_KEYS[2], deployment=deployment)
    worker = Worker(operator, settings_for(STUCK, tmp_path, model_timeout=0.5))
    try:
        worker._poll_once()  # the batch overruns model_timeout: its job is let go, nothing is sent
        entry = worker.journal.get(job.id)
        assert entry is not None and entry.state == "failed"
        readiness = worker.readiness()
        assert readiness is not None and "test/stuck-echo has run one model batch for more than 0.5 s" in readiness
        assert job.status() == JobPhase.ASSIGNING  # untaken: another worker may serve it
    finally:
        worker.model_thread.shutdown()
        worker.journal.close()
