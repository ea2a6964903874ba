"""Text generation by any server that speaks the OpenAI completions API: vLLM, llama.cpp's
`llama-server`, Ollama, or a hosted endpoint.

Input: the same bytes as `hf-textgen` (see `_generation`). Greedy requests are sent with
`temperature: 0`; sampled ones with the job's `seed` and `temperature`. Output: canonical JSON
`{"finish_reason": ..., "model": name, "text": completion}` (the API returns no token ids).

The weights live on the server, so the runtime can check the manifest's digest only when
`spec.path` points at the files the server loads (the usual case for a vLLM or llama.cpp
server beside the worker); without it, `load()` checks only that the server lists the model,
and it is the verifiers' re-execution that catches a swapped model."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from ._base import (
    BackendError,
    BackendProtocolError,
    BackendStatusError,
    BackendTimeout,
    RuntimeLoadError,
    canonical,
    check_weights,
    not_loaded,
)
from ._generation import GenerationRequest, parse_request
from .spec import RuntimeSpec

OPTIONS: dict[str, Any] = {
    "api_model": "",  # the server's name for the model; default: the manifest name
    "endpoint": "completions",  # or "chat" (POST /v1/chat/completions, the prompt as one user message)
    "api_key_env": "",  # name of the environment variable holding a bearer token, if the server wants one
    "timeout": 120.0,  # seconds per request
    "attempts": 3,  # tries per request on connection errors, timeouts, 429 and 5xx
    "backoff": 0.5,  # seconds before the first retry, doubling after each (or the server's Retry-After)
    "max_retry_after": 30.0,  # most seconds a server's Retry-After may make us wait; longer: give up at once
    "concurrency": 8,  # requests in flight per batch, so the server can batch them itself
    "default_max_new_tokens": 32,
    "max_new_tokens_limit": 256,
}
_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


class OpenAIHTTPRuntime:
    """A model served over HTTP at `spec.base_url` (without the `/v1` suffix)."""

    def __init__(self, spec: RuntimeSpec) -> None:
        if not spec.base_url:
            raise RuntimeLoadError(f"{spec.name}: an openai-http model needs a 'base_url'")
        self.manifest = spec.manifest
        self.base_url = spec.base_url.rstrip("/")
        self.path = spec.path
        self.settings = spec.settings(OPTIONS)
        if self.settings["endpoint"] not in ("completions", "chat"):
            raise RuntimeLoadError(f"{spec.name}: 'endpoint' must be 'completions' or 'chat'")
        self.api_model = self.settings["api_model"] or spec.name
        self._client: httpx.Client | None = None

    def load(self) -> None:
        if self.path is not None:
            check_weights(self.manifest, self.path)
        headers = {}
        if self.settings["api_key_env"]:
            headers["Authorization"] = f"Bearer {os.environ.get(self.settings['api_key_env'], '')}"
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.settings["timeout"])
        try:
            listing = self._call("GET", "/v1/models")
            served = {entry["id"] for entry in listing["data"]}
        except BackendError as exc:
            self.close()
            raise RuntimeLoadError(f"{self.manifest.name}: the server at {self.base_url} failed: {exc}") from exc
        except (KeyError, TypeError) as exc:
            self.close()
            raise RuntimeLoadError(f"{self.manifest.name}: {self.base_url}/v1/models is not a model list") from exc
        if self.api_model not in served:
            self.close()
            raise RuntimeLoadError(
                f"the server at {self.base_url} does not serve {self.api_model!r}; it serves {sorted(served)}"
            )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _request(self, data: bytes) -> GenerationRequest:
        return parse_request(data, self.settings["default_max_new_tokens"], self.settings["max_new_tokens_limit"])

    def unload(self) -> None:
        self.close()

    def memory_bytes(self) -> int:
        return 0  # the model lives in the server's memory, not ours

    def check_input(self, data: bytes) -> str | None:
        try:
            self._request(data)
        except ValueError as exc:
            return str(exc)
        return None

    def run(self, inputs: list[bytes]) -> list[bytes]:
        if self._client is None:
            raise not_loaded(self.manifest)
        requests = [self._request(data) for data in inputs]
        with ThreadPoolExecutor(max_workers=max(1, min(len(requests), self.settings["concurrency"]))) as pool:
            return list(pool.map(self._generate, requests))

    def _generate(self, request: GenerationRequest) -> bytes:
        body: dict[str, Any] = {
            "model": self.api_model,
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature if request.sampled else 0.0,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        chat = self.settings["endpoint"] == "chat"
        if chat:
            body["messages"] = [{"role": "user", "content": request.prompt}]
        else:
            body["prompt"] = request.prompt
        answer = self._call("POST", "/v1/chat/completions" if chat else "/v1/completions", body)
        try:
            choice = answer["choices"][0]
            text = choice["message"]["content"] if chat else choice["text"]
            reason = choice.get("finish_reason")
        except (KeyError, IndexError, TypeError) as exc:
            raise BackendProtocolError(f"{self.base_url}: no choices[0] text in {answer!r:.300}") from exc
        if not isinstance(text, str):
            raise BackendProtocolError(f"{self.base_url}: the completion text is {type(text).__name__}, not a string")
        return canonical({"model": self.manifest.name, "text": text, "finish_reason": reason})

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The JSON answer to one request, retried on transient failures."""
        backoff = wait_exponential(multiplier=self.settings["backoff"])

        def wait(state: RetryCallState) -> float:
            failure = state.outcome.exception() if state.outcome else None
            asked = failure.retry_after if isinstance(failure, BackendStatusError) else None
            return backoff(state) if asked is None else asked

        retrying = Retrying(
            stop=stop_after_attempt(self.settings["attempts"]),
            wait=wait,
            retry=retry_if_exception(lambda exc: _transient(exc, self.settings["max_retry_after"])),
            reraise=True,
        )
        url = self.base_url + path
        try:
            return retrying(self._call_once, method, path, body)
        except httpx.TimeoutException as exc:
            raise BackendTimeout(f"{url} did not answer within {self.settings['timeout']} s ({exc!r})") from exc
        except httpx.TransportError as exc:
            raise BackendError(f"cannot reach {url}: {exc!r}") from exc

    def _call_once(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        assert self._client is not None
        response = self._client.request(method, path, json=body)
        if response.status_code >= 400:
            retry_after = _seconds(response.headers.get("retry-after"))
            raise BackendStatusError(str(response.url), response.status_code, response.text, retry_after)
        try:
            return response.json()
        except ValueError as exc:
            raise BackendProtocolError(f"{response.url} answered with non-JSON: {response.text[:300]!r}") from exc


def _transient(exc: BaseException, max_retry_after: float) -> bool:
    """Worth another try: a transport error, or a status that passes, unless the server asked
    for a longer pause than we wait (the batch then fails now and its jobs are let go)."""
    if isinstance(exc, BackendStatusError):
        return exc.status in _TRANSIENT_STATUS and (exc.retry_after or 0) <= max_retry_after
    return isinstance(exc, httpx.TransportError)


def _seconds(retry_after: str | None) -> float | None:
    """A `Retry-After` header (seconds, or an HTTP date) as seconds from now; None when absent or unreadable."""
    if not retry_after:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
