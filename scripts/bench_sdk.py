"""SDK overhead against raw web3 calls doing the same work, on a local anvil chain.

    source scripts/setup.sh && python scripts/bench_sdk.py [--jobs 100]

post: `client.post_job` vs building, signing, sending and waiting for `postJob` with web3.
wait: `job.wait()` on a settled job vs the raw reads it needs (job count, phase, the JobSettled
and ResultSubmitted logs, an HTTP fetch of the payload and its keccak256)."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
from assay import ECHO, AssayClient, content_hash
from assay._deploy import MarketParams, deploy_contracts
from assay.devnet import ANVIL_KEYS, Anvil
from assay_worker.api import ApiServer, create_app
from assay_worker.results import ResultStore
from eth_account import Account


def timed(action: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(name: str, sdk: list[float], raw: list[float]) -> None:
    s, r = statistics.median(sdk), statistics.median(raw)
    print(f"{name:<6} sdk {s:7.2f} ms   raw web3 {r:7.2f} ms   overhead {s - r:+6.2f} ms ({s / r:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100)
    runs = parser.parse_args().jobs
    with Anvil() as chain, TemporaryDirectory() as tmp:
        w3 = chain.w3
        deployment = deploy_contracts(w3, Account.from_key(ANVIL_KEYS[0]), MarketParams(challenge_window=1))
        client = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment)
        account = Account.from_key(ANVIL_KEYS[1])
        market = client.market

        def raw_post() -> None:
            now = w3.eth.get_block("latest")["timestamp"]
            zero = "0x" + "00" * 20
            request = (ECHO.model_id, zero, 10**15, 1, now + 600, now + 1200, zero, 0, bytes(32), [])
            tx = market.functions.postJob(request, b"bench", "").build_transaction(
                {"from": account.address, "value": 10**15, "nonce": w3.eth.get_transaction_count(account.address)}
            )
            w3.eth.wait_for_transaction_receipt(
                w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
            )

        report("post", timed(lambda: client.post_job(ECHO, b"bench", reward=10**15), runs), timed(raw_post, runs))

        # one settled job with a served result, read again and again
        store = ResultStore(Path(tmp))
        server = ApiServer(create_app(store, dict), "127.0.0.1", 0)
        server.start()
        worker = AssayClient(w3, ANVIL_KEYS[2], deployment=deployment)
        worker.stake(10**18)
        worker.join_model(ECHO)
        job = client.post_job(ECHO, b"bench", reward=10**15)
        payload = b'{"text":"bench"}'
        digest = store.put(payload)
        uri = f"http://127.0.0.1:{server.port}/results/0x{digest.hex()}"
        worker.submit_result(job, digest, uri)
        w3.provider.make_request("evm_increaseTime", [2])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        worker.settle(job)
        terms = job.terms.as_tuple()

        def raw_wait() -> None:
            assert market.functions.jobCount().call() >= job.id
            assert market.functions.phaseOf(job.id, terms).call() == 7
            (settled,) = market.events.JobSettled.get_logs(from_block=0, argument_filters={"jobId": job.id})
            (log,) = market.events.ResultSubmitted.get_logs(from_block=0, argument_filters={"jobId": job.id})
            body = httpx.get(log["args"]["resultURI"]).content
            assert content_hash(body) == bytes(settled["args"]["resultHash"])

        report("wait", timed(lambda: job.wait(timeout=5), runs), timed(raw_wait, runs))
        server.stop()


if __name__ == "__main__":
    main()
