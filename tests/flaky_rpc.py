"""A JSON-RPC proxy in front of anvil that misbehaves like a bad public endpoint: it answers
some requests with HTTP 502, delays some, and forwards some but drops the answer (so a
transaction may land while its sender sees only an error). Seeded, so runs are repeatable."""

from __future__ import annotations

import random
import threading
import time

import httpx

from .local_http import QuietHandler, local_server


class FlakyRpc:
    def __init__(self, upstream: str, *, fail: float, delay: float, drop: float, seed: int = 7) -> None:
        self.upstream = upstream
        self.rates = (fail, delay, drop)
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.counts = {"forwarded": 0, "failed": 0, "delayed": 0, "dropped": 0}
        proxy = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with proxy.lock:
                    roll = proxy.random.random()
                fail, delay, drop = proxy.rates
                if roll < fail:
                    proxy.count("failed")
                    self.send_error(502, "bad gateway")
                    return
                if roll < fail + delay:
                    proxy.count("delayed")
                    time.sleep(0.5)
                answer = httpx.post(proxy.upstream, content=body, headers={"Content-Type": "application/json"})
                if roll >= 1 - drop:
                    proxy.count("dropped")  # the upstream acted on it; the caller never hears back
                    self.close_connection = True
                    return
                proxy.count("forwarded")
                self.send_json(answer.content)

        self.server, self.url = local_server(Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def __enter__(self) -> FlakyRpc:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
