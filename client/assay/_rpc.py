"""JSON-RPC for the worker's hot paths: an HTTP provider that skips repeated work, and requests
answered as the node sent them.

web3's result formatters and middleware turn every log of an answer into HexBytes,
checksummed addresses and nested AttributeDicts; for a page of job logs or a receipt of a
32-job multicall that costs several milliseconds, more than decoding the logs themselves."""

from __future__ import annotations

import os
from typing import Any, cast
from urllib.parse import urljoin

import requests
import urllib3
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from requests.utils import (
    DEFAULT_CA_BUNDLE_PATH,
    get_auth_from_url,
    get_netrc_auth,
    prepend_scheme_if_needed,
    select_proxy,
)
from web3 import HTTPProvider, Web3
from web3.datastructures import AttributeDict
from web3.types import RPCEndpoint, TxReceipt

from ._errors import ConfigError


def http_provider(url: str, timeout: float) -> HTTPProvider:
    """An HTTP provider for `url` that asks the node its chain id once (web3's validation
    middleware asks again, twice, before every eth_estimateGas, each a full round trip) and posts
    with urllib3 (`_Transport`) instead of requests: ~0.3 against ~0.85 ms of CPU a request."""
    provider = HTTPProvider(
        url,
        request_kwargs={"timeout": timeout},
        cache_allowed_requests=True,
        cacheable_requests={RPCEndpoint("eth_chainId")},
        request_cache_validation_threshold=None,  # eth_chainId needs none (web3 would ask the chain id for it)
    )
    # both make_request and make_batch_request post through this one attribute
    provider._request_session_manager = _Transport(url, provider.get_request_headers())  # type: ignore[assignment]
    return provider


class _Transport:
    """Posts JSON-RPC bodies to one URL with a urllib3 pool, as web3's requests session would: the
    environment's proxy (HTTP_PROXY, NO_PROXY...), CA bundle and .netrc are read once, as requests
    reads them; 307/308 redirects are followed; failures raise requests' exceptions (a refused or
    dropped connection is `requests.ConnectionError`, an error status `requests.HTTPError` with its
    response), so callers classify errors the same either way."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        rules = requests.Session()  # requests' own rules: environment settings, credentials on redirects
        self._strip_auth = rules.should_strip_auth
        settings = rules.merge_environment_settings(url, {}, None, None, None)
        verify = settings["verify"]
        tls: dict[str, Any] = {"cert_reqs": "CERT_NONE"} if verify is False else {"cert_reqs": "CERT_REQUIRED"}
        if isinstance(verify, str) and os.path.isdir(verify):
            tls["ca_cert_dir"] = verify
        elif verify is not False:
            tls["ca_certs"] = verify if isinstance(verify, str) else DEFAULT_CA_BUNDLE_PATH
        self._pool = _pool_for(select_proxy(url, settings["proxies"]), tls)
        # requests' order: .netrc first, else credentials in the URL; sent as a header, never in the URL
        auth = get_netrc_auth(url) or get_auth_from_url(url)
        self._headers = {**headers, **urllib3.make_headers(accept_encoding=True)}
        if any(auth):
            self._headers.update(urllib3.make_headers(basic_auth=":".join(auth)))
        parts = urllib3.util.parse_url(url)
        self._url = parts._replace(auth=None, path=parts.path or "/").url  # as requests sends it

    def make_post_request(self, endpoint_uri: str, data: bytes, timeout: float, **_: Any) -> bytes:
        """`data` posted to this transport's URL (web3 passes the same one as `endpoint_uri`)."""
        url, headers = self._url, self._headers
        for _hop in range(_MAX_REDIRECTS + 1):
            response = self._post(url, data, headers, timeout)
            location = response.headers.get("Location")
            if response.status not in (307, 308) or not location:
                break
            target = urljoin(url, location)  # a redirect that keeps the method and body, as requests follows it
            # another host, or https to http: as requests drops them
            if self._strip_auth(url, target):  # type: ignore[no-untyped-call]
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            url = target
        else:
            raise requests.TooManyRedirects(f"more than {_MAX_REDIRECTS} redirects from {self._url}")
        if response.status >= 300:
            failed = requests.Response()
            failed.status_code, failed.reason, failed.url = response.status, response.reason or "", url
            failed._content = response.data
            if response.status < 400:  # raise_for_status passes redirects; JSON-RPC cannot follow them
                why = f"{response.status} redirect to {location or 'nowhere'} from {url} (a POST is not re-sent as GET)"
                raise requests.HTTPError(why, response=failed)
            failed.raise_for_status()
        return response.data

    def _post(self, url: str, data: bytes, headers: dict[str, str], timeout: float) -> urllib3.BaseHTTPResponse:
        try:
            return self._pool.request(
                "POST", url, body=data, headers=headers, timeout=timeout, retries=False, redirect=False
            )
        except urllib3.exceptions.ProxyError as exc:
            raise requests.exceptions.ProxyError(exc) from exc
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
        except urllib3.exceptions.NewConnectionError as exc:  # before ConnectTimeoutError, its base class
            raise requests.ConnectionError(exc) from exc
        except urllib3.exceptions.ConnectTimeoutError as exc:
            raise requests.exceptions.ConnectTimeout(exc) from exc
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except urllib3.exceptions.HTTPError as exc:  # a dropped connection, a garbled answer...
            raise requests.ConnectionError(exc) from exc


