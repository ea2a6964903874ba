"""The worker's HTTP API: result payloads, health, and (for a running worker) metrics, recent
jobs and an HTML status page."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI, HTTPException, Response
from fastapi.responses import HTMLResponse

from . import status_page
from .results import ResultStore

_HASH = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


class WorkerView(Protocol):
    """What the API may read of a running worker; every method only reads state."""

    def metrics(self) -> bytes: ...

    def recent_jobs(self) -> list[dict[str, Any]]: ...

    def readiness(self) -> str | None:
        """Why the worker is not ready to take jobs, or None when it is."""


def create_app(store: ResultStore, health: Callable[[], dict[str, Any]], view: WorkerView | None = None) -> FastAPI:
    """Serve results from `store` and `health()` at /health; with `view` also /ready (503 until
    the worker has caught up with the chain, and while it stops), /metrics, /jobs and /."""
    app = FastAPI(title="Assay worker", docs_url=None, redoc_url=None)

    @app.get("/health")
    def get_health() -> Any:
        return health()

    if view is not None:

        @app.get("/metrics")
        def get_metrics() -> Response:
            return Response(view.metrics(), media_type="text/plain; version=0.0.4")

        @app.get("/ready")
        def get_ready() -> Response:
            problem = view.readiness()
            if problem is None:
                return Response('{"ready":true}', media_type="application/json")
            return Response(json.dumps({"ready": False, "reason": problem}), 503, media_type="application/json")

        @app.get("/jobs")
        def get_jobs() -> Any:
            return view.recent_jobs()

        @app.get("/", response_class=HTMLResponse)
        def get_status_page() -> str:
            return status_page.render(health(), view.recent_jobs())

    @app.get("/results/{digest}")
    def get_result(digest: str) -> Response:
        if not _HASH.match(digest):
            raise HTTPException(status_code=400, detail="a result is named by its 32-byte keccak256 in hex")
        payload = store.get(bytes.fromhex(digest.removeprefix("0x")))
        if payload is None:
            raise HTTPException(status_code=404, detail="no such result")
        return Response(payload, media_type="application/octet-stream")

    return app


class ApiServer:
    """Runs the app with uvicorn in a background thread on an already bound socket."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self._socket = socket.create_server((host, port))
        self.port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True, name="worker-api"
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._socket.close()
