"""The worker's rounds against what real endpoints and long runs do: a restart long after a job
was seen but before it was taken, a reorg deeper than the blocks the worker remembers, JSON-RPC
error answers, a provider that refuses wide eth_getLogs ranges, and a commit whose receipt never
came (it may still land, so the job must not be run and committed again)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from assay import ECHO, AssayClient, Job, JobPhase, TxPolicy, commitment_of
from assay._events import EventDecoder
from assay._jobs import ZERO_ADDRESS
from assay.devnet import ANVIL_KEYS
from assay_worker.daemon import REORG_MARGIN, Worker, WorkerSettings
from assay_worker.metrics import metrics_text
from eth_account import Account
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import RPCEndpoint, RPCResponse

from .conftest import MARKET_PARAMS, local_market, metric_samples, time_travel
from .local_http import QuietHandler, local_server

REWARD = 10**15


@contextmanager
def in_process_worker(client: AssayClient, folder: Path, **settings: Any) -> Iterator[Worker]:
    """A worker driven round by round with `_poll_once` (no threads), its journal in `folder`."""
    worker = Worker(
        client,
        WorkerSettings(
            models=[ECHO.name],
            results_dir=str(folder / "results"),
            journal_path=str(folder / "journal.sqlite"),
            port=0,
            **settings,
        ),
    )
    try:
        yield worker
    finally:
        worker.model_thread.shutdown()
        worker.api.stop()
        worker.journal.close()
        worker.store.close()


@contextmanager
def staked_worker(folder: Path, **settings: Any) -> Iterator[tuple[AssayClient, Worker]]:
    """A fresh market, its requester, and an in-process worker with its stake in place."""
    with local_market(folder) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        client = AssayClient(chain.w3, ANVIL_KEYS[2], deployment=deployed)
        with in_process_worker(client, folder, **settings) as worker:
            worker._ensure_stake()
            yield requester, worker


def mine(w3: Web3, blocks: int = 1) -> None:
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def test_a_job_seen_but_not_yet_taken_survives_a_restart_many_blocks_later(tmp_path: Path) -> None:
    """Only taken jobs are journaled; the saved cursor stays at the posting block of any job still
    waiting (here for a fuller batch), so a restart scans it again instead of missing it (a drawn
    worker that misses its job pays the no-show penalty)."""
    with local_market(tmp_path) as (chain, deployed):
        w3 = chain.w3
        requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployed)
        client = AssayClient(w3, ANVIL_KEYS[2], deployment=deployed)
        with in_process_worker(client, tmp_path, batch_size=16, batch_wait=600.0) as first:
            first._ensure_stake()
            job = requester.post_job(ECHO, "wait for a fuller batch", reward=REWARD)
            assert job.receipt is not None and job.terms.assignees == (client.address,)
            first._poll_once()
            assert job.id in first.views and first.journal.get(job.id) is None
            for _ in range(REORG_MARGIN + 8):
                mine(w3)
                first._poll_once()
            assert first.cursor > job.receipt["blockNumber"] + REORG_MARGIN
            assert first.journal.cursor == job.receipt["blockNumber"]
        with in_process_worker(client, tmp_path, batch_size=1) as second:
            second._poll_once()
            entry = second.journal.get(job.id)
            assert entry is not None and entry.state == "submitted"
        assert job.status() == JobPhase.CHALLENGEABLE


def test_a_reorg_rescans_every_block_after_the_newest_one_that_survived(
    w3: Web3, deployment: Any, tmp_path: Path
) -> None:
    """The worker remembers only some scanned blocks' hashes: when the newest remembered block
    still matches and a later one does not, the blocks between them are scanned again too."""
    with in_process_worker(AssayClient(w3, ANVIL_KEYS[2], deployment=deployment), tmp_path) as worker:
        mine(w3, 12)
        head = w3.eth.block_number
        kept, replaced = head - 10, head
        worker.block_hashes = {kept: w3.eth.get_block(kept)["hash"], replaced: bytes(32)}
        worker.cursor = head + 1
        worker._detect_reorg()
        assert worker.cursor == kept + 1 and worker.counters.reorgs == 1
        assert set(worker.block_hashes) == {kept}

        worker.block_hashes = {kept: bytes(32), replaced: bytes(32)}  # none survived
        worker.cursor = head + 1
        worker._detect_reorg()
        assert worker.cursor == max(deployment.start_block, kept - REORG_MARGIN)

        # the block whose logs were just scanned is gone, or another block, when its hash is read
        # after them: the chain was reorganised in between, so it is scanned again, not remembered
        worker.block_hashes = {kept: w3.eth.get_block(kept)["hash"]}
        now = w3.eth.get_block(head)["hash"]
        worker.cursor = head + 6
        worker._remember_block(head + 5, now)  # past the head: what a shortened chain answers
        assert worker.cursor == head + 5 and worker.counters.reorgs == 3
        worker.cursor = head + 1
        worker._remember_block(head, bytes(32))  # the scan saw another block at this height
        assert worker.cursor == head and worker.counters.reorgs == 4
        assert set(worker.block_hashes) == {kept}
        worker._remember_block(head, now)
        assert worker.block_hashes[head] == now and worker.counters.reorgs == 4


def refuse(w3: Web3, monkeypatch: pytest.MonkeyPatch, method: str, error: dict[str, Any]) -> None:
    """Make the node behind `w3` answer `method` with the JSON-RPC `error` (in an HTTP 200 answer,
    as providers do)."""
    answer = w3.provider.make_request

    def make_request(called: RPCEndpoint, params: Any) -> RPCResponse:
        if called == method:
            return {"jsonrpc": "2.0", "id": 1, "error": error}  # type: ignore[typeddict-item]
        return answer(called, params)

    monkeypatch.setattr(w3.provider, "make_request", make_request)


def test_a_json_rpc_error_answer_fails_the_round_without_stopping_the_worker(
    w3: Web3, deployment: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = AssayClient(w3, ANVIL_KEYS[2], deployment=deployment)
    with in_process_worker(client, tmp_path) as worker:
        worker._poll_once()
        assert worker.failed_rounds == 0
        with monkeypatch.context() as patched:
            refuse(w3, patched, "eth_getLogs", {"code": -32005, "message": "daily request count exceeded"})
            mine(w3)
            worker._poll_once()  # before the fix, Web3RPCError escaped run() and the worker exited
            assert worker.failed_rounds == 1 and worker.counters.rpc_errors == 1
        mine(w3)
        worker._poll_once()
        assert worker.failed_rounds == 0


class RangeCappedRpc:
    """A JSON-RPC proxy in front of anvil that refuses eth_getLogs over more than `cap` blocks
    with a JSON-RPC error in an HTTP 200 answer, as public providers do."""

    def __init__(self, upstream: str, cap: int) -> None:
        self.refused = 0
        proxy = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = json.loads(body)
                if isinstance(request, dict) and request["method"] == "eth_getLogs":
                    query = request["params"][0]
                    if int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1 > cap:
                        proxy.refused += 1
                        error = {"code": -32005, "message": f"query exceeds max block range {cap}"}
                        self.send_json(json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": error}).encode())
                        return
                upstream_answer = httpx.post(upstream, content=body, headers={"Content-Type": "application/json"})
                self.send_json(upstream_answer.content)

        self.server, self.url = local_server(Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_refused_log_range_is_read_again_in_smaller_pages(w3: Web3, deployment: Any) -> None:
    requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment)
    job = requester.post_job(ECHO, "found through a small-range provider", reward=REWARD)
    mine(w3, 40)
    proxy = RangeCappedRpc(w3.provider.endpoint_uri, cap=16)  # type: ignore[attr-defined]
    try:
        capped = Web3(Web3.HTTPProvider(proxy.url))
        decoder = EventDecoder(deployment.market, requester.market.abi)
        head = w3.eth.block_number
        through_proxy = list(decoder.scan(capped, deployment.start_block, head))
        assert proxy.refused >= 1 and decoder.page <= 16
        direct = list(EventDecoder(deployment.market, requester.market.abi).scan(w3, deployment.start_block, head))
        assert through_proxy == direct
        assert any(event.name == "JobPosted" and event.job_id == job.id for event in through_proxy)
        refused = proxy.refused
        list(decoder.scan(capped, deployment.start_block, head))
        assert proxy.refused == refused  # the smaller page is kept: no range is refused twice
    finally:
        proxy.close()


def test_a_log_read_failing_for_another_reason_keeps_the_page_size(
    w3: Web3, deployment: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node behind the head ('header not found') refuses any range: that is no reason to read
    one block at a time from then on."""
    decoder = EventDecoder(deployment.market, AssayClient(w3, None, deployment=deployment).market.abi)
    refuse(w3, monkeypatch, "eth_getLogs", {"code": -32000, "message": "header not found"})
    head = w3.eth.block_number
    with pytest.raises(Web3RPCError, match="header not found"):
        list(decoder.scan(w3, head - 1, head))
    assert decoder.page == 2_000


