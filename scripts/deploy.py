"""Deploy the Assay contracts and write <deployments>/<chainId>.json for clients and workers.

python scripts/deploy.py --rpc-url http://127.0.0.1:8545            # local anvil: dev key 0
ASSAY_DEPLOYER_KEY=0x... python scripts/deploy.py --rpc-url https://...  # any other chain
"""

from __future__ import annotations

import argparse
import os
import sys

from assay import AssayError
from assay._deploy import MarketParams, deploy_contracts
from assay.devnet import LOCAL_CHAIN_ID, dev_key
from eth_account import Account
from web3 import Web3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rpc-url", default=os.environ.get("ASSAY_RPC_URL", "http://127.0.0.1:8545"))
    parser.add_argument("--out", default=os.environ.get("ASSAY_DEPLOYMENTS", "deployments"), help="folder")
    parser.add_argument("--treasury", help="fee receiver (default: the deployer)")
    parser.add_argument("--fee-bps", type=int, default=MarketParams.fee_bps)
    parser.add_argument("--collateral-bps", type=int, default=MarketParams.collateral_bps)
    parser.add_argument("--min-collateral-wei", type=int, default=MarketParams.min_collateral)
    parser.add_argument("--challenge-window", type=int, default=MarketParams.challenge_window, help="seconds")
    parser.add_argument("--unstake-cooldown", type=int, default=MarketParams.unstake_cooldown, help="seconds")
    args = parser.parse_args()
    try:
        w3 = Web3(Web3.HTTPProvider(args.rpc_url, request_kwargs={"timeout": 30}))
        chain_id = w3.eth.chain_id
        key = os.environ.get("ASSAY_DEPLOYER_KEY") or (dev_key(0, chain_id) if chain_id == LOCAL_CHAIN_ID else None)
        if key is None:
            print("deploy: set ASSAY_DEPLOYER_KEY to the deployer's private key", file=sys.stderr)
            return 2
        params = MarketParams(
            treasury=args.treasury,
            fee_bps=args.fee_bps,
            collateral_bps=args.collateral_bps,
            min_collateral=args.min_collateral_wei,
            challenge_window=args.challenge_window,
            unstake_cooldown=args.unstake_cooldown,
        )
        deployment = deploy_contracts(w3, Account.from_key(key), params)
    except (AssayError, OSError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    path = deployment.save(args.out)
    print(f"JobMarket {deployment.job_market}\nStakingRegistry {deployment.staking}\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
