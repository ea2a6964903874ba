"""Prometheus metrics for a worker, read from its live counters at scrape time (one source of truth)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .daemon import Worker


class WorkerCollector(Collector):
    """Jobs by outcome, earnings, gas, RPC errors, model load times, scan progress; labelled by
    chain and worker address."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def collect(self) -> Iterator[Metric]:
        worker, counters = self.worker, self.worker.counters
        labels = ["chain_id", "address"]
        values = [str(worker.client.deployment.chain_id), worker.client.address]

        jobs = CounterMetricFamily("assay_worker_jobs", "Jobs by what happened to them", labels=[*labels, "outcome"])
        for outcome, count in (
            ("submitted", counters.completed),
            ("settled", counters.settled),
            ("refused", counters.refused),
            ("failed", counters.failed),
            ("resumed", counters.resumed),
        ):
            jobs.add_metric([*values, outcome], count)
        yield jobs
        yield _counter("assay_worker_earned_wei", "Payouts credited to the worker", labels, values, counters.earned_wei)
        yield _counter("assay_worker_gas_spent_wei", "Wei spent on gas", labels, values, counters.gas_spent_wei)
        yield _counter("assay_worker_rpc_errors", "RPC calls that failed", labels, values, counters.rpc_errors)
        yield _counter("assay_worker_batches", "Model batches run", labels, values, counters.batches)
        yield _counter("assay_worker_batched_jobs", "Jobs run in model batches", labels, values, counters.batched_jobs)
        yield _counter("assay_worker_model_seconds", "Time spent in model runs", labels, values, counters.model_seconds)
        yield _counter("assay_worker_model_loads", "Model loads", labels, values, counters.model_loads)
        yield _counter(
            "assay_worker_model_evictions", "Models unloaded for memory", labels, values, worker.residency.evictions
        )
        resident = GaugeMetricFamily("assay_worker_model_memory_mb", "Loaded models' memory", labels=[*labels, "model"])
        for model, megabytes in worker.residency.footprints_mb().items():
            resident.add_metric([*values, model], megabytes)
        yield resident
        pushed = worker.heads.heads if worker.heads is not None else 0
        yield _counter("assay_worker_pushed_blocks", "New blocks announced over the websocket", labels, values, pushed)
        awaiting = GaugeMetricFamily("assay_worker_active_jobs", "Jobs in flight (slot held or sought)", labels=labels)
        awaiting.add_metric(values, len(worker.views))
        yield awaiting
        queue = GaugeMetricFamily(
            "assay_worker_queue_depth",
            "Jobs waiting to run, by model (at the end of the last round)",
            labels=[*labels, "model"],
        )
        for model, count in worker.queue_depth.items():
            queue.add_metric([*values, model], count)
        yield queue
        idle = GaugeMetricFamily(
            "assay_worker_idle",
            "1 with the reason the worker is idle (no_gas, low_stake, no_jobs); 0 with reason none while it works",
            labels=[*labels, "reason"],
        )
        idle.add_metric([*values, worker.idle.code if worker.idle else "none"], 1 if worker.idle else 0)
        yield idle
        block = GaugeMetricFamily("assay_worker_last_scanned_block", "Last block whose logs were read", labels=labels)
        block.add_metric(values, worker.cursor - 1)
        yield block
        load = GaugeMetricFamily(
            "assay_worker_model_load_seconds", "Time to load each model", labels=[*labels, "model"]
        )
        for model, seconds in counters.model_load_seconds.items():
            load.add_metric([*values, model], seconds)
        yield load


def _counter(name: str, documentation: str, labels: list[str], values: list[str], value: float) -> Metric:
    family = CounterMetricFamily(name, documentation, labels=labels)
    family.add_metric(values, value)
    return family


def metrics_text(worker: Worker) -> bytes:
    """The Prometheus text exposition of `worker`'s metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkerCollector(worker))
    return generate_latest(registry)
