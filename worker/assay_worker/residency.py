"""Which models are in (GPU) memory. A rig serving more models than fit at once keeps a memory
budget: a batch whose model is not loaded first unloads the least recently used models until it
fits. A model's size is what was measured once it was loaded (torch's allocated CUDA memory
around the load when a GPU is present, else what the runtime reports holding); before its first
load, what its manifest says (`memory_mb`), else nothing, and it is measured then."""

from __future__ import annotations

import gc
import logging
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from .runtimes import Runtime, RuntimeLoadError

log = logging.getLogger("assay.worker")

MB = 1 << 20
RETRY_LOAD_AFTER = 60.0
"""Seconds a model that failed to load is left alone: retrying it every round would unload the
other models again and again for nothing."""


class Residency:
    """Loads `runtimes` (by model id) within `budget_mb` (None: no limit, everything stays
    loaded); `on_load(name, seconds)` hears every load."""

    def __init__(
        self,
        runtimes: Mapping[bytes, Runtime],
        budget_mb: float | None,
        declared_mb: Mapping[bytes, float],
        on_load: Callable[[str, float], None],
    ) -> None:
        self.runtimes = runtimes
        self.budget = None if budget_mb is None else budget_mb * MB
        self.size = {model_id: declared_mb.get(model_id, 0.0) * MB for model_id in runtimes}
        self.on_load = on_load
        self.loaded: OrderedDict[bytes, Runtime] = OrderedDict()  # least recently used first
        self.evictions = 0
        self._failed_until: dict[bytes, float] = {}
        if self.budget is not None:
            too_big = [r.manifest.name for m, r in runtimes.items() if self.size[m] > self.budget]
            if too_big:
                raise RuntimeLoadError(f"declared larger than the memory budget of {budget_mb} MB: {too_big}")

    def preload(self) -> None:
        """Load the models in configuration order while they fit (all of them without a budget)."""
        for model_id in self.runtimes:
            if self.budget is None or self._used() + self.size[model_id] <= self.budget:
                self.acquire(model_id)

    def is_loaded(self, model_id: bytes) -> bool:
        return model_id in self.loaded

    def acquire(self, model_id: bytes) -> Runtime:
        """The model's runtime, loaded: it becomes the most recently used."""
        runtime = self.loaded.get(model_id)
        if runtime is not None:
            self.loaded.move_to_end(model_id)
            return runtime
        runtime = self.runtimes[model_id]
        name = runtime.manifest.name
        if time.monotonic() < self._failed_until.get(model_id, 0.0):
            raise RuntimeLoadError(f"{name} failed to load recently; retrying after {RETRY_LOAD_AFTER:.0f} s")
        self._make_room(self.size[model_id], keep=model_id)
        before = _cuda_allocated()
        started = time.monotonic()
        try:
            runtime.load()
        except Exception as exc:  # out of memory, missing weights, a framework error: all alike here
            runtime.unload()  # whatever part of it was loaded
            gc.collect()
            _empty_cuda_cache()
            self._failed_until[model_id] = time.monotonic() + RETRY_LOAD_AFTER
            if isinstance(exc, RuntimeLoadError):
                raise
            raise RuntimeLoadError(f"cannot load {name}: {exc!r}") from exc
        seconds = time.monotonic() - started
        measured = max(float(runtime.memory_bytes()), float(_cuda_allocated() - before))
        self.size[model_id] = measured
        self.loaded[model_id] = runtime
        self.on_load(name, seconds)
        log.info("loaded %s in %.1f s (%.0f MB)", name, seconds, measured / MB)
        self._make_room(0.0, keep=model_id)  # it may have turned out larger than declared
        return runtime

    def footprints_mb(self) -> dict[str, float]:
        """Each loaded model's measured size, by name."""
        resident = list(self.loaded.items())  # a snapshot: the API thread reads while rounds reorder
        return {runtime.manifest.name: self.size[model_id] / MB for model_id, runtime in resident}

    def _used(self) -> float:
        return sum(self.size[model_id] for model_id in self.loaded)

    def _make_room(self, needed: float, keep: bytes) -> None:
        if self.budget is None:
            return
        for model_id in list(self.loaded):
            if self._used() + needed <= self.budget:
                return
            if model_id == keep or not self.size[model_id]:
                continue  # unloading a model that holds nothing frees nothing
            runtime = self.loaded.pop(model_id)
            runtime.unload()
            gc.collect()  # the weights are only freed once nothing refers to them
            _empty_cuda_cache()
            self.evictions += 1
            log.info("unloaded %s to make room (memory budget %.0f MB)", runtime.manifest.name, self.budget / MB)


def _cuda_allocated() -> int:
    """Bytes torch holds on the GPU now; 0 without torch (never imported here) or without CUDA."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return 0
    return int(torch.cuda.memory_allocated())


def _empty_cuda_cache() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
