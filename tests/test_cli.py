"""The `assay` command line, driven as a subprocess against a devnet it starts itself."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from assay import ECHO, AssayClient
from assay.devnet import ANVIL_KEYS, free_port
from assay_worker.launcher import WorkerProcess
from eth_account import Account

REQUESTER = Account.from_key(ANVIL_KEYS[1]).address


def assay(
    cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["assay", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env or os.environ.copy()
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def assay_json(cwd: Path, *args: str) -> Any:
    return json.loads(assay(cwd, *args, "--json").stdout)


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    cwd = tmp_path_factory.mktemp("cli")
    port = free_port()
    state = json.loads(assay(cwd, "devnet", "up", "--port", str(port), "--challenge-window", "2", "--json").stdout)
    os.environ["ASSAY_RPC_URL"] = state["rpc_url"]
    try:
        yield cwd, state["rpc_url"]
    finally:
        assay(cwd, "devnet", "down")
        del os.environ["ASSAY_RPC_URL"]
        with pytest.raises(ProcessLookupError):
            os.kill(state["pid"], 0)


def test_devnet_up_writes_deployment_and_refuses_a_second_one(devnet: tuple[Path, str]) -> None:
    cwd, _ = devnet
    deployment = json.loads((cwd / "deployments" / "31337.json").read_text())
    assert set(deployment["contracts"]) == {"AssayMarket", "WorkerRegistry", "ModelRegistry", "TrustedArbiter"}
    second = assay(cwd, "devnet", "up", check=False)
    assert second.returncode == 2 and "already running" in second.stderr


def test_deploy_writes_a_second_deployment(devnet: tuple[Path, str], tmp_path: Path) -> None:
    record = assay_json(devnet[0], "--dev-account", "0", "deploy", "--out", str(tmp_path), "--fee-bps", "100")
    saved = json.loads((tmp_path / "31337.json").read_text())
    assert saved["contracts"] == record["contracts"]
    assert set(record["contracts"]) == {"AssayMarket", "WorkerRegistry", "ModelRegistry", "TrustedArbiter"}
    too_high = assay(
        devnet[0], "--dev-account", "0", "deploy", "--out", str(tmp_path / "x"), "--fee-bps", "5000", check=False
    )
    assert too_high.returncode == 1, too_high.stderr
    assert "fee_bps must be between 0 and 1000" in too_high.stderr and "Traceback" not in too_high.stderr
    assert not (tmp_path / "x").exists()


def test_models_list_register_and_builtin(devnet: tuple[Path, str], tmp_path: Path) -> None:
    cwd, _ = devnet
    echo = {
        "name": ECHO.name,
        "model_id": "0x" + ECHO.model_id.hex(),
        "runtime": "echo",
        "memory_mb": None,
        "verification": "exact",
        "audit_bps": ECHO.audit_bps,
        "min_collateral_wei": ECHO.min_collateral,
    }
    assert echo in assay_json(cwd, "models", "list", "--builtin")
    offline = assay(cwd, "--rpc-url", "http://127.0.0.1:9", "models", "list", "--builtin", "--json")
    assert echo in json.loads(offline.stdout)  # built-ins need no chain

    registered = assay_json(cwd, "models", "list")
    assert (echo | {"registrant": Account.from_key(ANVIL_KEYS[0]).address}) in registered  # devnet up registers them
    manifest = {"name": "acme/classifier-v2", "runtime": "onnx", "weights_digest": "sha256:" + "ab" * 32}
    terms = {"verification": "classifier", "audit_bps": 250, "memory_mb": 900}
    (tmp_path / "model.json").write_text(json.dumps(manifest | terms))
    added = assay_json(cwd, "--dev-account", "3", "models", "register", str(tmp_path / "model.json"))
    (listed,) = [m for m in assay_json(cwd, "models", "list") if m["model_id"] == added["model_id"]]
    assert listed["name"] == "acme/classifier-v2" and listed["verification"] == "classifier"
    assert listed["audit_bps"] == 250 and listed["memory_mb"] == 900
    assert listed["registrant"] == Account.from_key(ANVIL_KEYS[3]).address
    text = assay(cwd, "models", "list").stdout
    assert "acme/classifier-v2" in text and "audit 250 bps" in text
    bad = assay(cwd, "--dev-account", "3", "models", "register", str(tmp_path / "absent.json"), check=False)
    assert bad.returncode == 2 and "neither a built-in model" in bad.stderr
    posted = assay(cwd, "--dev-account", "3", "job", "post", added["model_id"], "x", "--reward", "0.01")
    status = assay_json(cwd, "job", "status", posted.stdout.strip())
    assert status["model_id"] == added["model_id"]
    table = assay(cwd, "job", "status", posted.stdout.strip()).stdout  # tables go to stdout, for pipes
    assert "assigning" in table and added["model_id"] in table


def test_post_wait_status_list_with_a_real_worker(devnet: tuple[Path, str], tmp_path: Path) -> None:
    cwd, rpc_url = devnet
    worker = WorkerProcess(
        rpc_url=rpc_url,
        key=ANVIL_KEYS[2],
        deployments=cwd / "deployments",
        models=[ECHO.name],
        results_dir=tmp_path / "results",
        port=free_port(),
        log_path=tmp_path / "worker.log",
    )
    try:
        worker.wait_ready()
        posted = assay_json(cwd, "--dev-account", "1", "job", "post", ECHO.name, "from the cli", "--reward", "0.01")
        result = assay_json(cwd, "job", "wait", str(posted["id"]), "--timeout", "60")
        lines = tmp_path / "inputs.txt"
        lines.write_text("first line\n\nsecond line\n")  # the empty line is no input
        batch = assay_json(
            cwd, "--dev-account", "1", "job", "post", ECHO.name, "--batch-file", str(lines), "--reward", "0.01"
        )
        batch_result = assay_json(cwd, "job", "wait", str(batch["id"]), "--timeout", "60")
        printed = assay(cwd, "job", "wait", str(batch["id"])).stdout.splitlines()
    finally:
        assert worker.stop() == 0
        # a stopped worker would still be drawn for later tests' jobs on this devnet
        AssayClient(rpc_url, ANVIL_KEYS[2], deployment=cwd / "deployments").leave_model(ECHO)
    assert result["verified"] is True and json.loads(result["payload"])["text"] == "from the cli"
    assert "items" not in result
    assert [json.loads(item)["text"] for item in batch_result["items"]] == ["first line", "second line"]
    assert [json.loads(line)["text"] for line in printed] == ["first line", "second line"]
    status = assay_json(cwd, "job", "status", str(posted["id"]))
    assert status["phase"] == "closed" and status["success"] is True and status["reward_wei"] == 10**16
    listed = assay_json(cwd, "job", "list", "--requester", REQUESTER)
    assert posted["id"] in [job["id"] for job in listed]
    worker_balance = assay_json(cwd, "balance", Account.from_key(ANVIL_KEYS[2]).address)
    assert worker_balance["withdrawable_wei"] == 2 * 10**16 * 9_750 // 10_000  # the job and the batch job
    out = assay(cwd, "--dev-account", "2", "withdraw")
    assert "withdrew 0.0195 ETH" in out.stderr


def test_cancel_and_refund(devnet: tuple[Path, str]) -> None:
    cwd, _ = devnet
    job_id = assay(cwd, "--dev-account", "3", "job", "post", ECHO.name, "cancel me", "--reward", "0.01").stdout.strip()
    assay(cwd, "--dev-account", "3", "job", "cancel", job_id)
    status = assay_json(cwd, "job", "status", job_id)
    assert (status["phase"], status["success"]) == ("closed", False)
    again = assay(cwd, "--dev-account", "3", "job", "refund", job_id, check=False)
    assert again.returncode == 1 and ("MarketWrongStatus" in again.stderr or "MarketTermsMismatch" in again.stderr)
    nothing = assay(cwd, "--dev-account", "3", "job", "refund-expired")
    assert "none of your jobs is expired and unsettled" in nothing.stderr
    token = "0x" + "ab" * 20  # no balance of it: the market says so, by name
    no_token = assay(cwd, "--dev-account", "3", "withdraw", "--token", token, check=False)
    assert no_token.returncode == 1 and "MarketNothingToWithdraw" in no_token.stderr
    assert assay_json(cwd, "balance", Account.from_key(ANVIL_KEYS[3]).address)["withdrawable_wei"] == 10**16
    assert assay_json(cwd, "balance", Account.from_key(ANVIL_KEYS[3]).address.lower())["withdrawable_wei"] == 10**16
    mine = ["--dev-account", "3", "job", "list", "--mine"]
    assert int(job_id) in [job["id"] for job in assay_json(cwd, *mine, "--phase", "closed")]
    assert int(job_id) not in [
        job["id"] for job in assay_json(cwd, *mine, "--phase", "assigning", "--phase", "working")
    ]
    bad = assay(cwd, "job", "list", "--phase", "finished", check=False)
    assert bad.returncode == 2 and "'finished' is not one of" in bad.stderr


def test_job_events_past_and_followed(devnet: tuple[Path, str]) -> None:
    cwd, rpc_url = devnet
    job_id = assay(cwd, "--dev-account", "3", "job", "post", ECHO.name, "watch me", "--reward", "0.01").stdout.strip()
    assay(cwd, "--dev-account", "3", "job", "cancel", job_id)
    lines = assay(cwd, "job", "events", job_id, "--json").stdout.splitlines()
    history = [json.loads(line) for line in lines]
    assert [(e["event"], e["job_id"]) for e in history] == [("JobPosted", int(job_id)), ("JobCancelled", int(job_id))]
    assert history[0]["args"]["requester"] == Account.from_key(ANVIL_KEYS[3]).address
    assert "JobCancelled" in assay(cwd, "job", "events", job_id).stdout

    # from the next block on: the first job reaches the follower through its catch-up read or the
    # subscription, whichever is first; once its line is out the subscription is live (it is
    # opened before the catch-up), so the second job can only arrive pushed
    ws_url = rpc_url.replace("http://", "ws://")
    start = str(AssayClient(rpc_url, deployment=cwd / "deployments").w3.eth.block_number + 1)
    command = ["assay", "job", "events", "--follow", "--json", "--ws-url", ws_url, "--from-block", start]
    posted = []
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as follower:
        try:
            assert follower.stdout is not None
            for text in ("first", "pushed"):
                post = ["--dev-account", "3", "job", "post", ECHO.name, text, "--reward", "0.01"]
                posted.append(int(assay(cwd, *post).stdout))
                event = json.loads(follower.stdout.readline())  # the test's own timeout bounds this wait
                assert (event["event"], event["job_id"], event["removed"]) == ("JobPosted", posted[-1], False)
        finally:
            follower.terminate()
    for job_id in posted:
        assay(cwd, "--dev-account", "3", "job", "cancel", str(job_id))


def test_stake_unstake_and_cooldown(devnet: tuple[Path, str]) -> None:
    cwd, _ = devnet
    assay(cwd, "--dev-account", "4", "stake", "1.5")
    assay(cwd, "--dev-account", "4", "unstake", "0.5")
    record = assay_json(cwd, "balance", Account.from_key(ANVIL_KEYS[4]).address)
    assert (record["stake_free_wei"], record["stake_unstaking_wei"]) == (10**18, 5 * 10**17)
    early = assay(cwd, "--dev-account", "4", "withdraw-stake", check=False)
    assert early.returncode == 1 and "RegistryCooldownActive" in early.stderr and "Traceback" not in early.stderr


def test_keystore_account_and_secrets_stay_out_of_output(devnet: tuple[Path, str], tmp_path: Path) -> None:
    cwd, _ = devnet
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(ANVIL_KEYS[5], "correct horse")))
    keystore.chmod(0o600)
    env = os.environ | {"ASSAY_KEYSTORE_PASSWORD": "correct horse"}
    out = assay(cwd, "--keystore", str(keystore), "job", "post", ECHO.name, "k", "--reward", "0.001", env=env)
    assert out.stdout.strip().isdigit()
    assert ANVIL_KEYS[5][2:] not in out.stdout + out.stderr and "correct horse" not in out.stdout + out.stderr
    env["ASSAY_KEYSTORE_PASSWORD"] = "nope"
    wrong = assay(cwd, "--keystore", str(keystore), "balance", env=env, check=False)
    assert wrong.returncode == 2 and "wrong password" in wrong.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["job", "post", ECHO.name, "x", "--reward", "0.01"], "no account"),
        (["--dev-account", "1", "job", "post", ECHO.name, "x", "--reward", "-1"], "cannot be negative"),
        (["--dev-account", "1", "job", "post", ECHO.name, "--reward", "1"], "exactly one of INPUT"),
        (["--dev-account", "1", "job", "post", "gpt-17", "x", "--reward", "1"], "Invalid value"),
        (["--dev-account", "99", "balance"], "numbered 0..9, not 99"),
        (["balance", "0xnotanaddress"], "is not an Ethereum address"),
        (["job", "list", "--requester", "bad"], "is not an Ethereum address"),
        (["--dev-account", "1", "job", "post", ECHO.name, "x", "--reward", "nan"], "is not an amount of ETH"),
        (["--dev-account", "1", "job", "post", ECHO.name, "x", "--reward", "inf"], "is not an amount of ETH"),
        (["--dev-account", "1", "job", "post", ECHO.name, "x", "--reward", "1e40"], "more than the market can hold"),
    ],
)
def test_usage_errors_are_one_clear_line(devnet: tuple[Path, str], args: list[str], message: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "ASSAY_PRIVATE_KEY"}
    result = assay(devnet[0], *args, env=env, check=False)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_malformed_key_or_a_dead_node_is_one_clear_line(devnet: tuple[Path, str], tmp_path: Path) -> None:
    env = os.environ | {"ASSAY_PRIVATE_KEY": "0x1234"}
    result = assay(devnet[0], "job", "cancel", "1", env=env, check=False)
    assert result.returncode == 2 and "is not a private key" in result.stderr and "Traceback" not in result.stderr
    down = assay(tmp_path, "--rpc-url", f"http://127.0.0.1:{free_port()}", "--dev-account", "1", "balance", check=False)
    assert down.returncode == 1 and "cannot reach the RPC endpoint" in down.stderr and "Traceback" not in down.stderr


def test_unreachable_rpc_says_so(tmp_path: Path) -> None:
    result = assay(tmp_path, "--rpc-url", f"http://127.0.0.1:{free_port()}", "job", "status", "1", check=False)
    assert result.returncode == 1 and "cannot reach the RPC endpoint" in result.stderr


def test_worker_run_from_config_file_and_status(devnet: tuple[Path, str], tmp_path: Path) -> None:
    cwd, rpc_url = devnet
    keystore = tmp_path / "worker-key.json"
    keystore.write_text(json.dumps(Account.encrypt(ANVIL_KEYS[7], "pw")))
    keystore.chmod(0o600)
    port = free_port()
    config = tmp_path / "worker.toml"
    config.write_text(
        f'rpc_url = "{rpc_url}"\ndeployments = "{cwd / "deployments"}"\nmodels = ["{ECHO.name}"]\n'
        f'keystore = "{keystore}"\nresults_dir = "{tmp_path / "results"}"\njournal = "{tmp_path / "j.sqlite"}"\n'
        f"[api]\nport = {port}\n"
    )
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            ["assay", "worker", "run", "--config", str(config)],
            env=os.environ | {"ASSAY_WORKER_PASSWORD": "pw"},
            stdout=log,
            stderr=log,
        )
    try:
        for _ in range(300):
            probe = assay(cwd, "worker", "status", "--url", url, "--json", check=False)
            if probe.returncode == 0:
                break
            assert process.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.1)
        health = json.loads(probe.stdout)
        assert health["address"] == Account.from_key(ANVIL_KEYS[7]).address and health["models"] == [ECHO.name]
        post = ("--dev-account", "1", "job", "post", ECHO.name, "via config", "--reward", "0.01", "--wait")
        result = assay_json(cwd, *post)
        assert result["verified"] and result["worker"] == health["address"]
        # the devnet may hold open jobs of earlier tests, which this worker serves too
        assert assay_json(cwd, "worker", "status", "--url", url)["jobs_settled"] >= 1
        assert assay_json(cwd, "job", "status", str(result["id"]))["phase"] == "closed"
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
    down = assay(cwd, "worker", "status", "--url", url, check=False)
    assert down.returncode == 1 and "no worker answers" in down.stderr
