"""Signed uploads: a gateway stores a blob only for a known or staked account, which signs
(EIP-191) a message naming the blob's hash, its size and an expiry time. The hash pins the
content, so a leaked signature can at most store that same blob again before it expires."""

from __future__ import annotations

import time

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_typing import ChecksumAddress
from eth_utils.exceptions import ValidationError

SIGNATURE_HEADER = "X-Assay-Signature"
EXPIRES_HEADER = "X-Assay-Expires"
SIZE_HEADER = "X-Assay-Size"
SIGNATURE_TTL = 300
"""Seconds an upload signature stays valid by default."""


def upload_message(digest: bytes, size: int, expires: int) -> str:
    """The text an uploader signs for one blob."""
    return f"Assay blob upload\nhash: 0x{digest.hex()}\nsize: {size}\nexpires: {expires}"


def upload_headers(account: LocalAccount, digest: bytes, size: int, *, ttl: int = SIGNATURE_TTL) -> dict[str, str]:
    """The headers that authorise uploading the blob `digest` of `size` bytes for `ttl` seconds."""
    expires = int(time.time()) + ttl
    signed = account.sign_message(encode_defunct(text=upload_message(digest, size, expires)))
    return {SIGNATURE_HEADER: "0x" + signed.signature.hex(), EXPIRES_HEADER: str(expires), SIZE_HEADER: str(size)}


def uploader_of(digest: bytes, size: int, expires: int, signature: str) -> ChecksumAddress | None:
    """The account that signed this upload, or None when the signature is malformed."""
    message = encode_defunct(text=upload_message(digest, size, expires))
    try:
        address: ChecksumAddress = Account.recover_message(message, signature=signature)
    except (ValueError, ValidationError, BadSignature):
        return None
    return address
