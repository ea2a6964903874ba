"""Fetching payloads over HTTP safely: every payload is size-limited and checked against its
keccak256, and URIs that point into private networks are refused unless allowed.

A result or input URI comes from whoever posted it on chain, so fetching it blindly would let
anyone make a worker or dApp backend request its cloud metadata service (169.254.169.254) or an
internal admin page. Each hop of a redirect is checked again."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Collection
from urllib.parse import urljoin, urlsplit

import httpx

from .._errors import PayloadTooLarge, StorageError, UnsafeURI
from ._base import MAX_PAYLOAD_BYTES, TIMEOUT, verified

FETCH_TIMEOUT = TIMEOUT
MAX_REDIRECTS = 3


def host_port(url: str) -> str:
    """`host:port` of an http(s) URL, as `trusted_hosts` names it."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def check_uri(uri: str, *, allow_private: bool = False, trusted_hosts: Collection[str] = ()) -> None:
    """Raise `UnsafeURI` unless `uri` is http(s) and its host resolves only to public addresses
    (or `allow_private` is set, or its `host:port` is in `trusted_hosts`)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURI(f"refusing {uri!r}: only http and https URIs are fetched")
    host = parts.hostname
    if not host:
        raise UnsafeURI(f"refusing {uri!r}: no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if allow_private or f"{host}:{port}" in trusted_hosts:
        return
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except socket.gaierror as exc:
        raise StorageError(f"cannot resolve the host of {uri}: {exc}") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if not (mapped or ip).is_global or ip.is_multicast:
            raise UnsafeURI(
                f"refusing {uri}: {host} resolves to {ip}, a private, loopback or link-local address "
                "(pass allow_private=True for a local network)"
            )


def fetch_payload(
    uri: str,
    expected_hash: bytes,
    *,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    timeout: float = FETCH_TIMEOUT,
    allow_private: bool = False,
    trusted_hosts: Collection[str] = (),
) -> bytes:
    """Download `uri`, refusing unsafe targets (see `check_uri`), more than `max_bytes` and
    transfers that take longer than `timeout` seconds in all, and return the bytes only if their
    keccak256 equals `expected_hash`."""
    deadline = time.monotonic() + timeout
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as http:
            for _ in range(MAX_REDIRECTS + 1):
                check_uri(uri, allow_private=allow_private, trusted_hosts=trusted_hosts)
                with http.stream("GET", uri) as response:
                    if response.is_redirect and "location" in response.headers:
                        uri = urljoin(uri, response.headers["location"])
                        continue
                    payload = read_limited(response, uri, max_bytes, deadline)
                    break
            else:
                raise StorageError(f"more than {MAX_REDIRECTS} redirects fetching {uri}")
    except httpx.HTTPError as exc:
        raise StorageError(f"cannot fetch {uri}: {exc}") from exc
    return verified(payload, expected_hash, uri, max_bytes)


def read_limited(response: httpx.Response, uri: str, max_bytes: int, deadline: float) -> bytes:
    """The body of a streamed 200 response, stopping as soon as it passes `max_bytes` or the
    `deadline` (monotonic time) passes: httpx's timeouts bound each read, not the transfer, so a
    server dripping a byte at a time could otherwise hold the caller for hours."""
    if response.status_code != 200:
        raise StorageError(f"{response.request.method} {uri} answered HTTP {response.status_code}")
    declared = int(response.headers.get("content-length", 0))
    if declared > max_bytes:
        raise PayloadTooLarge(f"{uri} is {declared} bytes; the limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"{uri} sent more than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise StorageError(f"fetching {uri} took too long ({size} bytes read before the time limit)")
        chunks.append(chunk)
    return b"".join(chunks)