@pytest.mark.parametrize("cancellable", [False, True])
def test_a_commit_without_a_receipt_is_not_run_and_committed_again_while_it_may_land(
    tmp_path: Path, cancellable: bool
) -> None:
    """A commit whose receipt wait timed out may still be mined. Running the job again could give
    another result (GPU float order, sampling) under the journaled salt; if the first commit then
    landed, the worker could never reveal it and would be slashed. So the worker waits until none
    of its transactions is pending. The transaction manager frees a timed-out nonce with an empty
    self-transfer at higher fees when the fee cap leaves room (`cancellable`): then that lands, the
    job is run and committed afresh; without room the first commit lands late. Either way the
    worker reveals what the chain holds."""
    params = dataclasses.replace(MARKET_PARAMS, reveal_window=600)
    with local_market(tmp_path, params) as (chain, deployed):
        w3 = chain.w3
        rpc = w3.provider.make_request
        requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployed)
        other = AssayClient(w3, ANVIL_KEYS[3], deployment=deployed)
        other.stake(10**17)
        other.join_model(ECHO)
        rpc("evm_setIntervalMining", [0])  # type: ignore[arg-type]  # blocks only when asked for
        rpc("evm_setAutomine", [True])  # type: ignore[arg-type]
        base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
        # without room under the cap no replacement (nor cancellation) can be offered
        cap = None if cancellable else base_fee * 3 // 2
        impatient = TxPolicy(receipt_timeout=2, replace_after=1, max_fee_per_gas=cap)
        client = AssayClient(w3, ANVIL_KEYS[2], deployment=deployed, fees=impatient)
        # 100 times `other`'s stake, so the draw names our worker (with equal stakes it missed
        # both slots one time in 32: `other` in slot 0, then four draws of `other` for slot 1)
        with in_process_worker(client, tmp_path, stake=10**19) as worker:
            worker._ensure_stake()
            runtime = worker.runtimes[ECHO.model_id]
            runs: list[int] = []
            echo = runtime.run

            def differs_each_run(inputs: list[bytes]) -> list[bytes]:
                runs.append(len(inputs))
                return [out + b" run %d" % len(runs) for out in echo(inputs)]

            runtime.run = differs_each_run  # type: ignore[method-assign]
            job = requester.post_job(ECHO, "commit me once", reward=REWARD, redundancy=2)
            slot = job.terms.assignees.index(client.address)
            rpc("evm_setAutomine", [False])  # type: ignore[arg-type]
            worker._poll_once()  # runs the job, journals its commit, sends it: no receipt in 2 s
            first = worker.journal.get(job.id)
            assert first is not None and first.state == "committing" and runs == [1]
            assert first.result_hash is not None and first.salt is not None
            worker._poll_once()  # a transaction of ours is still pending: nothing is run or sent again
            again = worker.journal.get(job.id)
            assert runs == [1] and again is not None and again.result_hash == first.result_hash
            rpc("evm_setAutomine", [True])  # type: ignore[arg-type]
            mine(w3)
            on_chain = requester.market.functions.slotOf(job.id, slot).call()[1]
            landed = on_chain == commitment_of(job.id, client.address, first.result_hash, first.salt)
            assert landed is not cancellable and (on_chain == bytes(32)) is cancellable
            worker._poll_once()  # cancelled: run and committed afresh; else: its late commit is seen
            assert runs == ([1, 1] if cancellable else [1])
            # past two accept windows any serving worker may take the other slot (on a slow machine the
            # second round's re-draw could otherwise name our worker again, leaving `other` ineligible)
            time_travel(w3, 2 * params.accept_window)
            other.commit(job, 1 - slot, bytes(32), bytes(32))
            worker._poll_once()  # reveals
            worker._poll_once()
            entry = worker.journal.get(job.id)
            assert entry is not None and entry.state == "revealed", worker.journal.history(job.id)
            revealed = [e.args for e in job.history() if e.name == "ResultRevealed"]
            assert [(args["worker"], bytes(args["resultHash"])) for args in revealed] == [
                (client.address, entry.result_hash)
            ]


