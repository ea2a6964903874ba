"""The Assay blob gateway as a backend: uploads are signed by the client's account, downloads
go through the safe HTTP fetch with only the gateway's own host trusted."""

from __future__ import annotations

import httpx
from eth_account.signers.local import LocalAccount

from .._errors import ConfigError, PayloadTooLarge, StorageError
from ._auth import SIGNATURE_TTL, upload_headers
from ._base import MAX_PAYLOAD_BYTES, TIMEOUT, Storage, content_hash
from ._http import check_uri, fetch_payload, host_port


class GatewayStorage(Storage):
    """Blobs on an Assay gateway (`assay gateway serve`) at `url`, as `<url>/blobs/0x<hash>`.

    `account` signs uploads (the gateway must allowlist it or see it staked); without one the
    backend only reads. The gateway's host is trusted even when private (it is configured here,
    not read from chain); redirects elsewhere are checked as usual."""

    def __init__(
        self,
        url: str,
        account: LocalAccount | None = None,
        *,
        timeout: float = TIMEOUT,
        max_bytes: int = MAX_PAYLOAD_BYTES,
        signature_ttl: int = SIGNATURE_TTL,
    ) -> None:
        check_uri(url, allow_private=True)
        self.url = url.rstrip("/")
        self.account = account
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.signature_ttl = signature_ttl

    def put(self, payload: bytes) -> str:
        if self.account is None:
            raise ConfigError("uploading to a gateway needs an account to sign with")
        if len(payload) > self.max_bytes:
            raise PayloadTooLarge(f"{len(payload)} bytes is over the upload limit of {self.max_bytes}")
        digest = content_hash(payload)
        uri = f"{self.url}/blobs/0x{digest.hex()}"
        headers = upload_headers(self.account, digest, len(payload), ttl=self.signature_ttl)
        try:
            response = httpx.put(uri, content=payload, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise StorageError(f"cannot upload to {self.url}: {exc}") from exc
        if response.status_code == 413:
            raise PayloadTooLarge(f"{self.url} refused {len(payload)} bytes: {_detail(response)}")
        if response.status_code not in (200, 201):
            raise StorageError(f"{self.url} refused the upload (HTTP {response.status_code}): {_detail(response)}")
        return uri

    def get(self, uri: str, expected_hash: bytes) -> bytes:
        trusted = {host_port(self.url)}
        return fetch_payload(uri, expected_hash, max_bytes=self.max_bytes, timeout=self.timeout, trusted_hosts=trusted)

    def accepts(self, uri: str) -> bool:
        return uri.startswith(f"{self.url}/blobs/")


def _detail(response: httpx.Response) -> str:
    """A FastAPI error's `detail`, else the start of the body."""
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]
