"""Assay SDK: post AI inference jobs to the Assay market and get verified results back.

from assay import AssayClient, MINILM_L6_V2
client = AssayClient("http://127.0.0.1:8545", private_key)
job = client.post_job(MINILM_L6_V2, "a sentence", reward=10**16)
result = job.wait()          # payload checked against the on-chain hash
print(result.json()["embedding"][:4])
"""

from . import batch, errors
from ._artifacts import Artifact, load_artifact
from ._async import AsyncAssayClient, AsyncJob
from ._client import MAX_INLINE_INPUT, AssayClient, Refund, StakeInfo, commitment_of
from ._deployments import Deployment
from ._errors import (
    AssayError,
    BatchFormatError,
    ChainError,
    ChainMismatch,
    ConfigError,
    ContractRevert,
    DeploymentNotFound,
    FeeCapExceeded,
    InsufficientFunds,
    JobError,
    JobNotCompleted,
    JobTimeout,
    NoWorkerAvailable,
    PayloadTooLarge,
    ResultMismatch,
    StorageError,
    TransactionFailed,
    UnsafeURI,
)
from ._events import JOB_EVENTS, JobEvent
from ._jobs import Job, JobInfo, JobPhase, JobResult, JobTerms
from ._keys import Signer
from ._keys import decrypt_keystore as load_keystore
from ._models import BUILTIN_MODELS, ECHO, MINILM_L6_V2, SENTIMENT_MINILM, ModelManifest, RegisteredModel
from ._transactions import gas_cost
from ._txmanager import TxManager, TxPolicy
from .storage import Storage, check_uri, content_hash, fetch_payload

__all__ = [
    "BUILTIN_MODELS",
    "ECHO",
    "JOB_EVENTS",
    "MAX_INLINE_INPUT",
    "MINILM_L6_V2",
    "SENTIMENT_MINILM",
    "Artifact",
    "AssayClient",
    "AssayError",
    "AsyncAssayClient",
    "AsyncJob",
    "BatchFormatError",
    "ChainError",
    "ChainMismatch",
    "ConfigError",
    "ContractRevert",
    "Deployment",
    "DeploymentNotFound",
    "FeeCapExceeded",
    "InsufficientFunds",
    "Job",
    "JobError",
    "JobEvent",
    "JobInfo",
    "JobNotCompleted",
    "JobPhase",
    "JobResult",
    "JobTerms",
    "JobTimeout",
    "ModelManifest",
    "NoWorkerAvailable",
    "PayloadTooLarge",
    "Refund",
    "RegisteredModel",
    "ResultMismatch",
    "Signer",
    "StakeInfo",
    "Storage",
    "StorageError",
    "TransactionFailed",
    "TxManager",
    "TxPolicy",
    "UnsafeURI",
    "batch",
    "check_uri",
    "commitment_of",
    "content_hash",
    "errors",
    "fetch_payload",
    "gas_cost",
    "load_artifact",
    "load_keystore",
    "storage",
]
