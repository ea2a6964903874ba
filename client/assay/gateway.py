"""The Assay blob gateway: an HTTP server that stores payloads by keccak256 for anyone to fetch,
and accepts them only from accounts it trusts (an allowlist) or that have stake at risk in the
WorkerRegistry. Needs fastapi (the `worker` extra); `assay gateway serve` runs it.

    PUT /blobs/0x<hash>   raw body, signed (see `assay.storage.upload_headers`) -> 201
    GET /blobs/0x<hash>   the blob
    GET /health           configuration, no work

An upload streams to a temporary file, never held in memory, and becomes `<dir>/<hash>` only
once its size and hash are checked; a refused upload leaves nothing behind."""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from ._client import AssayClient
from .storage import MAX_PAYLOAD_BYTES, LocalStorage, StagedBlob, uploader_of
from .storage._auth import EXPIRES_HEADER, SIGNATURE_HEADER, SIZE_HEADER
from .storage._local import digest_named

MIN_STAKE = 10**16
"""Wei of stake (free + locked) that lets an account upload, by default."""
MAX_SIGNATURE_TTL = 3_600
"""Signatures valid for longer than this are refused, so none is good forever."""


def create_app(
    directory: str | os.PathLike[str],
    *,
    allowlist: Collection[str] = (),
    client: AssayClient | None = None,
    min_stake: int = MIN_STAKE,
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> FastAPI:
    """A gateway storing blobs in `directory`, accepting uploads of at most `max_bytes` signed
    by an `allowlist` address or, when `client` is given, by an account with at least
    `min_stake` wei staked in that client's WorkerRegistry."""
    store = LocalStorage(directory, max_bytes=max_bytes)
    allowed = {to_checksum_address(address) for address in allowlist}
    app = FastAPI(title="Assay blob gateway", docs_url=None, redoc_url=None)

    def authorise(digest: bytes, request: Request) -> int:
        """The signed size of the upload, or 401/403 saying why it is refused."""
        try:
            signature = request.headers[SIGNATURE_HEADER]
            expires, size = int(request.headers[EXPIRES_HEADER]), int(request.headers[SIZE_HEADER])
        except (KeyError, ValueError):
            detail = f"uploads must be signed: send {SIGNATURE_HEADER}, {EXPIRES_HEADER} and {SIZE_HEADER}"
            raise HTTPException(401, detail) from None
        now = int(time.time())
        if expires < now:
            raise HTTPException(401, f"the upload signature expired at {expires} (now {now})")
        if expires > now + MAX_SIGNATURE_TTL:
            raise HTTPException(
                401, f"the upload signature is valid past the {MAX_SIGNATURE_TTL} s this gateway allows"
            )
        signer = uploader_of(digest, size, expires, signature)
        if signer is None:
            raise HTTPException(401, "the upload signature is malformed")
        if signer not in allowed and not staked(signer):
            raise HTTPException(
                403, f"{signer} may not upload here: not allowlisted, and less than {min_stake} wei staked"
            )
        return size

    def staked(signer: ChecksumAddress) -> bool:
        if client is None:
            return False
        try:
            stake = client.stake_of(signer)
        except Exception as exc:  # any RPC failure: the upload may be fine, the check is not possible
            raise HTTPException(503, f"cannot read {signer}'s stake from the chain: {exc}") from exc
        return stake.free + stake.locked >= min_stake

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "max_bytes": max_bytes, "allowlisted": len(allowed), "staked_uploads": client is not None}

    @app.put("/blobs/{name}", status_code=201)
    async def put_blob(name: str, request: Request) -> dict[str, Any]:
        digest = _digest(name)
        size = await run_in_threadpool(authorise, digest, request)
        if size < 0:
            raise HTTPException(400, f"{SIZE_HEADER} cannot be negative")
        if size > max_bytes:
            raise HTTPException(413, f"{size} bytes is over this gateway's limit of {max_bytes}")
        with StagedBlob(store) as blob:
            async for chunk in request.stream():
                blob.write(chunk)
                if blob.size > max_bytes:
                    raise HTTPException(413, f"the body passed this gateway's limit of {max_bytes} bytes")
                if blob.size > size:
                    raise HTTPException(400, f"the body is longer than the {size} bytes signed for")
            if blob.size != size:
                raise HTTPException(400, f"the body is {blob.size} bytes but {size} were signed for")
            if blob.digest() != digest:
                raise HTTPException(400, f"the body hashes to 0x{blob.digest().hex()}, not 0x{digest.hex()}")
            # a second upload of a blob replaces it with the same bytes; fsync and rename off the loop
            await run_in_threadpool(blob.publish)
        return {"hash": f"0x{digest.hex()}", "size": size}

    @app.get("/blobs/{name}")
    def get_blob(name: str) -> FileResponse:
        path = store.path_of(_digest(name))
        if not path.is_file():
            raise HTTPException(404, "no such blob")
        # content-addressed: a name never changes its bytes
        headers = {"Cache-Control": "public, max-age=31536000, immutable"}
        return FileResponse(path, media_type="application/octet-stream", headers=headers)

    return app


def _digest(name: str) -> bytes:
    digest = digest_named(name)
    if digest is None:
        raise HTTPException(400, "a blob is named by its 32-byte keccak256 in hex")
    return digest
