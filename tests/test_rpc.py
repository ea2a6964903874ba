"""`assay._rpc` against a real anvil and a real forward proxy: the HTTP provider still honours
the environment's proxy settings it now reads once, asks the chain id once, and raw requests
answer as web3 would for null results and JSON-RPC errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from assay._rpc import http_provider, raw_request
from assay.devnet import Anvil
from web3 import Web3
from web3.exceptions import Web3RPCError

from .local_http import QuietHandler, local_server

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


class ForwardProxy:
    """An HTTP forward proxy that answers every JSON-RPC request itself (chain id 31337) and
    records the absolute URLs it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        proxy = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                proxy.asked.append(self.path)  # a proxy is sent the whole URL
                self.send_json(json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x7a69"}).encode())

        self.server, self.url = local_server(Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    forward = ForwardProxy()
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", forward.url)
    try:
        yield forward
    finally:
        forward.server.shutdown()
        forward.server.server_close()


def test_the_environments_proxy_is_used_and_the_chain_id_asked_once(proxy: ForwardProxy) -> None:
    w3 = Web3(http_provider("http://rpc.example.invalid:8545", timeout=5))
    assert [w3.eth.chain_id for _ in range(4)] == [31337] * 4
    assert proxy.asked == ["http://rpc.example.invalid:8545/"]


def test_no_proxy_still_exempts_a_host(proxy: ForwardProxy, anvil: Anvil, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    w3 = Web3(http_provider(anvil.url, timeout=5))
    assert w3.eth.block_number >= 0
    assert proxy.asked == []


def test_raw_requests_answer_like_web3_for_null_results_and_errors(anvil: Anvil) -> None:
    w3 = Web3(http_provider(anvil.url, timeout=5))
    assert raw_request(w3, "eth_getTransactionReceipt", ["0x" + "00" * 32]) is None
    assert raw_request(w3, "eth_blockNumber", []) == hex(w3.eth.block_number)
    with pytest.raises(Web3RPCError, match="Method not found"):
        raw_request(w3, "eth_noSuchMethod", [])
