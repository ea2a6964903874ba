"""The worker's HTTP API: health and the result payloads it publishes."""

from __future__ import annotations

import re
import socket
import threading
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Response

from .results import ResultStore

_HASH = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def create_app(store: ResultStore, health: Any) -> FastAPI:
    """`health()` returns the dict served at /health; it must only read state."""
    app = FastAPI(title="Assay worker", docs_url=None, redoc_url=None)

    @app.get("/health")
    def get_health() -> Any:
        return health()

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
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
