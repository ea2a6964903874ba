"""Assay end to end on a local chain: deploy, start a worker serving all-MiniLM-L6-v2, post an
embedding job, wait for the verified result, and show every transaction and balance; then a
batch job (many inputs, one job) and its gas per input.

Run through scripts/demo.sh, which sets everything up first. Leaves no process behind."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from assay import MINILM_L6_V2, AssayClient, JobPhase, content_hash
from assay._deploy import MarketParams, deploy_contracts
from assay.devnet import ANVIL_KEYS, Anvil, free_port
from assay_worker.launcher import WorkerProcess
from eth_account import Account
from web3 import Web3
from web3.types import TxReceipt

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".assay" / "demo"
REWARD = Web3.to_wei(0.01, "ether")
BATCH = [
    "GPU owners earn by serving inference.",
    "Idle graphics cards can be paid for running models.",
    "Verifiable results are checked against an on-chain hash.",
    "The requester's escrow pays the worker after the challenge window.",
    "A cat sleeps in the sun.",
    "Dogs like to chase balls in the park.",
    "It will rain in Paris tomorrow.",
    "The forecast says sunny skies this weekend.",
]


def eth(wei: int) -> str:
    return f"{Web3.from_wei(wei, 'ether'):.6f} ETH"


def heading(text: str) -> None:
    print(f"\n\033[1m{text}\033[0m", flush=True)


def step(text: str) -> float:
    print(f"  {text} ...", end="", flush=True)
    return time.monotonic()


def done(started: float) -> None:
    print(f" done ({time.monotonic() - started:.1f} s)", flush=True)


def job_receipts(client: AssayClient, job_id: int) -> list[tuple[str, str, TxReceipt]]:
    """(step, sender role, receipt) for each transaction of the job's lifecycle, from its events."""
    market = client.market.events
    rows = []
    for label, event in (("submitResult", market.ResultSubmitted), ("settle", market.JobSettled)):
        (log,) = event.get_logs(from_block=0, argument_filters={"jobId": job_id})
        rows.append((label, "worker", client.w3.eth.get_transaction_receipt(log["transactionHash"])))
    return rows


def run(sentence: str) -> None:
    shutil.rmtree(WORK, ignore_errors=True)  # a fresh chain every run: old journal and results are void
    WORK.mkdir(parents=True)
    heading("1. Local chain and contracts")
    started = step("starting anvil (1 s blocks)")
    with Anvil(block_time=1) as chain:
        done(started)
        w3 = chain.w3
        deployer, treasury = Account.from_key(ANVIL_KEYS[0]), Account.from_key(ANVIL_KEYS[5]).address
        started = step("deploying the Assay contracts and registering the built-in models")
        params = MarketParams(treasury=treasury, fee_bps=250, challenge_window=3)
        deployment = deploy_contracts(w3, deployer, params)
        path = deployment.save(WORK / "deployments")
        done(started)
        for name, address in json.loads(deployment.to_json())["contracts"].items():
            print(f"  {name:<17} {address}")
        print(f"  fee {params.fee_bps / 100:.2f}%, challenge window {params.challenge_window} s; wrote {path}")

        heading("2. Worker")
        started = step(f"starting a worker serving {MINILM_L6_V2.name}")
        worker = WorkerProcess(
            rpc_url=chain.url,
            key=ANVIL_KEYS[2],
            deployments=path,
            models=[MINILM_L6_V2.name],
            results_dir=WORK / "results",
            port=free_port(),
            log_path=WORK / "worker.log",
        )
        try:
            health = worker.wait_ready()
            done(started)
            print(f"  worker {health['address']} staked 0.1 ETH and joined the model's draws; log: {worker.log_path}")
            single_gas = show_job(chain, deployment, sentence, treasury)
            show_batch(chain, deployment, single_gas)
        finally:
            started = step("stopping the worker")
            code = worker.stop()
            done(started)
            if code != 0:
                print(f"  worker exited with code {code}; see {worker.log_path}")
        started = step("stopping anvil")
    done(started)


