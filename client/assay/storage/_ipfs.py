"""IPFS through a kubo node's HTTP RPC API (`/api/v0/add`, `/api/v0/cat`), or reads through an
HTTP gateway (`<gateway>/ipfs/<cid>`). URIs are `ipfs://<cid>`.

The CID is IPFS's own content address; Assay still checks every payload against the keccak256
on chain, so a lying node or gateway is caught like any other storage."""

from __future__ import annotations

import json
import re
import time

import httpx

from .._errors import StorageError, UnsafeURI
from ._base import MAX_PAYLOAD_BYTES, TIMEOUT, Storage, verified
from ._http import check_uri, fetch_payload, host_port, read_limited

IPFS_PREFIX = "ipfs://"
# CIDv0 (base58btc "Qm…") or a multibase CIDv1: letters and digits only, so nothing can escape
# into the query string or path
_CID = re.compile(r"[A-Za-z0-9]{32,128}")


class IpfsStorage(Storage):
    """Blobs on the IPFS node whose RPC API is at `api_url` (kubo's default:
    http://127.0.0.1:5001). Reads go through `gateway_url` when given (a public or local IPFS
    HTTP gateway), else through the node's `cat`. `put` pins what it adds."""

    def __init__(
        self,
        api_url: str = "http://127.0.0.1:5001",
        *,
        gateway_url: str | None = None,
        timeout: float = TIMEOUT,
        max_bytes: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        # both endpoints come from the operator, not from chain: any host is fine, but only http(s)
        check_uri(api_url, allow_private=True)
        if gateway_url is not None:
            check_uri(gateway_url, allow_private=True)
        self.api_url = api_url.rstrip("/")
        self.gateway_url = gateway_url.rstrip("/") if gateway_url else None
        self.timeout = timeout
        self.max_bytes = max_bytes

    def put(self, payload: bytes) -> str:
        params = {"cid-version": "1", "pin": "true", "quieter": "true"}
        files = {"file": ("blob", payload, "application/octet-stream")}
        try:
            response = httpx.post(f"{self.api_url}/api/v0/add", params=params, files=files, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise StorageError(f"cannot reach the IPFS API at {self.api_url}: {exc}") from exc
        if response.status_code != 200:
            raise StorageError(f"IPFS add answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            # one JSON object per added entry, the last one for the whole file
            cid = json.loads(response.text.strip().splitlines()[-1])["Hash"]
        except (ValueError, IndexError, KeyError, TypeError) as exc:
            raise StorageError(f"IPFS add answered something unexpected: {response.text[:200]!r}") from exc
        return IPFS_PREFIX + self._cid_in(IPFS_PREFIX + str(cid))

    def get(self, uri: str, expected_hash: bytes) -> bytes:
        cid = self._cid_in(uri)
        if self.gateway_url is not None:
            trusted = {host_port(self.gateway_url)}
            return fetch_payload(
                f"{self.gateway_url}/ipfs/{cid}",
                expected_hash,
                max_bytes=self.max_bytes,
                timeout=self.timeout,
                trusted_hosts=trusted,
            )
        # `length` stops the node itself past the limit; read_limited enforces it regardless
        params = {"arg": cid, "length": str(self.max_bytes + 1)}
        deadline = time.monotonic() + self.timeout
        try:
            with httpx.stream("POST", f"{self.api_url}/api/v0/cat", params=params, timeout=self.timeout) as response:
                payload = read_limited(response, uri, self.max_bytes, deadline)
        except httpx.HTTPError as exc:
            raise StorageError(f"cannot fetch {uri} from the IPFS API at {self.api_url}: {exc}") from exc
        return verified(payload, expected_hash, uri, self.max_bytes)

    def accepts(self, uri: str) -> bool:
        return uri.startswith(IPFS_PREFIX)

    @staticmethod
    def _cid_in(uri: str) -> str:
        cid = uri.removeprefix(IPFS_PREFIX)
        if not uri.startswith(IPFS_PREFIX) or _CID.fullmatch(cid) is None:
            raise UnsafeURI(f"refusing {uri[:80]!r}: not ipfs://<cid>")
        return cid
