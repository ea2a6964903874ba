"""The Assay client: one object for requesters and workers on one chain."""

from __future__ import annotations

import binascii
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract.contract import Contract, ContractFunction
from web3.logs import DISCARD
from web3.types import TxParams, TxReceipt

from ._artifacts import load_artifact
from ._calldata import Calldata
from ._contract_errors import MarketTokenNotAllowed, MarketWrongStatus
from ._deployments import LOCAL_CHAIN_ID, Deployment
from ._errors import (
    AssayError,
    ChainError,
    ChainMismatch,
    ConfigError,
    ContractRevert,
    InsufficientFunds,
    TransactionFailed,
)
from ._events import EventDecoder
from ._jobs import ZERO_ADDRESS, Job, JobPhase, JobTerms
from ._keys import Signer
from ._logs import iter_logs
from ._models import MODES, ModelManifest, RegisteredModel, manifest_from_document
from ._rpc import http_provider
from ._txmanager import TxManager, TxPolicy
from .batch import encode_batch
from .storage import Storage, content_hash, fetch

MAX_INLINE_INPUT = 16_384
"""Longest input carried in calldata (`AssayMarket.MAX_INLINE_INPUT`)."""
MAX_REDUNDANCY = 8
MAX_BATCH = 100
MAX_ALLOWLIST = 16
MAX_CALLBACK_GAS = 2_000_000
"""Most gas a consumer callback may be promised (`AssayMarket.MAX_CALLBACK_GAS`)."""
REFUNDS_PER_TX = 50
"""Most settlements in one `multicall` transaction of `refund_expired` (~60,000 gas each)."""
REFUND_GAS = 10_000_000
"""Most gas `refund_expired` budgets for one transaction: a consumer's callback gas counts too."""
STATE_READS = 100
"""Jobs whose phase and state `refund_expired` reads in one `multicall` call."""
_OPEN, _ACCEPTED, _DISPUTED = 1, 2, 4  # IAssayMarket.Status
SETTLE_GAS = 100_000
"""Gas budgeted for one settlement in a `refund_expired` transaction, before any callback."""
NO_OUTCOME = (ZERO_ADDRESS, bytes(32), ZERO_ADDRESS)
"""The `Outcome` of a single-slot job nobody took."""

RPC_TIMEOUT = 30.0


@dataclass(frozen=True)
class StakeInfo:
    """A worker's stake in the registry, in wei."""

    free: int
    locked: int
    unstaking: int
    unlock_at: int


