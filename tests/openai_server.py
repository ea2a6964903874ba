"""A small OpenAI-compatible server for tests: `/v1/models`, `/v1/completions` and
`/v1/chat/completions`, answering with a local runtime, on a free port in a thread.

`fail_next` makes the next requests answer `fail_status` (500), with `Retry-After: retry_after`
when set; `delay` makes completions answer late; `completion_times` records when each came."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import uvicorn
from assay.devnet import free_port
from assay_worker.runtimes import Runtime
from fastapi import FastAPI, HTTPException


class OpenAIServer:
    """Serves `runtime` as the model `model_name`; a context manager that always stops it."""

    def __init__(self, runtime: Runtime, model_name: str) -> None:
        self.runtime = runtime
        self.model_name = model_name
        self.fail_next = 0
        self.fail_status = 500
        self.retry_after: str | None = None
        self.completion_times: list[float] = []  # time.monotonic() of each completion request
        self.delay = 0.0
        self.completions = 0  # completion requests received, failed ones included
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()  # the runtime serves one batch at a time
        config = uvicorn.Config(self._app(), port=self.port, log_level="warning", lifespan="off", ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": self.model_name, "object": "model"}]}

        @app.post("/v1/completions")
        def completions(body: dict[str, Any]) -> dict[str, Any]:
            text, reason = self._complete(body, body["prompt"])
            return {"object": "text_completion", "choices": [{"index": 0, "text": text, "finish_reason": reason}]}

        @app.post("/v1/chat/completions")
        def chat(body: dict[str, Any]) -> dict[str, Any]:
            text, reason = self._complete(body, body["messages"][-1]["content"])
            message = {"role": "assistant", "content": text}
            return {"object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": reason}]}

        return app

    def _complete(self, body: dict[str, Any], prompt: str) -> tuple[str, str]:
        with self._lock:
            self.completions += 1
            self.completion_times.append(time.monotonic())
            failing = self.fail_next > 0
            self.fail_next -= failing
        if failing:
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else None
            raise HTTPException(status_code=self.fail_status, detail="injected failure", headers=headers)
        time.sleep(self.delay)
        request: dict[str, Any] = {"prompt": prompt, "max_new_tokens": body["max_tokens"]}
        if body.get("temperature", 0) > 0:
            request.update(seed=body["seed"], temperature=body["temperature"])
        with self._lock:
            (result,) = self.runtime.run([json.dumps(request).encode()])
        answer = json.loads(result)
        return answer["text"], answer["finish_reason"]

    def __enter__(self) -> OpenAIServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the test server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
