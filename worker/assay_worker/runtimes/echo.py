"""The deterministic test runtime."""

from __future__ import annotations

import hashlib

from assay import ECHO

from ._base import canonical


class EchoRuntime:
    """Deterministic test runtime: describes its input, with no weights and no randomness."""

    manifest = ECHO

    def load(self) -> None:
        return None

    def check_input(self, data: bytes) -> str | None:
        return None

    def unload(self) -> None:
        return None

    def memory_bytes(self) -> int:
        return 0

    def run(self, inputs: list[bytes]) -> list[bytes]:
        return [
            canonical(
                {
                    "model": self.manifest.name,
                    "length": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "text": data.decode("utf-8", errors="replace"),
                }
            )
            for data in inputs
        ]
