"""Gas per lifecycle step on a local anvil chain, for docs/benchmarks.md.

source scripts/setup.sh && python scripts/bench_gas.py
"""

from __future__ import annotations

from assay import ECHO, AssayClient, content_hash
from assay._deploy import MarketParams, deploy_contracts
from assay.devnet import ANVIL_KEYS, Anvil
from eth_account import Account
from web3 import Web3

REWARD = 10**16
BATCH = 50  # inputs in the batch job


def travel(w3: Web3, seconds: int) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def main() -> None:
    with Anvil() as chain:
        w3 = chain.w3
        params = MarketParams(treasury=Account.from_key(ANVIL_KEYS[5]).address, challenge_window=60)
        deployment = deploy_contracts(w3, Account.from_key(ANVIL_KEYS[0]), params)
        requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment)
        worker = AssayClient(w3, ANVIL_KEYS[2], deployment=deployment)
        rows: list[tuple[str, int]] = [("stake (first)", worker.stake(10**18)["gasUsed"])]
        rows.append(("joinModel", worker.transact(worker.registry.functions.joinModel(ECHO.model_id))["gasUsed"]))
        sentence = b"Assay pays GPU owners for verified inference."  # 45 bytes, as in the demo
        uri = "http://127.0.0.1:8600/results/0x" + "ab" * 32
        for round_ in ("first job", "steady state"):
            job = requester.post_job(ECHO, sentence, reward=REWARD)
            steps = [("postJob (45-byte input)", job.receipt["gasUsed"])]  # type: ignore[index]
            submitted = worker.submit_result(job, content_hash(b"r"), uri)
            steps.append(("submitResult (takes the slot)", submitted["gasUsed"]))
            travel(w3, 60)
            steps.append(("settle", worker.settle(job)["gasUsed"]))
            rows += [(f"{name} [{round_}]", gas) for name, gas in steps]
            rows.append((f"lifecycle total [{round_}]", sum(gas for _, gas in steps)))
        texts = [f"{sentence[:40].decode()} {n:04d}" for n in range(BATCH)]  # 45 bytes each
        for where, uri_of_input in (("inline", None), ("by URI", "https://inputs.example/batch-1")):
            job = requester.post_batch(ECHO, texts, reward=REWARD, input_uri=uri_of_input)
            steps = [(f"postJob ({BATCH} inputs)", job.receipt["gasUsed"])]  # type: ignore[index]
            steps.append(("submitResult", worker.submit_result(job, content_hash(b"r"), uri)["gasUsed"]))
            travel(w3, 60)
            steps.append(("settle", worker.settle(job)["gasUsed"]))
            rows += [(f"{name} [batch, input {where}]", gas) for name, gas in steps]
            total = sum(gas for _, gas in steps)
            rows.append((f"lifecycle total [batch, input {where}]", total))
            rows.append((f"  per input [batch, input {where}]", total // BATCH))
        rows.append(("withdraw (worker)", worker.withdraw()["gasUsed"]))
        job = requester.post_job(ECHO, sentence, reward=REWARD, claim_timeout=30, result_timeout=60)
        travel(w3, 31)
        rows.append(("settle (untaken: refund + no-show penalty)", job.refund()["gasUsed"]))
        job = requester.post_job(ECHO, sentence, reward=REWARD, claim_timeout=30, result_timeout=60)
        worker.accept(job)
        travel(w3, 61)
        rows.append(("settle (missed deadline, slash)", job.refund()["gasUsed"]))
        job = requester.post_job(ECHO, sentence, reward=REWARD)
        rows.append(("cancel", job.cancel()["gasUsed"]))
        rows.append(("requestUnstake", worker.request_unstake(10**17)["gasUsed"]))
        for name, gas in rows:
            print(f"{name:<56}{gas:>10,}")


if __name__ == "__main__":
    main()