def idle_metric(worker: Worker) -> dict[str, float]:
    samples = metric_samples(metrics_text(worker).decode())
    return {reason: value for (name, reason), value in samples.items() if name == "assay_worker_idle"}


def test_the_worker_says_why_it_is_idle(tmp_path: Path) -> None:
    """No gas, too little free stake for any job, no open job, then working: each in the log,
    /health (`idle_reason`) and the `assay_worker_idle` metric."""
    with local_market(tmp_path) as (chain, deployed):
        w3 = chain.w3
        broke = AssayClient(w3, Account.create().key.to_0x_hex(), deployment=deployed)
        with in_process_worker(broke, tmp_path / "broke") as worker:
            worker._poll_once()
            assert worker.idle is not None and worker.idle.code == "no_gas"
            assert f"send ETH to {broke.address}" in worker.health()["idle_reason"]
            assert idle_metric(worker) == {"no_gas": 1}

        client = AssayClient(w3, ANVIL_KEYS[2], deployment=deployed)
        with in_process_worker(client, tmp_path / "funded", batch_size=1) as worker:
            worker._poll_once()
            assert worker.idle is not None and worker.idle.code == "low_stake"
            assert "free stake 0 wei is below" in worker.health()["idle_reason"]
            worker._ensure_stake()
            worker.idle_checked = None  # checked every IDLE_CHECK seconds: now, for the test
            worker._poll_once()
            assert worker.idle is not None and worker.idle.code == "no_jobs"
            assert idle_metric(worker) == {"no_jobs": 1}
            requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployed)
            requester.post_job(ECHO, "work at last", reward=REWARD)
            worker.idle_checked = None
            worker._poll_once()
            assert worker.idle is None and worker.health()["idle_reason"] is None
            assert idle_metric(worker) == {"none": 0}


