"""Content-addressed storage for job inputs and results: every backend stores a payload under
its keccak256 and every read is size-limited and checked against the hash on chain.

    Storage          the interface: put(payload) -> uri, get(uri, expected_hash) -> bytes
    ├── InlineStorage   data: URIs, carried on chain (small payloads)
    ├── LocalStorage    a directory, <dir>/<keccak hex>
    ├── GatewayStorage  an Assay blob gateway (`assay gateway serve`), signed uploads
    └── IpfsStorage     a kubo node's HTTP RPC API, ipfs://<cid> URIs

`fetch` resolves any URI (its backend's, data:, or public http(s)); `storage_from_uri` builds
a backend from a string such as `local:/srv/blobs` or `ipfs+http://127.0.0.1:5001`.
"""

from ._auth import upload_headers, upload_message, uploader_of
from ._base import MAX_PAYLOAD_BYTES, Storage, content_hash, verified
from ._gateway import GatewayStorage
from ._http import check_uri, fetch_payload
from ._inline import InlineStorage
from ._ipfs import IpfsStorage
from ._local import LocalStorage, StagedBlob
from ._select import fetch, storage_from_uri

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "GatewayStorage",
    "InlineStorage",
    "IpfsStorage",
    "LocalStorage",
    "StagedBlob",
    "Storage",
    "check_uri",
    "content_hash",
    "fetch",
    "fetch_payload",
    "storage_from_uri",
    "upload_headers",
    "upload_message",
    "uploader_of",
    "verified",
]
