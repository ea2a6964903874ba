"""The example dApp end to end: the SentimentOracle contract posts jobs from Solidity, a real
worker runs the zero-shot MiniLM sentiment model, and the verified label reaches the contract
through the market's gas-capped callback."""

from __future__ import annotations

import time
from pathlib import Path

from assay import SENTIMENT_MINILM, AssayClient, load_artifact
from assay._deploy import deploy_artifact
from assay.devnet import ANVIL_KEYS
from eth_account import Account
from eth_utils.crypto import keccak
from web3.logs import DISCARD

from .conftest import local_market, worker_process

REWARD = 10**16
QUESTIONS = {
    "The service was fantastic and the staff were kind.": b"positive",
    "My flight was cancelled and I lost my luggage.": b"negative",
}


def test_sentiment_oracle_gets_verified_labels_from_a_real_worker(tmp_path: Path) -> None:
    with local_market(tmp_path) as (chain, deployed):
        w3 = chain.w3
        dapp_user = AssayClient(w3, ANVIL_KEYS[1], deployment=deployed)
        address = deploy_artifact(
            w3, Account.from_key(ANVIL_KEYS[0]), "SentimentOracle", deployed.market, SENTIMENT_MINILM.model_id
        )
        oracle = w3.eth.contract(address=address, abi=load_artifact("SentimentOracle").abi)
        worker = worker_process(chain, tmp_path, models=(SENTIMENT_MINILM.name,))
        try:
            worker.wait_ready(timeout=120)
            now = w3.eth.get_block("latest")["timestamp"]
            asked = {}
            for text in QUESTIONS:
                receipt = dapp_user.transact(oracle.functions.ask(text, now + 600, now + 1200), value=REWARD)
                (event,) = oracle.events.Asked().process_receipt(receipt, errors=DISCARD)
                asked[event["args"]["jobId"]] = text
            deadline = time.monotonic() + 120
            answers = {}
            while len(answers) < len(asked):
                assert time.monotonic() < deadline, worker.log_text()[-3000:]
                for job_id in asked:
                    answer = oracle.functions.answerOf(job_id).call()
                    if answer[2]:  # settled
                        answers[job_id] = answer
                time.sleep(0.5)
        finally:
            assert worker.stop() == 0

        worker_address = Account.from_key(ANVIL_KEYS[2]).address
        for job_id, text in asked.items():
            asker, reward, settled, success, result_hash, label = answers[job_id]
            assert (asker, reward, settled, success) == (dapp_user.address, REWARD, True, True)
            assert label == QUESTIONS[text] and result_hash == keccak(label)
            assert dapp_user.job(job_id).info().worker == worker_address
        assert not dapp_user.market.events.CallbackFailed.get_logs(from_block=0)
        assert oracle.functions.refundOf(dapp_user.address).call() == 0
