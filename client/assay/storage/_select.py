"""Choosing a backend from a string, and resolving any URI with the right one."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from .._errors import ConfigError, StorageError
from ._base import MAX_PAYLOAD_BYTES, Storage
from ._gateway import GatewayStorage
from ._http import fetch_payload
from ._inline import InlineStorage
from ._ipfs import IPFS_PREFIX, IpfsStorage
from ._local import LocalStorage


def storage_from_uri(spec: str, account: LocalAccount | None = None) -> Storage:
    """A backend named by `spec`: `inline`, `local:/some/dir`, `http(s)://gateway` (an Assay
    gateway; `account` signs uploads) or `ipfs+http(s)://host:port` (a kubo RPC API).

    >>> storage_from_uri("ipfs+http://127.0.0.1:5001").api_url  # doctest: +SKIP
    'http://127.0.0.1:5001'
    """
    if spec == "inline":
        return InlineStorage()
    if spec.startswith("local:"):
        return LocalStorage(spec.removeprefix("local:"))
    if spec.startswith(("http://", "https://")):
        return GatewayStorage(spec, account)
    if spec.startswith(("ipfs+http://", "ipfs+https://")):
        return IpfsStorage(spec.removeprefix("ipfs+"))
    raise ConfigError(
        f"unknown storage {spec!r}: use inline, local:/dir, http(s)://gateway or ipfs+http(s)://host:port"
    )


def fetch(
    uri: str,
    expected_hash: bytes,
    *,
    storage: Storage | None = None,
    allow_private: bool = False,
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> bytes:
    """The payload at `uri`, checked against `expected_hash`: through `storage` when the URI is
    one of its own, inline for `data:` URIs, else over public http(s) (see `fetch_payload`)."""
    if storage is not None and storage.accepts(uri):
        return storage.get(uri, expected_hash)
    if uri.startswith("data:"):
        return InlineStorage(max_bytes=max_bytes).get(uri, expected_hash)
    if uri.startswith(IPFS_PREFIX):
        raise StorageError(f"{uri} is on IPFS: configure an IPFS backend, e.g. storage=IpfsStorage(api_url)")
    return fetch_payload(uri, expected_hash, max_bytes=max_bytes, allow_private=allow_private)
