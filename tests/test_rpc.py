"""`assay._rpc` against a real anvil and a real forward proxy: the HTTP provider still honours
the environment's proxy settings it now reads once, asks the chain id once, and raw requests
answer as web3 would for null results and JSON-RPC errors."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from assay import ConfigError
from assay._rpc import http_provider, raw_request
from assay._txmanager import is_transient
from assay.devnet import Anvil
from web3 import HTTPProvider, Web3
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


class Answering:
    """A local JSON-RPC endpoint that answers every request with `status` (and a JSON-RPC error
    body), or first sleeps `delay` seconds; it records each request's Authorization header."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.authorizations: list[str | None] = []
        endpoint = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.authorizations.append(self.headers.get("Authorization"))
                time.sleep(delay)
                body = {"jsonrpc": "2.0", "id": 0, "result": "0x7a69"}
                if status != 200:
                    body = {"jsonrpc": "2.0", "id": 0, "error": {"code": -32005, "message": "slow down"}}
                self.send_json(json.dumps(body).encode(), status)

        self.server, self.url = local_server(Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status", [429, 503])
def test_an_error_status_raises_requests_http_error_with_its_status(status: int) -> None:
    """The urllib3 transport fails as web3's requests session did, so retries classify it the same."""
    endpoint = Answering(status)
    try:
        w3 = Web3(http_provider(endpoint.url, timeout=5))
        with pytest.raises(requests.HTTPError) as raised:
            w3.eth.get_block_number()
        assert raised.value.response is not None and raised.value.response.status_code == status
        assert is_transient(raised.value)
    finally:
        endpoint.close()


def test_a_refused_connection_and_a_timeout_raise_requests_errors() -> None:
    server, url = local_server(QuietHandler)
    server.server_close()  # nothing listens there now
    with pytest.raises(requests.ConnectionError) as refused:
        Web3(http_provider(url, timeout=5)).eth.get_block_number()
    assert isinstance(refused.value, OSError) and is_transient(refused.value)
    slow = Answering(delay=1.0)
    try:
        with pytest.raises(requests.Timeout) as timed_out:
            Web3(http_provider(slow.url, timeout=0.2)).eth.get_block_number()
        assert isinstance(timed_out.value, OSError) and is_transient(timed_out.value)
    finally:
        slow.close()


def test_credentials_in_the_url_or_netrc_are_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = Answering()
    try:
        host_port = endpoint.url.removeprefix("http://")
        assert Web3(http_provider(f"http://alice:s3cret@{host_port}", timeout=5)).eth.block_number == 31337
        netrc = tmp_path / ".netrc"
        netrc.write_text("machine 127.0.0.1 login bob password hunter2\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        assert Web3(http_provider(endpoint.url, timeout=5)).eth.block_number == 31337
        assert Web3(HTTPProvider(endpoint.url)).eth.block_number == 31337  # requests itself, for comparison
    finally:
        endpoint.close()
    alice = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    bob = "Basic " + base64.b64encode(b"bob:hunter2").decode()
    assert endpoint.authorizations == [alice, bob, bob]


def test_a_bare_proxy_address_is_http_and_url_credentials_stay_out_of_the_request_line(
    proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url.removeprefix("http://"))  # host:port, as requests allows
    w3 = Web3(http_provider("http://alice:s3cret@rpc.example.invalid:8545?key=abc", timeout=5))
    assert w3.eth.chain_id == 31337
    assert proxy.asked == ["http://rpc.example.invalid:8545/?key=abc"]


class Redirecting:
    """Answers POST / with a redirect of `status` to `target`, and POST /rpc with a chain id."""

    def __init__(self, status: int, target: str = "/rpc") -> None:
        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/":
                    self.send_response(status)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_json(json.dumps({"jsonrpc": "2.0", "id": 0, "result": "0x7a69"}).encode())

        self.server, self.url = local_server(Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.parametrize("status", [307, 308, 302])
def test_a_redirect_keeping_the_post_is_followed_and_any_other_refused(status: int) -> None:
    endpoint = Redirecting(status)
    try:
        w3 = Web3(http_provider(endpoint.url, timeout=5))
        if status == 302:  # requests would re-send it as a GET, which no JSON-RPC node answers
            with pytest.raises(requests.HTTPError, match="302 redirect to /rpc"):
                w3.eth.get_block_number()
        else:
            assert w3.eth.block_number == 31337
    finally:
        endpoint.server.shutdown()
        endpoint.server.server_close()


def test_a_proxy_address_urllib3_cannot_read_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "localhost:3128")  # read as the scheme "localhost"
    with pytest.raises(ConfigError, match="write it as http://host:port"):
        http_provider("http://rpc.example.invalid:8545", timeout=5)


def test_a_redirect_loop_ends_in_too_many_redirects() -> None:
    endpoint = Redirecting(307, target="/")
    try:
        with pytest.raises(requests.TooManyRedirects, match="more than 5 redirects"):
            Web3(http_provider(endpoint.url, timeout=5)).eth.get_block_number()
    finally:
        endpoint.server.shutdown()
        endpoint.server.server_close()
