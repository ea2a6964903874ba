"""Storage backends and payload fetching against real local HTTP servers: hashes, size limits
and hostile URIs through every fetch path. IPFS is tested against `KuboStandIn`, a small real
HTTP server speaking the two kubo RPC endpoints the backend uses (kubo itself is not installable
here), not a mock of our own code."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from assay import (
    ConfigError,
    PayloadTooLarge,
    ResultMismatch,
    StorageError,
    UnsafeURI,
    content_hash,
    fetch_payload,
)
from assay.devnet import ANVIL_KEYS, free_port
from assay.storage import (
    GatewayStorage,
    InlineStorage,
    IpfsStorage,
    LocalStorage,
    Storage,
    fetch,
    storage_from_uri,
)
from eth_account import Account

PAYLOAD = b'{"embedding":[0.1,0.2]}'
LIMIT = 1_000


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/blob":
            self._send(200, PAYLOAD)
        elif parts.path.endswith("/redirect"):  # also /blobs/redirect, as a gateway blob would be
            self._redirect(parse_qs(parts.query)["to"][0])
        elif parts.path == "/loop":
            self._redirect("/loop")
        elif parts.path.startswith("/evil/ipfs/"):  # an IPFS gateway that redirects into the LAN
            self._redirect("http://169.254.169.254/latest/meta-data/")
        elif parts.path == "/big":
            self._send(200, b"x" * (LIMIT + 1))
        elif parts.path == "/big-chunked":  # no Content-Length: the limit must hold while streaming
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(5):
                self.wfile.write(b"12c\r\n" + b"y" * 300 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif parts.path == "/drip":  # a byte every 0.3 s: each read is quick, the whole is not
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(20):
                    self.wfile.write(b"1\r\nz\r\n")
                    self.wfile.flush()
                    time.sleep(0.3)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up, as it should
        else:
            self._send(404, b"no")

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

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


def test_fetch_time_limit_covers_the_whole_transfer(server: str) -> None:
    """httpx's timeout bounds each read; a server dripping bytes must still be cut off."""
    with pytest.raises(StorageError, match="took too long"):
        fetch_payload(f"http://{server}/drip", content_hash(b"z" * 20), timeout=1.0, allow_private=True)


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


# inline


def test_inline_round_trip_and_checks() -> None:
    inline = InlineStorage()
    uri = inline.put(PAYLOAD)
    assert uri.startswith("data:application/octet-stream;base64,")
    assert inline.get(uri, content_hash(PAYLOAD)) == PAYLOAD
    with pytest.raises(ResultMismatch):
        inline.get(uri, content_hash(b"other"))
    with pytest.raises(UnsafeURI, match="malformed"):
        inline.get("data:application/octet-stream;base64,!!!", content_hash(PAYLOAD))
    json_uri = "data:application/json;base64," + base64.b64encode(b'{"a":1}').decode()
    assert inline.get(json_uri, content_hash(b'{"a":1}')) == b'{"a":1}'  # any media type, base64 only
    for unsafe in ('data:text/plain,{"a":1}', "data:;base64", "date:application/json;base64,e30="):
        with pytest.raises(UnsafeURI, match="not a base64 data URI"):
            inline.get(unsafe, content_hash(b'{"a":1}'))


def test_inline_refuses_payloads_over_its_limit() -> None:
    small = InlineStorage(max_bytes=LIMIT)
    with pytest.raises(PayloadTooLarge):
        small.put(b"x" * (LIMIT + 1))
    # a data URI from chain is checked before it is decoded
    big_uri = "data:application/octet-stream;base64," + base64.b64encode(b"x" * 10 * LIMIT).decode()
    with pytest.raises(PayloadTooLarge):
        small.get(big_uri, content_hash(b"x" * 10 * LIMIT))


# local directory


def test_local_round_trip_is_content_addressed_and_atomic(tmp_path: Path) -> None:
    local = LocalStorage(tmp_path)
    uri = local.put(PAYLOAD)
    digest = content_hash(PAYLOAD)
    assert uri == f"local:0x{digest.hex()}"
    assert (tmp_path / digest.hex()).read_bytes() == PAYLOAD
    assert [p.name for p in tmp_path.iterdir()] == [digest.hex()]  # no temporary file left
    assert local.get(uri, digest) == PAYLOAD
    assert local.put(PAYLOAD) == uri  # idempotent
    served = LocalStorage(tmp_path, base_url="https://rig.example/results/")
    assert served.put(PAYLOAD) == f"https://rig.example/results/0x{digest.hex()}"
    assert served.accepts(f"https://rig.example/results/0x{digest.hex()}")
    assert not served.accepts("https://elsewhere.example/results/0x" + digest.hex())