def test_several_jobs_are_read_again_in_one_scan(w3: Web3, deployment: Any) -> None:
    """Jobs resumed after a restart are read back with one log filter naming all their ids."""
    requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployment)
    jobs = requester.post_jobs(ECHO, ["first", "second", "third"], reward=REWARD)
    decoder = EventDecoder(deployment.market, requester.market.abi)
    wanted = [jobs[0].id, jobs[2].id]
    events = list(decoder.scan(w3, deployment.start_block, w3.eth.block_number, wanted))
    assert {event.job_id for event in events} == set(wanted)
    assert sorted(event.job_id for event in events if event.name == "JobPosted") == wanted


def test_a_result_in_its_challenge_window_is_not_read_again_until_a_challenge_or_the_window_end(
    tmp_path: Path,
) -> None:
    """Until its challenge window ends, a submitted single-slot job's phase changes only by a
    challenge, an event the worker scans anyway: so the worker stops reading it (a worker holding
    thousands of results in their windows sent an eth_call for each of them every round). A
    challenge makes it read the job in the same round; the window's end, too, and then it settles."""
    params = dataclasses.replace(MARKET_PARAMS, challenge_window=300)
    with local_market(tmp_path, params) as (chain, deployed):
        w3 = chain.w3
        requester = AssayClient(w3, ANVIL_KEYS[1], deployment=deployed)
        client = AssayClient(w3, ANVIL_KEYS[2], deployment=deployed)
        with in_process_worker(client, tmp_path, batch_size=1) as worker:
            worker._ensure_stake()
            challenged, left_alone = requester.post_jobs(ECHO, ["challenged later", "left alone"], reward=REWARD)
            phase_reads: list[int] = []
            read_batch = worker._read_batch

            def counting(calls: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
                phase_reads.extend(args[0] for name, args in calls if name == "phaseOf")
                return read_batch(calls)

            worker._read_batch = counting  # type: ignore[method-assign]
            worker._poll_once()
            assert sorted(phase_reads) == [challenged.id, left_alone.id]
            assert [worker.journal.get(job.id).state for job in (challenged, left_alone)] == ["submitted"] * 2  # type: ignore[union-attr]

            phase_reads.clear()
            lookups: list[int] = []  # nor is its journal entry looked up again and again
            journal_get = worker.journal.get

            def counting_get(job_id: int) -> Any:
                lookups.append(job_id)
                return journal_get(job_id)

            worker.journal.get = counting_get  # type: ignore[method-assign]
            mine(w3)
            worker._poll_once()
            worker._poll_once()
            assert phase_reads == []
            assert len(lookups) == len(set(lookups))  # once at most: it agreed with the chain
            lookups.clear()
            worker._poll_once()
            assert lookups == []

            # a verifier serving the model (joined after the draw, so both jobs went to our worker)
            verifier = AssayClient(w3, ANVIL_KEYS[3], deployment=deployed)
            verifier.stake(10**17)
            verifier.join_model(ECHO)
            view = worker.views[challenged.id]
            outcome = (client.address, view.result_hash, ZERO_ADDRESS)
            challenge = verifier.market.functions.challenge(challenged.id, challenged.terms.as_tuple(), outcome)
            verifier.transact(challenge, value=challenged.terms.collateral)
            worker._poll_once()
            assert phase_reads == [challenged.id]
            assert (
                requester.market.functions.phaseOf(challenged.id, challenged.terms.as_tuple()).call()
                == JobPhase.DISPUTED
            )

            phase_reads.clear()
            time_travel(w3, params.challenge_window + 1)
            worker._poll_once()
            assert left_alone.id in phase_reads
            worker._poll_once()
            entry = worker.journal.get(left_alone.id)
            assert entry is not None and entry.state == "settled", worker.journal.history(left_alone.id)


def test_a_rounds_last_batch_runs_on_while_the_next_round_reads_the_jobs_posted_meanwhile(tmp_path: Path) -> None:
    """When jobs were posted while a round ran, its last batch is not waited for at the round's
    end: the next round reads the new jobs while the model runs it, then submits it. With none
    posted it is submitted in its own round (a single job's latency); a stop submits it too."""
    with local_market(tmp_path) as (chain, deployed):
        requester = AssayClient(chain.w3, ANVIL_KEYS[1], deployment=deployed)
        client = AssayClient(chain.w3, ANVIL_KEYS[2], deployment=deployed)
        with in_process_worker(client, tmp_path, batch_size=1) as worker:
            worker._ensure_stake()
            prepare = worker._prepare
            to_post: list[str] = []  # posted by the requester while the worker prepares a batch
            posted = []

            def posting_meanwhile(model_id: bytes, batch: list[Any]) -> Any:
                prepared = prepare(model_id, batch)
                if to_post:
                    posted.append(requester.post_job(ECHO, to_post.pop(0), reward=REWARD))
                return prepared

            def running() -> list[int]:
                return [view.job_id for batch in worker.pipeline for view, _, _ in batch.ready]

            worker._prepare = posting_meanwhile  # type: ignore[method-assign]
            first = requester.post_job(ECHO, "first", reward=REWARD)
            to_post[:] = ["second", "third"]
            worker._poll_once()
            assert running() == [first.id]
            assert worker.journal.get(first.id).state == "working"  # type: ignore[union-attr]

            worker._poll_once()  # takes the second (while the third is posted): the first goes out
            assert worker.journal.get(first.id).state == "submitted"  # type: ignore[union-attr]
            assert running() == [posted[0].id]

            worker._poll_once()  # takes the third, and nothing was posted meanwhile: submitted at once
            assert running() == []
            assert [worker.journal.get(job.id).state for job in posted] == ["submitted"] * 2  # type: ignore[union-attr]

            last = requester.post_job(ECHO, "left running at a stop", reward=REWARD)
            to_post[:] = ["posted at the stop"]
            worker._poll_once()
            assert running() == [last.id]
            worker.stop()
            worker.run()  # stopping already: no round runs, and the batch left running is submitted
            assert last.status() == JobPhase.CHALLENGEABLE
        with in_process_worker(client, tmp_path) as restarted:  # the journal says so too
            assert restarted.journal.get(last.id).state == "submitted"  # type: ignore[union-attr]


def test_a_part_filled_batch_waits_while_the_model_is_busy_for_jobs_posted_meanwhile(tmp_path: Path) -> None:
    """A model call costs a GPU about as much part-filled as full, so a part-filled batch is not
    queued behind a batch the model still runs: with jobs posted meanwhile it is left to the next
    round and filled up with them (one full call, not two part-filled ones); with none posted it
    is handed over before the worker waits for the batch ahead, so no job waits a round for it."""
    with staked_worker(tmp_path, batch_size=4) as (requester, worker):
        runtime = worker.runtimes[ECHO.model_id]
        run = runtime.run
        calls: list[int] = []  # inputs in each model call
        delay = [0.5]

        def slow_run(inputs: list[bytes]) -> list[bytes]:
            calls.append(len(inputs))
            time.sleep(delay[0])  # the model is still busy when the round reaches its last batch
            return run(inputs)

        runtime.run = slow_run  # type: ignore[method-assign]
        prepare = worker._prepare
        to_post: list[str] = []  # posted by the requester while the worker prepares a batch
        posted: list[Job] = []

        def posting_meanwhile(model_id: bytes, batch: list[Any]) -> Any:
            if to_post:
                posted.extend(requester.post_jobs(ECHO, to_post, reward=REWARD))
                to_post.clear()
            return prepare(model_id, batch)

        worker._prepare = posting_meanwhile  # type: ignore[method-assign]
        first = requester.post_jobs(ECHO, [f"first {n}" for n in range(5)], reward=REWARD)
        to_post[:] = [f"meanwhile {n}" for n in range(3)]
        worker._poll_once()  # runs 4; the fifth is held, then left to the next round
        assert worker.journal.get(first[4].id) is None  # not taken: nothing journaled yet
        worker._poll_once()  # the fifth and the three posted meanwhile: one full call
        assert calls == [4, 4]
        jobs = requester.jobs(requester.address)
        assert len(jobs) == 8
        assert [worker.journal.get(job.id).state for job in jobs] == ["submitted"] * 8  # type: ignore[union-attr]

        calls.clear()
        quiet = requester.post_jobs(ECHO, [f"quiet {n}" for n in range(5)], reward=REWARD)
        worker._poll_once()  # nothing posted meanwhile: the held one runs behind the first 4
        assert calls == [4, 1]
        assert [worker.journal.get(job.id).state for job in quiet] == ["submitted"] * 5  # type: ignore[union-attr]

        # the batch running is an earlier round's, so it is submitted this round: the held job goes
        # in behind it even though jobs were posted, or the model would idle until the next round
        delay[0] = 2.0  # busy all through the next round too
        older = requester.post_jobs(ECHO, [f"older {n}" for n in range(4)], reward=REWARD)
        to_post[:] = ["trickle"]
        worker._poll_once()  # runs the 4 while "trickle" is posted: they run on into the next round
        take = worker._take

        def posting_after_take(views: list[Any]) -> None:
            take(views)
            requester.post_job(ECHO, "more", reward=REWARD)

        worker._take = posting_after_take  # type: ignore[method-assign]
        worker._poll_once()  # "trickle" is held behind the 4, then handed over as they are submitted
        assert [worker.journal.get(job.id).state for job in older] == ["submitted"] * 4  # type: ignore[union-attr]
        assert worker.journal.get(posted[-1].id).state == "working"  # type: ignore[union-attr]


def test_two_batches_stay_on_the_model_thread_while_the_oldest_is_submitted(tmp_path: Path) -> None:
    """A transaction can take longer than a model call (a slow node, a busy block): one batch runs
    and the next waits behind it while the oldest's results are submitted, so the model does not
    idle meanwhile."""
    with staked_worker(tmp_path, batch_size=1) as (requester, worker):
        submit = worker._submit
        behind: list[int] = []  # batches left on the model thread as each one is submitted

        def counting(running: Any) -> None:
            behind.append(len(worker.pipeline))
            submit(running)

        worker._submit = counting  # type: ignore[method-assign]
        jobs = requester.post_jobs(ECHO, [f"job {n}" for n in range(4)], reward=REWARD)
        worker._poll_once()
        assert behind == [2, 2, 1, 0]
        assert [worker.journal.get(job.id).state for job in jobs] == ["submitted"] * 4  # type: ignore[union-attr]


def test_results_past_their_retention_are_deleted_unless_their_job_is_unfinished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with local_market(tmp_path) as (chain, deployed):
        client = AssayClient(chain.w3, ANVIL_KEYS[2], deployment=deployed)
        with in_process_worker(client, tmp_path, result_retention_days=30) as worker:
            done, pending, recent = worker.store.put_many([b"settled long ago", b"still in a dispute", b"recent"])
            worker.journal.record(1, "settled", result_hash=done)
            worker.journal.record(2, "submitted", result_hash=pending)
            worker._prune_results()  # nothing is 30 days old yet
            assert worker.store.get(done) == b"settled long ago"
            real_time = time.time
            with monkeypatch.context() as later:
                later.setattr(time, "time", lambda: real_time() + 31 * 86400)
                worker._prune_results()  # within the hour of the last pruning: not yet
                assert worker.store.get(done) == b"settled long ago"
                worker.pruned_at = None
                worker._prune_results()
            assert worker.store.get(done) is None
            assert worker.store.get(pending) == b"still in a dispute"
            assert worker.store.get(recent) is None  # 31 days old by then too, and no job holds it