class AssayClient:
    """Connects an account to the Assay contracts on one chain.

    >>> client = AssayClient("http://127.0.0.1:8545", os.environ["ASSAY_KEY"])  # doctest: +SKIP
    >>> job = client.post_job(ECHO, b"hello", reward=10**15)                    # doctest: +SKIP
    >>> job.wait().payload                                                       # doctest: +SKIP
    """

    def __init__(
        self,
        rpc: str | Web3,
        account: Signer | str | None = None,
        *,
        deployment: Deployment | str | os.PathLike[str] | None = None,
        allow_private_uris: bool | None = None,
        fees: TxPolicy | None = None,
        storage: Storage | None = None,
    ) -> None:
        """`rpc` is an RPC URL or a ready Web3; `account` a private key, a `LocalAccount` (e.g.
        from `load_keystore(path, password)`) or any other `Signer` (None: read-only, every
        transaction raises `ConfigError`); `fees` how its transactions are priced
        and re-priced when stuck (default `TxPolicy()`: no fee cap);
        `deployment` a Deployment, a deployments file or folder (default: $ASSAY_DEPLOYMENTS,
        then ./deployments). Payload URIs that resolve to private, loopback or link-local
        addresses are refused unless `allow_private_uris` (default: only on a local chain).
        `storage` (see `assay.storage`) holds inputs too large for calldata and resolves its own
        URIs, such as `ipfs://`, when results and inputs are fetched."""
        self.w3 = rpc if isinstance(rpc, Web3) else Web3(http_provider(rpc, RPC_TIMEOUT))
        if account is not None and not isinstance(account, str | Signer):
            raise ConfigError(f"account must be a private key or a Signer, got {type(account).__name__}")
        self._account: Signer | None = account_from_key(account) if isinstance(account, str) else account
        # one manager per account: it holds the nonce, so every transaction must go through it
        self._transactions = TxManager(self.w3, self._account, fees) if self._account else None
        chain_id = chain_id_of(self.w3)
        if not isinstance(deployment, Deployment):
            deployment = Deployment.for_chain(chain_id, deployment)
        if deployment.chain_id != chain_id:
            raise ChainMismatch(
                f"the RPC serves chain {chain_id} but the deployment is for chain {deployment.chain_id}"
            )
        self.deployment = deployment
        self.allow_private_uris = chain_id == LOCAL_CHAIN_ID if allow_private_uris is None else allow_private_uris
        self.storage = storage
        self.market: Contract = self._contract(deployment.market, "AssayMarket")
        self.registry: Contract = self._contract(deployment.registry, "WorkerRegistry")
        self.models: Contract = self._contract(deployment.models, "ModelRegistry")
        self.arbiter: Contract = self._contract(deployment.arbiter, deployment.arbiter_kind)
        self.event_decoder = EventDecoder(self.market.address, self.market.abi)
        self._calldata = Calldata(self.market.abi)

    def _contract(self, address: str, name: str) -> Contract:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=load_artifact(name).abi)

    @property
    def account(self) -> Signer:
        """The signing account; `ConfigError` on a read-only client."""
        if self._account is None:
            raise ConfigError("this client is read-only: pass an account to send transactions")
        return self._account

    @property
    def address(self) -> ChecksumAddress:
        """The account's address."""
        return self.account.address

    def transact(self, call: ContractFunction, value: int = 0) -> TxReceipt:
        """Send `call` from this account and wait for it; reverts raise `ContractRevert`. Safe
        from several threads; see `TxManager.send`."""
        return self._send(call, value)

    def send_raw(self, data: bytes, value: int = 0, *, label: str, raw_logs: bool = False) -> TxReceipt:
        """Send calldata already encoded for the market (see `TxManager.send`); `label` names the
        call in errors and logs. Reverts are decoded into their typed errors as for `transact`.
        With `raw_logs` the receipt's logs are left as the node sent them, for `event_decoder.decode`."""
        return self._send({"to": self.market.address, "data": data}, value, label, raw_logs=raw_logs)

    def _send(
        self, call: ContractFunction | TxParams, value: int, label: str | None = None, *, raw_logs: bool = False
    ) -> TxReceipt:
        if self._transactions is None:
            raise ConfigError("this client is read-only: pass an account to send transactions")
        return self._transactions.send(call, value, label, raw_logs=raw_logs)

    def fetch(self, uri: str, expected_hash: bytes) -> bytes:
        """The payload at `uri` (through this client's storage when it is one of its URIs),
        refused unless it hashes to `expected_hash`; see `assay.storage.fetch`."""
        return fetch(uri, expected_hash, storage=self.storage, allow_private=self.allow_private_uris)

    # requester

    def post_job(
        self,
        model: ModelManifest | bytes,
        job_input: bytes | str,
        *,
        reward: int,
        redundancy: int = 1,
        token: str | None = None,
        claim_timeout: int = 600,
        result_timeout: int = 1_800,
        input_uri: str | None = None,
        consumer: str | None = None,
        callback_gas: int = 0,
        allowlist: Sequence[str] = (),
    ) -> Job:
        """Post a job paying `reward` (wei, or token units when `token` names an allowlisted
        ERC-20: the market's allowance is raised first if needed) for running `model` on
        `job_input` (str is UTF-8 encoded), split between `redundancy` workers.

        The input travels in calldata (at most `MAX_INLINE_INPUT` bytes) unless `input_uri` names
        where you host it, or it is larger and the client has a `storage` to put it in: then
        only its keccak256 and the URI go on chain, and workers check the bytes they fetch
        against that hash. Slots can be taken for `claim_timeout` seconds;
        results (or, for `redundancy > 1`, commitments) are due `result_timeout` seconds after
        posting. `consumer` is a contract whose `onJobSettled` gets the outcome with
        `callback_gas`; `allowlist` restricts the job to those workers. Returns at once.
        """
        options = (token, claim_timeout, result_timeout, input_uri, consumer, callback_gas)
        model_id = self._registered(model)
        request, data, uri = self._request(model_id, job_input, reward, redundancy, *options, self._chain_now())
        request = (*request[:-1], [as_address(a, "allowlist entry") for a in allowlist])
        if len(allowlist) > MAX_ALLOWLIST:
            raise ConfigError(f"an allowlist names at most {MAX_ALLOWLIST} workers, got {len(allowlist)}")
        value = self._fund(token, reward)
        receipt = self.transact(self.market.functions.postJob(request, data, uri), value=value)
        (posted,) = self.market.events.JobPosted().process_receipt(receipt, errors=DISCARD)
        terms = JobTerms.from_event(posted["args"]["terms"])
        return Job(self, int(posted["args"]["jobId"]), terms, receipt)

    def post_batch(
        self, /, model: ModelManifest | bytes, inputs: Sequence[bytes | str], *, reward: int, **options: Any
    ) -> Job:
        """Post one batch job: `model` runs on every input of `inputs` (str is UTF-8 encoded) and
        the result holds one answer per input, in order (`JobResult.items()`). `reward` pays for
        the whole batch; `options` are `post_job`'s. One posting, one result transaction and one
        settlement for all the inputs: see `assay.batch` for the format and what workers accept."""
        return self.post_job(model, encode_batch(inputs), reward=reward, **options)

    def post_jobs(
        self,
        model: ModelManifest | bytes,
        inputs: Sequence[bytes | str],
        *,
        reward: int,
        redundancy: int = 1,
        claim_timeout: int = 600,
        result_timeout: int = 1_800,
    ) -> list[Job]:
        """Post one job per input in a single transaction (ETH rewards, inline inputs)."""
        if not 0 < len(inputs) <= MAX_BATCH:
            raise ConfigError(f"post between 1 and {MAX_BATCH} jobs at once, got {len(inputs)}")
        model_id, now = self._registered(model), self._chain_now()  # once for the batch, not per job
        built = [
            self._request(model_id, item, reward, redundancy, None, claim_timeout, result_timeout, None, None, 0, now)
            for item in inputs
        ]
        # encoded and decoded with eth_abi directly: web3's handling of 50 request structs and
        # 50 JobPosted logs took longer than the node's work on the transaction
        data = self._calldata.encode("postJobs", [b[0] for b in built], [b[1] for b in built], [b[2] for b in built])
        receipt = self.send_raw(data, reward * len(inputs), label="postJobs")
        posted = (event for event in self.event_decoder.decode(receipt["logs"]) if event.name == "JobPosted")
        return [Job(self, event.job_id, JobTerms.from_posted(event), receipt) for event in posted]

    def _registered(self, model: ModelManifest | bytes) -> bytes:
        """The model's id, once the chain confirms it is registered."""
        model_id = model.model_id if isinstance(model, ModelManifest) else model
        if len(model_id) != 32:
            raise ConfigError(f"a model id is 32 bytes, got {len(model_id)}")
        if not self.models.functions.isRegistered(model_id).call():
            raise ConfigError(f"model 0x{model_id.hex()} is not registered on this chain (assay models register)")
        return model_id

    def _chain_now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def _request(
        self,
        model_id: bytes,
        job_input: bytes | str,
        reward: int,
        redundancy: int,
        token: str | None,
        claim_timeout: int,
        result_timeout: int,
        input_uri: str | None,
        consumer: str | None,
        callback_gas: int,
        now: int,
    ) -> tuple[tuple[Any, ...], bytes, str]:
        """Check a job's options here, with messages naming the option, before the chain would;
        `now` is the chain's time, from which the deadlines count."""
        data = job_input.encode() if isinstance(job_input, str) else job_input
        if not 1 <= redundancy <= MAX_REDUNDANCY:
            raise ConfigError(f"redundancy must be between 1 and {MAX_REDUNDANCY}, got {redundancy}")
        if reward < redundancy:
            raise ConfigError(f"reward must be at least one unit per worker ({redundancy}), got {reward}")
        if reward >= 2**128:
            raise ConfigError(f"reward must be below 2**128 (the market stores uint128), got {reward}")
        if not data:
            raise ConfigError("job input is empty")
        if input_uri is None and len(data) > MAX_INLINE_INPUT and self.storage is None:
            raise ConfigError(
                f"job input is {len(data)} bytes; inline input is limited to {MAX_INLINE_INPUT}: "
                "host it and pass input_uri, or give the client a storage"
            )
        if input_uri is not None:
            _check_input_uri(input_uri)
        for name, seconds in (("claim_timeout", claim_timeout), ("result_timeout", result_timeout)):
            if isinstance(seconds, bool) or not isinstance(seconds, int):
                raise ConfigError(f"{name} is a whole number of seconds, got {seconds!r}")
        if not 0 < claim_timeout < result_timeout:
            raise ConfigError(f"need 0 < claim_timeout < result_timeout, got {claim_timeout} and {result_timeout}")
        if consumer is None and callback_gas:
            raise ConfigError("callback_gas needs a consumer contract")
        if consumer is not None:
            as_address(consumer, "consumer")
            if not 0 < callback_gas <= MAX_CALLBACK_GAS:
                # with no gas the callback always fails, and the job still settles without it
                raise ConfigError(
                    f"a consumer needs callback_gas between 1 and {MAX_CALLBACK_GAS:,}, got {callback_gas}"
                )
        if input_uri is None and len(data) > MAX_INLINE_INPUT and self.storage is not None:
            # last, so that a job refused above uploads nothing
            input_uri = _check_input_uri(self.storage.put(data))
        request: tuple[Any, ...] = (
            model_id,
            as_address(token or ZERO_ADDRESS, "token"),
            reward,
            redundancy,
            now + claim_timeout,
            now + result_timeout,
            as_address(consumer or ZERO_ADDRESS, "consumer"),
            callback_gas,
            bytes(32) if input_uri is None else content_hash(data),
            [],
        )
        return request, (data if input_uri is None else b""), (input_uri or "")

    def _fund(self, token: str | None, amount: int) -> int:
        """The ETH to send with a post; for a token reward, check the balance and approve the market."""
        if token is None:
            return amount
        token = as_address(token, "token")
        # checked before any approval: a refused post must leave no allowance (nor spend a nonce)
        if not self.market.functions.tokenConfig(token).call()[0]:
            raise MarketTokenNotAllowed("MarketTokenNotAllowed", {"token": token}, "postJob")
        erc20 = self.w3.eth.contract(address=token, abi=ERC20_ABI)
        held = int(erc20.functions.balanceOf(self.address).call())
        if held < amount:
            raise InsufficientFunds(f"the reward is {amount} units of {token} but the account holds {held}")
        if int(erc20.functions.allowance(self.address, self.market.address).call()) < amount:
            self.transact(erc20.functions.approve(self.market.address, amount))
        return 0

    def job(self, job_id: int) -> Job:
        """A handle on an existing job."""
        if isinstance(job_id, bool) or not isinstance(job_id, int) or not 0 <= job_id < 2**256:
            raise ConfigError(f"a job id is a non-negative integer, got {job_id!r}")
        return Job(self, job_id)

    def jobs(self, requester: str | None = None) -> list[Job]:
        """Every job posted on this market, oldest first; only `requester`'s when given."""
        filters = {"requester": as_address(requester, "requester")} if requester else None
        head = self.w3.eth.block_number
        events = iter_logs(self.market.events.JobPosted, self.deployment.start_block, head, argument_filters=filters)
        return [Job(self, int(e["args"]["jobId"]), JobTerms.from_event(e["args"]["terms"])) for e in events]

    def balance(self, account: str | None = None, token: str | None = None) -> int:
        """What `account` (default: this client's) can withdraw from the market, in wei or `token` units."""
        owner = as_address(account, "account") if account else self.address
        return int(self.market.functions.balanceOf(as_address(token or ZERO_ADDRESS, "token"), owner).call())

    def withdraw(self, token: str | None = None) -> TxReceipt:
        """Withdraw this account's whole market balance (payouts, refunds, fees) of ETH or `token`."""
        return self.transact(self.market.functions.withdraw(token or ZERO_ADDRESS))

    def refund_expired(self) -> list[Refund]:
        """Settle every job this account posted whose deadline passed with nothing to pay for:
        nobody took it, its worker missed the result deadline, a redundant job was not fully
        staffed, or the arbiter did not rule in time. Each job's escrow returns to this account's
        market balance (with a no-show's penalty or a late worker's collateral, credited apart);
        `withdraw()` sends it (`withdraw(token)` for a token job's). Sent in `multicall`
        transactions of at most `REFUNDS_PER_TX` jobs and `REFUND_GAS` gas; nothing is sent when no
        job is due. Returns what each settled job gave back."""
        jobs = self.jobs(self.address)
        states = self._settle_states(jobs)
        # an untaken job's outcome is all zeros: a job's history is read only when a slot was taken
        settles = [
            (job, NO_OUTCOME if state[0] == _OPEN else job.outcome())
            for job, state in zip(jobs, states, strict=True)
            if state is not None and _refundable(job, *state)
        ]
        refunds: list[Refund] = []
        chunk: list[tuple[Job, tuple[str, bytes, str]]] = []
        gas = 0
        for settle in settles:
            # the market keeps callbackGas·64/63 + 10,000 for a consumer's callback (refunds call it too)
            need = SETTLE_GAS + settle[0].terms.callback_gas * 64 // 63 + 10_000
            if chunk and (len(chunk) == REFUNDS_PER_TX or gas + need > REFUND_GAS):
                refunds += self._refund(chunk)
                chunk, gas = [], 0
            chunk.append(settle)
            gas += need
        return refunds + (self._refund(chunk) if chunk else [])

    def _refund(self, settles: list[tuple[Job, tuple[str, bytes, str]]]) -> list[Refund]:
        """Settle `settles` in one `multicall`; when it fails (someone settled one of them since
        the states were read), each alone, skipping those that someone else settled."""
        calls = [self._calldata.encode("settle", job.id, job.terms.encoded, outcome, b"") for job, outcome in settles]
        try:
            receipt = self.send_raw(self._calldata.encode("multicall", calls), label=f"refund of {len(calls)} jobs")
        except (ContractRevert, TransactionFailed) as exc:
            if len(settles) > 1:
                return [refund for settle in settles for refund in self._refund([settle])]
            if isinstance(exc, MarketWrongStatus) or settles[0][0].status() == JobPhase.CLOSED:
                return []  # settled by someone else meanwhile
            raise
        tx = receipt["transactionHash"].to_0x_hex()
        tokens = {job.id: job.terms.token for job, _ in settles}
        settled = (event for event in self.event_decoder.decode(receipt["logs"]) if event.name == "JobSettled")
        return [Refund(event.job_id, tokens[event.job_id], int(event.args["refunded"]), tx) for event in settled]

    def _settle_states(self, jobs: Sequence[Job]) -> list[tuple[int, int] | None]:
        """(status, slots filled) of each job whose phase is settleable, None for the others; read
        with `multicall` in calls of `STATE_READS` jobs."""
        states: list[tuple[int, int] | None] = []
        for first in range(0, len(jobs), STATE_READS):
            chunk = jobs[first : first + STATE_READS]
            calls = []
            for job in chunk:
                calls += [
                    self._calldata.encode("jobState", job.id),
                    self._calldata.encode("phaseOf", job.id, job.terms.encoded),
                ]
            raw = self.w3.eth.call({"to": self.market.address, "data": self._calldata.encode("multicall", calls)})
            answers = self._calldata.decode("multicall", raw)[0]
            for index in range(len(chunk)):
                state = self._calldata.decode("jobState", answers[2 * index])[0]
                phase = self._calldata.decode("phaseOf", answers[2 * index + 1])[0]
                states.append((state[1], state[2]) if phase == JobPhase.SETTLEABLE else None)
        return states

    def settle(self, job: Job, result: bytes = b"") -> TxReceipt:
        """Do what is due for `job` now (pay out, refund, send to the arbiter, apply a ruling);
        anyone may call it. `result` is the accepted result's bytes, for a consumer callback."""
        call = self.market.functions.settle(job.id, job.terms.as_tuple(), job.outcome(), result)
        return self.transact(call)

    # worker

    def stake(self, amount: int) -> TxReceipt:
        """Add `amount` wei to this account's stake."""
        return self.transact(self.registry.functions.stake(), value=amount)

    def stake_of(self, account: str | None = None) -> StakeInfo:
        """The stake of `account` (default: this client's)."""
        owner = as_address(account, "account") if account else self.address
        free, locked, unstaking, unlock_at = self.registry.functions.stakeOf(owner).call()
        return StakeInfo(free, locked, unstaking, unlock_at)

    def request_unstake(self, amount: int) -> TxReceipt:
        """Start the cooldown on `amount` wei of free stake."""
        return self.transact(self.registry.functions.requestUnstake(amount))

    def withdraw_stake(self) -> TxReceipt:
        """Withdraw stake whose cooldown has passed."""
        return self.transact(self.registry.functions.withdraw())

    def join_model(self, model: ModelManifest | bytes) -> TxReceipt | None:
        """Serve `model` (enter its draws); None when this account serves it already."""
        model_id = model.model_id if isinstance(model, ModelManifest) else model
        if self.registry.functions.weightOf(model_id, self.address).call() or model_id in self.models_served():
            return None
        return self.transact(self.registry.functions.joinModel(model_id))

    def leave_model(self, model: ModelManifest | bytes) -> TxReceipt:
        """Stop serving `model` (leave its draws); jobs already taken are unaffected."""
        model_id = model.model_id if isinstance(model, ModelManifest) else model
        return self.transact(self.registry.functions.leaveModel(model_id))

    def models_served(self, account: str | None = None) -> list[bytes]:
        """The model ids `account` (default: this client's) serves."""
        return [bytes(m) for m in self.registry.functions.modelsOf(account or self.address).call()]

    def registered_models(self) -> list[RegisteredModel]:
        """Every model registered on this chain, oldest first, with its manifest when the
        manifest URI serves the document its hash commits to (the built-in models' data: URIs do)."""
        head = self.w3.eth.block_number
        models = []
        for event in iter_logs(self.models.events.ModelRegistered, self.deployment.start_block, head):
            args = event["args"]
            manifest = None
            try:
                document = self.fetch(args["manifestURI"], bytes(args["manifestHash"]))
                candidate = manifest_from_document(document, int(args["auditBps"]), int(args["minCollateral"]))
                # the document must also agree with the registered terms (its verification mode)
                manifest = candidate if candidate.model_id == bytes(args["modelId"]) else None
            except (AssayError, ValueError, KeyError, TypeError):
                pass  # an unreachable or malformed manifest: the model is listed without it
            models.append(
                RegisteredModel(
                    model_id=bytes(args["modelId"]),
                    registrant=args["registrant"],
                    manifest_hash=bytes(args["manifestHash"]),
                    verification=MODES[int(args["mode"])],
                    audit_bps=int(args["auditBps"]),
                    min_collateral=int(args["minCollateral"]),
                    manifest_uri=args["manifestURI"],
                    manifest=manifest,
                )
            )
        return models

    def register_model(self, manifest: ModelManifest) -> bytes:
        """Register `manifest` in the model registry (if it is not yet) and return its id."""
        if not self.models.functions.isRegistered(manifest.model_id).call():
            self.transact(self.models.functions.registerModel(manifest.on_chain(), manifest.manifest_uri))
        return manifest.model_id

    def eligible(self, job: Job, slot: int = 0, account: str | None = None) -> bool:
        """Whether `account` (default: this client's) may take `slot` of `job` now."""
        return bool(self.market.functions.eligible(job.id, job.terms.as_tuple(), slot, account or self.address).call())

    def accept(self, job: Job, slot: int = 0) -> TxReceipt:
        """Take `slot` of `job` now, locking its collateral (submitting or committing also takes it)."""
        return self.transact(self.market.functions.accept(job.id, job.terms.as_tuple(), slot))

    def submit_result(self, job: Job, result_hash: bytes, uri: str, result: bytes = b"") -> TxReceipt:
        """Submit a single-slot job's result (taking the slot in the same call)."""
        return self.transact(self.market.functions.submitResult(job.id, job.terms.as_tuple(), result_hash, uri, result))

    def commit(self, job: Job, slot: int, result_hash: bytes, salt: bytes) -> TxReceipt:
        """Commit to a result for `slot` of a redundant job (taking the slot if it is empty)."""
        commitment = commitment_of(job.id, self.address, result_hash, salt)
        return self.transact(self.market.functions.commit(job.id, job.terms.as_tuple(), slot, commitment))

    def reveal(self, job: Job, slot: int, result_hash: bytes, salt: bytes, uri: str, result: bytes = b"") -> TxReceipt:
        """Reveal a committed result."""
        call = self.market.functions.reveal(job.id, job.terms.as_tuple(), slot, result_hash, salt, uri, result)
        return self.transact(call)