_MAX_REDIRECTS = 5


def _pool_for(proxy: str | None, tls: dict[str, Any]) -> urllib3.PoolManager:
    """A connection pool, through `proxy` when one applies (as requests: a bare address such as
    10.0.0.1:3128 is http://, SOCKS needs PySocks)."""
    if not proxy:
        return urllib3.PoolManager(maxsize=10, **tls)
    proxy = str(prepend_scheme_if_needed(proxy, "http"))  # type: ignore[no-untyped-call]
    if proxy.lower().startswith("socks"):
        try:
            from urllib3.contrib.socks import SOCKSProxyManager
        except ImportError as exc:
            raise ConfigError(f"the SOCKS proxy {proxy} needs PySocks: pip install pysocks") from exc
        return SOCKSProxyManager(proxy, maxsize=10, **tls)
    proxy_auth = get_auth_from_url(proxy)
    proxy_headers = urllib3.make_headers(proxy_basic_auth=":".join(proxy_auth)) if any(proxy_auth) else None
    try:
        return urllib3.ProxyManager(proxy, proxy_headers=proxy_headers, maxsize=10, **tls)
    except urllib3.exceptions.ProxySchemeUnknown as exc:  # e.g. localhost:3128, read as scheme "localhost"
        raise ConfigError(f"proxy {proxy!r}: {exc}; write it as http://host:port") from exc


def raw_request(w3: Web3, method: str, params: list[Any]) -> Any:
    """The `result` of `method(params)` unformatted (hex strings, plain dicts; None for a null
    result); an error answer raises web3's own exception for it, as a formatted call would. It goes
    straight to `w3`'s provider: no middleware of `w3` sees it, including any a caller added."""
    response = w3.provider.make_request(RPCEndpoint(method), params)
    return w3.manager.formatted_response(response, params)


_QUANTITIES = frozenset(
    (
        *("blockNumber", "transactionIndex", "type", "status"),
        *("gasUsed", "cumulativeGasUsed", "effectiveGasPrice", "blobGasUsed", "blobGasPrice"),
    )
)
_BYTES = frozenset(("blockHash", "transactionHash", "logsBloom"))
_ADDRESSES = frozenset(("from", "to", "contractAddress"))


def receipt_with_raw_logs(raw: dict[str, Any]) -> TxReceipt:
    """A raw `eth_getTransactionReceipt` result with its own fields formatted as web3 formats them
    (ints, HexBytes, checksummed addresses) and its logs left as the node sent them."""
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key in _QUANTITIES:
            value = int(value, 16)
        elif isinstance(value, str) and key in _BYTES:
            value = HexBytes(value)
        elif isinstance(value, str) and key in _ADDRESSES:
            value = to_checksum_address(value)
        fields[key] = value
    return cast(TxReceipt, AttributeDict(fields))
