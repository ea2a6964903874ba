"""Where the Assay contracts live on each chain: one JSON file per chain id,
`<dir>/<chainId>.json`, written by the deploy script and read by clients and workers."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from ._errors import DeploymentNotFound

LOCAL_CHAIN_ID = 31337
"""Chain id of anvil and other local development chains."""

DEFAULT_DIR = Path("deployments")
ENV_VAR = "ASSAY_DEPLOYMENTS"
ARBITER_KINDS = ("TrustedArbiter", "CommitteeArbiter")


@dataclass(frozen=True)
class Deployment:
    """Addresses of one Assay deployment and the block it started at (where log scans begin)."""

    chain_id: int
    market: ChecksumAddress
    registry: ChecksumAddress
    models: ChecksumAddress
    arbiter: ChecksumAddress
    start_block: int
    arbiter_kind: str = "TrustedArbiter"

    def to_json(self) -> str:
        contracts = {
            "AssayMarket": self.market,
            "WorkerRegistry": self.registry,
            "ModelRegistry": self.models,
            self.arbiter_kind: self.arbiter,
        }
        return json.dumps({"chainId": self.chain_id, "startBlock": self.start_block, "contracts": contracts}, indent=2)

    def save(self, directory: str | os.PathLike[str] = DEFAULT_DIR) -> Path:
        """Write `<directory>/<chainId>.json` atomically and return its path."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.chain_id}.json"
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as tmp:
            tmp.write(self.to_json() + "\n")
        os.replace(tmp.name, path)
        return path

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Deployment:
        try:
            data = json.loads(Path(path).read_text())
            contracts = data["contracts"]
            kinds = [kind for kind in ARBITER_KINDS if kind in contracts]
            if len(kinds) != 1:
                raise KeyError(f"one of {', '.join(ARBITER_KINDS)}")
            return cls(
                chain_id=int(data["chainId"]),
                market=to_checksum_address(contracts["AssayMarket"]),
                registry=to_checksum_address(contracts["WorkerRegistry"]),
                models=to_checksum_address(contracts["ModelRegistry"]),
                arbiter=to_checksum_address(contracts[kinds[0]]),
                start_block=int(data.get("startBlock", 0)),
                arbiter_kind=kinds[0],
            )
        except FileNotFoundError:
            raise DeploymentNotFound(f"no deployments file at {path}") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise DeploymentNotFound(f"deployments file {path} is malformed: {exc!r}") from exc

    @classmethod
    def for_chain(cls, chain_id: int, location: str | os.PathLike[str] | None = None) -> Deployment:
        """Find the deployment for `chain_id` in `location` (a file or a folder), else in the
        folder named by $ASSAY_DEPLOYMENTS, else in ./deployments."""
        where = Path(location or os.environ.get(ENV_VAR) or DEFAULT_DIR)
        path = where if where.suffix == ".json" else where / f"{chain_id}.json"
        if not path.exists():
            raise DeploymentNotFound(
                f"no Assay deployment for chain {chain_id}: {path} does not exist. "
                f"Deploy with `assay deploy` (or `assay devnet up` locally) or point {ENV_VAR} at the folder."
            )
        return cls.from_file(path)
