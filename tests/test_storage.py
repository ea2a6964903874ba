"""Payload fetching against real local HTTP servers: hashes, size limits and hostile URIs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from assay import PayloadTooLarge, ResultMismatch, StorageError, UnsafeURI, content_hash, fetch_payload
from assay.devnet import free_port

PAYLOAD = b'{"embedding":[0.1,0.2]}'
LIMIT = 1_000


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/blob":
            self._send(200, PAYLOAD)
        elif parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/big":
            self._send(200, b"x" * (LIMIT + 1))
        elif parts.path == "/big-chunked":  # no Content-Length: the limit must hold while streaming
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(5):
                self.wfile.write(b"12c\r\n" + b"y" * 300 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._send(404, b"no")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_returns_payload_matching_its_hash(server: str) -> None:
    assert fetch_payload(f"http://{server}/blob", content_hash(PAYLOAD), allow_private=True) == PAYLOAD


def test_fetch_rejects_payload_with_other_hash(server: str) -> None:
    with pytest.raises(ResultMismatch, match="is on chain"):
        fetch_payload(f"http://{server}/blob", content_hash(b"something else"), allow_private=True)


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_fetch_stops_at_size_limit(server: str, path: str) -> None:
    with pytest.raises(PayloadTooLarge):
        fetch_payload(f"http://{server}{path}", content_hash(b""), max_bytes=LIMIT, allow_private=True)


def test_fetch_reports_http_errors_and_unreachable_hosts(server: str) -> None:
    with pytest.raises(StorageError, match="HTTP 404"):
        fetch_payload(f"http://{server}/missing", content_hash(PAYLOAD), allow_private=True)
    with pytest.raises(StorageError, match="cannot fetch"):
        fetch_payload(f"http://127.0.0.1:{free_port()}/blob", content_hash(PAYLOAD), allow_private=True, timeout=2)


@pytest.mark.parametrize(
    "uri",
    [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "gopher://127.0.0.1:70/x",
        "http:///no-host",
        "http://127.0.0.1/blob",
        "http://localhost/blob",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/blob",
        "http://192.168.1.1/blob",
        "http://0.0.0.0/blob",
        "http://[::1]/blob",
        "http://[::ffff:127.0.0.1]/blob",
        "http://[fe80::1]/blob",
        "http://2130706433/blob",  # 127.0.0.1 as a decimal integer
    ],
)
def test_fetch_refuses_hostile_uris(uri: str) -> None:
    with pytest.raises(UnsafeURI, match="refusing"):
        fetch_payload(uri, content_hash(PAYLOAD))


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/blob"])
def test_redirects_are_checked_at_every_hop(server: str, target: str) -> None:
    # the first host is explicitly trusted; where it redirects to is not
    with pytest.raises(UnsafeURI, match="refusing"):
        fetch_payload(f"http://{server}/redirect?to={target}", content_hash(PAYLOAD), trusted_hosts={server})


def test_redirects_to_allowed_targets_are_followed_a_few_times(server: str) -> None:
    hop = f"http://{server}/redirect?to=/blob"
    assert fetch_payload(hop, content_hash(PAYLOAD), trusted_hosts={server}) == PAYLOAD
    with pytest.raises(StorageError, match="more than 3 redirects"):
        fetch_payload(f"http://{server}/loop", content_hash(PAYLOAD), trusted_hosts={server})