def test_local_writes_sync_the_directory_once_per_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rename is durable only once its directory is synced: without it a crash could lose the
    name of a result already submitted on chain. A batch shares one directory sync."""
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    local = LocalStorage(tmp_path)
    payloads = [b"first result", b"second result", b"first result"]
    digests = local.write_many(payloads)
    assert digests == [content_hash(payload) for payload in payloads]
    assert synced == ["file", "file", "dir"]  # the repeated payload is stored once
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({d.hex() for d in digests})
    synced.clear()
    local.put(b"third result")
    assert synced == ["file", "dir"]
    synced.clear()
    local.write_many(payloads)  # all stored already: nothing to sync
    assert synced == []


def test_local_get_checks_hash_size_and_presence(tmp_path: Path) -> None:
    local = LocalStorage(tmp_path, max_bytes=LIMIT)
    uri = local.put(PAYLOAD)
    digest = content_hash(PAYLOAD)
    with pytest.raises(ResultMismatch):
        local.get(uri, content_hash(b"what the chain says"))
    (tmp_path / digest.hex()).write_bytes(b"tampered on disk")
    with pytest.raises(ResultMismatch):
        local.get(uri, digest)
    (tmp_path / digest.hex()).write_bytes(b"z" * (LIMIT + 1))
    with pytest.raises(PayloadTooLarge):
        local.get(uri, digest)
    with pytest.raises(StorageError, match="is not in"):
        local.get("local:0x" + "ab" * 32, bytes.fromhex("ab" * 32))


@pytest.mark.parametrize("uri", ["local:../../etc/passwd", "local:/etc/passwd", "local:0x" + "ab" * 31])
def test_local_refuses_uris_that_are_not_blob_names(tmp_path: Path, uri: str) -> None:
    with pytest.raises(UnsafeURI, match="refusing"):
        LocalStorage(tmp_path).get(uri, content_hash(PAYLOAD))


# IPFS


class KuboStandIn(ThreadingHTTPServer):
    """A stand-in for a kubo node: a real HTTP server implementing only `POST /api/v0/add`
    (multipart, CIDv1 raw leaves as kubo makes for one small file) and `POST /api/v0/cat`, plus
    a read-only gateway at `GET /ipfs/<cid>`. Blobs are kept in `blobs`, by CID."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), KuboHandler)
        self.blobs: dict[str, bytes] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def cid_v1_raw(data: bytes) -> str:
    """CIDv1, raw codec (0x55), sha2-256 multihash, base32 multibase: "bafkrei…"."""
    return "b" + base64.b32encode(bytes([1, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()).decode().lower().rstrip(
        "="
    )


class KuboHandler(Handler):
    server: KuboStandIn

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if parts.path == "/api/v0/add" and query.get("cid-version") == ["1"]:
            head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
            form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
            data = next(form.iter_parts()).get_payload(decode=True)
            assert isinstance(data, bytes)
            cid = cid_v1_raw(data)
            self.server.blobs[cid] = data
            self._send(200, json.dumps({"Name": "blob", "Hash": cid, "Size": str(len(data))}).encode() + b"\n")
        elif parts.path == "/api/v0/cat" and query["arg"][0] in self.server.blobs:
            self._send(200, self.server.blobs[query["arg"][0]][: int(query.get("length", ["-1"])[0])])
        else:
            self._send(500, b'{"Message":"block was not found locally (offline)","Code":0,"Type":"error"}')

    def do_GET(self) -> None:
        cid = self.path.removeprefix("/ipfs/")
        if self.path.startswith("/ipfs/") and cid in self.server.blobs:
            self._send(200, self.server.blobs[cid])
        else:
            self._send(405 if self.path.startswith("/api/") else 404, b"no")


@pytest.fixture(scope="module")
def kubo() -> Iterator[KuboStandIn]:
    node = KuboStandIn()
    thread = threading.Thread(target=node.serve_forever, daemon=True)
    thread.start()
    yield node
    node.shutdown()
    node.server_close()


def test_ipfs_round_trip_through_the_api_and_a_gateway(kubo: KuboStandIn) -> None:
    uri = IpfsStorage(kubo.url).put(PAYLOAD)
    assert uri == "ipfs://" + cid_v1_raw(PAYLOAD)
    assert IpfsStorage(kubo.url).get(uri, content_hash(PAYLOAD)) == PAYLOAD
    assert IpfsStorage(kubo.url, gateway_url=kubo.url).get(uri, content_hash(PAYLOAD)) == PAYLOAD


def test_ipfs_payloads_are_checked_against_the_chain(kubo: KuboStandIn) -> None:
    payload = b"pinned, then swapped by a lying node"
    uri = IpfsStorage(kubo.url).put(payload)
    kubo.blobs[uri.removeprefix("ipfs://")] = b"something else"
    for reader in (IpfsStorage(kubo.url), IpfsStorage(kubo.url, gateway_url=kubo.url)):
        with pytest.raises(ResultMismatch):
            reader.get(uri, content_hash(payload))
    big = IpfsStorage(kubo.url).put(b"b" * (LIMIT + 1))
    for reader in (
        IpfsStorage(kubo.url, max_bytes=LIMIT),
        IpfsStorage(kubo.url, gateway_url=kubo.url, max_bytes=LIMIT),
    ):
        with pytest.raises(PayloadTooLarge):
            reader.get(big, content_hash(b"b" * (LIMIT + 1)))
    with pytest.raises(StorageError, match="HTTP 500"):
        IpfsStorage(kubo.url).get("ipfs://" + cid_v1_raw(b"never added"), content_hash(b"never added"))


@pytest.mark.parametrize("uri", ["ipfs://../../etc/passwd", "ipfs://bafy?arg=x", "ipfs://", "http://x/ipfs/bafy"])
def test_ipfs_refuses_uris_that_are_not_cids(kubo: KuboStandIn, uri: str) -> None:
    with pytest.raises(UnsafeURI, match="refusing"):
        IpfsStorage(kubo.url).get(uri, content_hash(PAYLOAD))


def test_ipfs_gateway_redirects_into_the_lan_are_refused(server: str) -> None:
    reader = IpfsStorage(f"http://{server}", gateway_url=f"http://{server}/evil")
    with pytest.raises(UnsafeURI, match=r"169\.254\.169\.254"):
        reader.get("ipfs://" + cid_v1_raw(PAYLOAD), content_hash(PAYLOAD))


# choosing and dispatching


def test_storage_from_uri_picks_the_backend(tmp_path: Path) -> None:
    account = Account.from_key(ANVIL_KEYS[1])
    assert isinstance(storage_from_uri("inline"), InlineStorage)
    local = storage_from_uri(f"local:{tmp_path}")
    assert isinstance(local, LocalStorage) and local.directory == tmp_path
    gateway = storage_from_uri("https://blobs.example:8700/", account)
    assert isinstance(gateway, GatewayStorage) and gateway.url == "https://blobs.example:8700"
    assert gateway.account is account
    ipfs = storage_from_uri("ipfs+http://127.0.0.1:5001")
    assert isinstance(ipfs, IpfsStorage) and ipfs.api_url == "http://127.0.0.1:5001"
    for bad in ("s3://bucket", "ipfs+file:///tmp/x", "file:///tmp"):
        with pytest.raises((ConfigError, UnsafeURI)):
            storage_from_uri(bad)


def test_fetch_resolves_each_backends_own_uris(tmp_path: Path, kubo: KuboStandIn) -> None:
    digest = content_hash(PAYLOAD)
    local = LocalStorage(tmp_path)
    ipfs = IpfsStorage(kubo.url)
    assert fetch(local.put(PAYLOAD), digest, storage=local) == PAYLOAD
    assert fetch(ipfs.put(PAYLOAD), digest, storage=ipfs) == PAYLOAD
    assert fetch(InlineStorage().put(PAYLOAD), digest) == PAYLOAD  # data: needs no backend
    with pytest.raises(StorageError, match="configure an IPFS backend"):
        fetch(ipfs.put(PAYLOAD), digest, storage=local)


HOSTILE = [
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/x",
    "ftp://example.com/x",
    "http://127.0.0.1:9/blob",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/blob",
]


@pytest.fixture(params=["none", "local", "gateway", "ipfs"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, server: str, kubo: KuboStandIn) -> Storage | None:
    """Each kind of configured storage, to show that none of them opens a way around the URI checks."""
    return {
        "none": None,
        "local": LocalStorage(tmp_path, base_url=f"http://{server}/results"),
        "gateway": GatewayStorage(f"http://{server}"),
        "ipfs": IpfsStorage(kubo.url, gateway_url=kubo.url),
    }[request.param]


@pytest.mark.parametrize("uri", HOSTILE)
def test_every_fetch_path_refuses_hostile_uris(backend: Storage | None, uri: str) -> None:
    with pytest.raises(UnsafeURI, match="refusing"):
        fetch(uri, content_hash(PAYLOAD), storage=backend)


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/blob", "file:///etc/passwd"]
)
def test_a_trusted_gateway_cannot_redirect_into_the_lan(server: str, target: str) -> None:
    gateway = GatewayStorage(f"http://{server}")
    uri = f"http://{server}/blobs/redirect?to={target}"
    assert gateway.accepts(uri)
    with pytest.raises(UnsafeURI, match="refusing"):
        gateway.get(uri, content_hash(PAYLOAD))
