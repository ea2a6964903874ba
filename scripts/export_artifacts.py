"""Compile the contracts with forge and copy their ABI + bytecode into the Python package.

python scripts/export_artifacts.py          # rewrite client/assay/artifacts/*.json
python scripts/export_artifacts.py --check  # exit 1 if the shipped artifacts are stale
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from assay._artifacts import CONTRACTS  # the list the SDK loads is the list exported

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "out"
TARGET = ROOT / "client" / "assay" / "artifacts"


def render(name: str) -> str:
    compiled = json.loads((OUT / f"{name}.sol" / f"{name}.json").read_text())
    # library placeholders (`__$…$__`) stay in the bytecode; the deployer links them
    artifact = {
        "contractName": name,
        "abi": compiled["abi"],
        "bytecode": compiled["bytecode"]["object"],
        "linkReferences": compiled["bytecode"].get("linkReferences", {}),
    }
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when stale")
    args = parser.parse_args()
    subprocess.run(["forge", "build", "--quiet", "--skip", "test"], cwd=ROOT, check=True)
    stale = []
    for name in CONTRACTS:
        path = TARGET / f"{name}.json"
        text = render(name)
        if path.exists() and path.read_text() == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text)
    if args.check and stale:
        print(f"stale artifacts: {', '.join(stale)}; run python scripts/export_artifacts.py", file=sys.stderr)
        return 1
    print("artifacts " + ("stale" if stale and args.check else "up to date" if not stale else "written"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
