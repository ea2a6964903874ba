"""The blob gateway as a real server (`assay gateway serve` in a subprocess) on the session's
anvil chain: who may upload (allowlisted or staked signers), what is refused (expired, forged or
unsigned uploads, wrong hashes, oversized bodies) and that a refused upload leaves nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from assay import ECHO, AssayClient, ConfigError, Deployment, PayloadTooLarge, StorageError, UnsafeURI, content_hash
from assay.devnet import ANVIL_KEYS, Anvil
from assay.storage import GatewayStorage, LocalStorage, upload_headers
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from .conftest import gateway_server

MAX_BYTES = 64 * 1024
MIN_STAKE = 5 * 10**16  # 0.05 ETH
ALLOWED = Account.from_key(ANVIL_KEYS[1])  # the requester fixture's account
PAYLOAD = b'{"text":"stored by hash"}'


class Gateway:
    def __init__(self, url: str, directory: Path) -> None:
        self.url = url
        self.directory = directory

    def put(self, payload: bytes, headers: dict[str, str], digest: bytes | None = None) -> httpx.Response:
        name = (digest or content_hash(payload)).hex()
        return httpx.put(f"{self.url}/blobs/0x{name}", content=payload, headers=headers, timeout=10)

    def files(self) -> list[str]:
        return sorted(path.name for path in self.directory.iterdir())


@pytest.fixture(scope="module")
def gateway(anvil: Anvil, deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder = tmp_path_factory.mktemp("gateway")
    deployment.save(folder)
    options = ["--allow", ALLOWED.address, "--min-stake", "0.05", "--max-bytes", str(MAX_BYTES)]
    with gateway_server(anvil.url, folder, *options) as url:
        yield Gateway(url, folder / "blobs")


def test_health_reports_the_configuration(gateway: Gateway) -> None:
    health = httpx.get(f"{gateway.url}/health").json()
    assert health == {"ok": True, "max_bytes": MAX_BYTES, "allowlisted": 1, "staked_uploads": True}


def test_an_allowlisted_signer_uploads_and_anyone_fetches(gateway: Gateway) -> None:
    uri = GatewayStorage(gateway.url, ALLOWED).put(PAYLOAD)
    digest = content_hash(PAYLOAD)
    assert uri == f"{gateway.url}/blobs/0x{digest.hex()}"
    assert (gateway.directory / digest.hex()).read_bytes() == PAYLOAD
    assert GatewayStorage(gateway.url).get(uri, digest) == PAYLOAD  # reading needs no account
    served = httpx.get(uri)
    assert served.content == PAYLOAD and "immutable" in served.headers["cache-control"]
    assert not [name for name in gateway.files() if name.endswith(".part")]


def test_a_staked_signer_uploads_once_its_stake_is_enough(gateway: Gateway, worker: AssayClient) -> None:
    storage = GatewayStorage(gateway.url, worker.account)
    payload = b"a worker's result"
    assert worker.stake_of().free == 0
    with pytest.raises(StorageError, match=r"HTTP 403.*not allowlisted"):
        storage.put(payload)
    worker.stake(MIN_STAKE // 2)
    with pytest.raises(StorageError, match="HTTP 403"):
        storage.put(payload)
    assert content_hash(payload).hex() not in gateway.files()
    worker.stake(MIN_STAKE // 2)
    uri = storage.put(payload)
    assert storage.get(uri, content_hash(payload)) == payload


def test_an_unknown_signer_is_refused(gateway: Gateway) -> None:
    stranger: LocalAccount = Account.create()
    response = gateway.put(PAYLOAD + b"!", upload_headers(stranger, content_hash(PAYLOAD + b"!"), len(PAYLOAD) + 1))
    assert response.status_code == 403
    assert stranger.address in response.json()["detail"]
    assert content_hash(PAYLOAD + b"!").hex() not in gateway.files()


def test_expired_unsigned_and_forged_uploads_are_refused(gateway: Gateway) -> None:
    payload = b"never stored"
    digest = content_hash(payload)
    expired = gateway.put(payload, upload_headers(ALLOWED, digest, len(payload), ttl=-5))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    forever = gateway.put(payload, upload_headers(ALLOWED, digest, len(payload), ttl=30 * 86_400))
    assert forever.status_code == 401 and "valid past" in forever.json()["detail"]
    unsigned = gateway.put(payload, {})
    assert unsigned.status_code == 401 and "must be signed" in unsigned.json()["detail"]
    garbage = upload_headers(ALLOWED, digest, len(payload)) | {"X-Assay-Signature": "0x1234"}
    assert gateway.put(payload, garbage).status_code == 401
    # a real signature for another blob recovers to some other address
    borrowed = upload_headers(ALLOWED, content_hash(b"the blob that was signed"), len(payload))
    assert gateway.put(payload, borrowed).status_code == 403
    assert digest.hex() not in gateway.files()


def test_a_body_with_another_hash_is_refused_and_not_kept(gateway: Gateway) -> None:
    claimed = content_hash(b"what the signer promised")
    body = b"what was sent instead!!!"
    response = gateway.put(body, upload_headers(ALLOWED, claimed, len(body)), digest=claimed)
    assert response.status_code == 400 and "hashes to" in response.json()["detail"]
    short = gateway.put(body, upload_headers(ALLOWED, content_hash(body), len(body) + 5))
    assert short.status_code == 400 and "were signed for" in short.json()["detail"]
    assert claimed.hex() not in gateway.files() and not [n for n in gateway.files() if n.endswith(".part")]


def test_oversized_uploads_are_refused_and_the_partial_file_removed(gateway: Gateway) -> None:
    before = gateway.files()
    body = b"o" * (MAX_BYTES + 1)
    declared = gateway.put(body[:10], upload_headers(ALLOWED, content_hash(body), len(body)), digest=content_hash(body))
    assert declared.status_code == 413
    # signed for the limit, but the body keeps going: cut off while streaming
    streamed = gateway.put(body, upload_headers(ALLOWED, content_hash(body), MAX_BYTES))
    assert streamed.status_code == 413 and "passed" in streamed.json()["detail"]
    assert gateway.files() == before
    with pytest.raises(PayloadTooLarge):
        GatewayStorage(gateway.url, ALLOWED, max_bytes=MAX_BYTES).put(body)


def test_blob_names_are_hashes(gateway: Gateway) -> None:
    assert httpx.get(f"{gateway.url}/blobs/0x{'ab' * 32}").status_code == 404
    assert httpx.get(f"{gateway.url}/blobs/..%2F..%2Fetc%2Fpasswd").status_code in (400, 404)
    assert httpx.get(f"{gateway.url}/blobs/not-a-hash").status_code == 400


def test_a_large_job_input_goes_through_the_gateway(gateway: Gateway, w3: Web3, deployment: Deployment) -> None:
    storage = GatewayStorage(gateway.url, ALLOWED)
    requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment, storage=storage)
    data = os.urandom(20_000)  # over the 16 KiB calldata limit
    job = requester.post_job(ECHO, data, reward=10**15)
    (posted,) = [event.args for event in job.history() if event.name == "JobPosted"]
    assert posted["input"] == b"" and posted["inputURI"] == f"{gateway.url}/blobs/0x{content_hash(data).hex()}"
    assert job.terms.input_hash == content_hash(data)
    assert job.input == data
    # anyone can read it back; on a public chain the gateway must be configured to be trusted
    assert AssayClient(w3, deployment=deployment).job(job.id).input == data
    strict = AssayClient(w3, deployment=deployment, allow_private_uris=False)
    with pytest.raises(UnsafeURI):
        _ = strict.job(job.id).input
    trusting = AssayClient(w3, deployment=deployment, allow_private_uris=False, storage=GatewayStorage(gateway.url))
    assert trusting.job(job.id).input == data


def test_a_storage_whose_uris_workers_cannot_fetch_is_refused(w3: Web3, deployment: Deployment, tmp_path: Path) -> None:
    requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment, storage=LocalStorage(tmp_path))
    with pytest.raises(ConfigError, match="workers can fetch, got 'local:0x"):
        requester.post_job(ECHO, b"z" * 20_000, reward=10**15)
    assert AssayClient(w3, ANVIL_KEYS[1], deployment=deployment).jobs() == []