@dataclass(frozen=True)
class Refund:
    """What settling an expired job gave back (`AssayClient.refund_expired`)."""

    job_id: int
    token: str
    """The job's reward token; the zero address for ETH."""
    refunded: int
    """Escrow returned to the requester's market balance, in wei or the token's units."""
    transaction: str
    """Hash of the transaction that settled it."""


def _refundable(job: Job, status: int, filled: int) -> bool:
    """Whether settling `job` now (its phase settleable) only gives its escrow back."""
    if status == _DISPUTED:  # the arbiter let its deadline pass
        return True
    if job.terms.redundancy == 1:
        return status in (_OPEN, _ACCEPTED)
    return status == _OPEN and filled < job.terms.redundancy  # all slots or none: refunded


def _check_input_uri(uri: str) -> str:
    """`uri` if workers can fetch it (http(s) or ipfs), else `ConfigError`."""
    if not uri.startswith(("http://", "https://", "ipfs://")):
        raise ConfigError(f"an input URI must be an http(s) or ipfs URL that workers can fetch, got {uri[:80]!r}")
    return uri


def commitment_of(job_id: int, worker: str, result_hash: bytes, salt: bytes) -> bytes:
    """`keccak256(abi.encode(jobId, worker, resultHash, salt))`, as the market checks it."""
    return keccak(encode(["uint256", "address", "bytes32", "bytes32"], [job_id, worker, result_hash, salt]))


ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": name,
        "stateMutability": mutability,
        "inputs": [{"name": f"a{i}", "type": t} for i, t in enumerate(inputs)],
        "outputs": [{"name": "", "type": output}],
    }
    for name, inputs, output, mutability in (
        ("balanceOf", ["address"], "uint256", "view"),
        ("allowance", ["address", "address"], "uint256", "view"),
        ("approve", ["address", "uint256"], "bool", "nonpayable"),
    )
]
"""The three ERC-20 functions the client uses."""


def chain_id_of(w3: Web3) -> int:
    """The chain id the node at `w3` serves; `ChainError` saying so when the node cannot be reached."""
    try:
        return int(w3.eth.chain_id)
    except Exception as exc:  # any transport failure: say which endpoint and what to check
        raise ChainError(f"cannot reach the RPC endpoint ({exc}); is the node running?") from exc


def account_from_key(key: str) -> LocalAccount:
    """The account of a hex private key; `ConfigError` (never echoing the key) when it is not one."""
    try:
        account: LocalAccount = Account.from_key(key)
    except (ValueError, TypeError, binascii.Error):
        raise ConfigError("the private key is not 32 bytes of hex (0x and 64 hex digits)") from None
    return account


def as_address(value: str, what: str) -> ChecksumAddress:
    """`value` as a checksummed address (any letter case accepted); `ConfigError` naming `what` otherwise."""
    if not isinstance(value, str) or not is_address(value.lower()):
        raise ConfigError(f"{what} {value!r} is not an address (0x and 40 hex digits)")
    return to_checksum_address(value.lower())