def show_job(chain: Anvil, deployment: object, sentence: str, treasury: str) -> int:
    """Post one job, follow it and show its transactions, result and balances; returns its gas."""
    w3 = chain.w3
    requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment)  # type: ignore[arg-type]
    worker_address = Account.from_key(ANVIL_KEYS[2]).address
    before = w3.eth.get_balance(requester.address)

    heading("3. Job")
    print(f"  input: {sentence!r}")
    job = requester.post_job(MINILM_L6_V2, sentence, reward=REWARD)
    assert job.receipt is not None
    print(f"  posted job {job.id} with {eth(REWARD)} escrowed (tx {job.receipt['transactionHash'].hex()[:18]}…)")
    print(f"  slot drawn by stake for worker {job.terms.assignees[0]}")

    def progress(phase: JobPhase, elapsed: float) -> None:
        print(f"  [{elapsed:5.1f} s] {phase.name.lower()}", flush=True)

    result = job.wait(timeout=180, on_progress=progress)

    heading("4. Transactions")
    rows = [("postJob", "requester", job.receipt), *job_receipts(requester, job.id)]
    print(f"  {'step':<14}{'from':<11}{'gas':>9}  tx")
    for label, role, receipt in rows:
        print(f"  {label:<14}{role:<11}{receipt['gasUsed']:>9,}  {receipt['transactionHash'].hex()[:18]}…")
    lifecycle = sum(int(r["gasUsed"]) for _, _, r in rows)
    print(f"  {'lifecycle':<25}{lifecycle:>9,}")

    heading("5. Verified result")
    record = result.json()
    vector = record["embedding"]
    print(f"  {record['model']}: {record['dimension']}-dimension embedding")
    print(f"  first values: [{', '.join(f'{x:+.4f}' for x in vector[:6])}, …]")
    print(f"  fetched from  {result.uri}")
    fetched, on_chain = content_hash(result.payload), job.info().result_hash
    print(f"  keccak256(payload) = 0x{fetched.hex()}")
    print(f"  on-chain hash      = 0x{on_chain.hex() if on_chain else '(none)'}")
    if fetched != on_chain:
        raise SystemExit("the fetched payload does not match the on-chain hash")
    print("  match: yes, the payload is exactly what the worker submitted on chain")

    heading("6. Balances moved")
    worker_earned = requester.balance(worker_address)
    fee = requester.balance(treasury)
    gas = sum(int(r["gasUsed"]) * int(r["effectiveGasPrice"]) for _, who, r in rows if who == "requester")
    spent = before - w3.eth.get_balance(requester.address)
    print(f"  requester paid   {eth(REWARD)} reward (+ {eth(gas)} gas; wallet down {eth(spent)})")
    print(f"  worker earned    {eth(worker_earned)} (withdrawable)")
    print(f"  protocol fee     {eth(fee)} to the treasury")
    balanced = worker_earned + fee == REWARD and spent == REWARD + gas
    print(f"  reward = worker + fee: {'yes' if balanced else 'NO'}")
    if not balanced:
        raise SystemExit("balances do not add up")
    return lifecycle


def show_batch(chain: Anvil, deployment: object, single_gas: int) -> None:
    """Post the BATCH sentences as one batch job and show what one job of many inputs costs."""
    requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployment)  # type: ignore[arg-type]
    heading("7. A batch job: many inputs, one job")
    job = requester.post_batch(MINILM_L6_V2, BATCH, reward=REWARD)
    assert job.receipt is not None
    print(f"  posted job {job.id}: {len(BATCH)} sentences in one job, {eth(REWARD)} for all of them")
    items = job.wait(timeout=180).items()  # hash-checked like any result
    vectors = [json.loads(item)["embedding"] for item in items]
    if len(vectors) != len(BATCH):
        raise SystemExit(f"{len(vectors)} embeddings for {len(BATCH)} inputs")
    rows = [job.receipt, *(receipt for _, _, receipt in job_receipts(requester, job.id))]
    gas = sum(int(r["gasUsed"]) for r in rows)
    print(f"  {len(vectors)} verified embeddings, one per input, from {len(rows)} transactions")
    print(f"  lifecycle gas {gas:,}: {gas // len(BATCH):,} per input")
    print(f"  (the job above took {single_gas:,}, more than a later job: it created the payees' balances)")
    for index, vector in enumerate(vectors[:4]):
        nearest = max((j for j in range(len(vectors)) if j != index), key=lambda j: _dot(vector, vectors[j]))
        print(f"  closest to {BATCH[index]!r}: {BATCH[nearest]!r}")


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))  # the embeddings are unit vectors: cosine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentence", default="Assay pays GPU owners for verified inference.")
    args = parser.parse_args()
    started = time.monotonic()
    try:
        run(args.sentence)
    except KeyboardInterrupt:
        print("\ninterrupted; worker and anvil stopped", file=sys.stderr)
        return 130
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
