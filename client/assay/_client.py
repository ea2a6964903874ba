"""The Assay client: one object for requesters and workers on one chain."""

from __future__ import annotations

import os
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract.contract import Contract, ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from ._artifacts import load_artifact
from ._deployments import LOCAL_CHAIN_ID, Deployment
from ._errors import ChainError, ChainMismatch, ConfigError
from ._jobs import Job
from ._logs import iter_logs
from ._models import ModelManifest
from ._storage import content_hash
from ._transactions import send_transaction

MAX_INLINE_INPUT = 16_384
"""Longest input carried in calldata (`JobMarket.MAX_INLINE_INPUT`)."""

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
        account: LocalAccount | str | None = None,
        *,
        deployment: Deployment | str | os.PathLike[str] | None = None,
        allow_private_uris: bool | None = None,
    ) -> None:
        """`rpc` is an RPC URL or a ready Web3; `account` a LocalAccount or a private key (None:
        read-only, every transaction raises `ConfigError`);
        `deployment` a Deployment, a deployments file or folder (default: $ASSAY_DEPLOYMENTS,
        then ./deployments). Payload URIs that resolve to private, loopback or link-local
        addresses are refused unless `allow_private_uris` (default: only on a local chain)."""
        self.w3 = (
            rpc if isinstance(rpc, Web3) else Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": RPC_TIMEOUT}))
        )
        self._account = Account.from_key(account) if isinstance(account, str) else account
        try:
            chain_id = self.w3.eth.chain_id
        except Exception as exc:  # any transport failure: say which endpoint and what to check
            raise ChainError(f"cannot reach the RPC endpoint ({exc}); is the node running?") from exc
        if not isinstance(deployment, Deployment):
            deployment = Deployment.for_chain(chain_id, deployment)
        if deployment.chain_id != chain_id:
            raise ChainMismatch(
                f"the RPC serves chain {chain_id} but the deployment is for chain {deployment.chain_id}"
            )
        self.deployment = deployment
        self.allow_private_uris = chain_id == LOCAL_CHAIN_ID if allow_private_uris is None else allow_private_uris
        self.market: Contract = self.w3.eth.contract(address=deployment.job_market, abi=load_artifact("JobMarket").abi)
        self.staking: Contract = self.w3.eth.contract(
            address=deployment.staking, abi=load_artifact("StakingRegistry").abi
        )

    @property
    def account(self) -> LocalAccount:
        """The signing account; `ConfigError` on a read-only client."""
        if self._account is None:
            raise ConfigError("this client is read-only: pass an account to send transactions")
        return self._account

    @property
    def address(self) -> ChecksumAddress:
        """The account's address."""
        return self.account.address

    def transact(self, call: ContractFunction, value: int = 0) -> TxReceipt:
        """Send `call` from this account and wait for it; reverts raise `ContractRevert`."""
        return send_transaction(self.w3, self.account, call, value)

    # requester

    def post_job(
        self,
        model: ModelManifest | bytes,
        job_input: bytes | str,
        *,
        reward: int,
        claim_timeout: int = 600,
        result_timeout: int = 1_800,
        input_uri: str | None = None,
    ) -> Job:
        """Post a job paying `reward` wei for running `model` on `job_input` (str is UTF-8 encoded).

        The input travels in calldata (at most `MAX_INLINE_INPUT` bytes) unless `input_uri` names
        where you host it: then only its keccak256 and the URI go on chain, and workers check the
        bytes they fetch against that hash. The job can be claimed for `claim_timeout` seconds; its
        worker must submit a result within `result_timeout` seconds of posting. Returns at once.
        """
        model_id = model.model_id if isinstance(model, ModelManifest) else model
        data = job_input.encode() if isinstance(job_input, str) else job_input
        if len(model_id) != 32:
            raise ConfigError(f"a model id is 32 bytes, got {len(model_id)}")
        if reward <= 0:
            raise ConfigError(f"reward must be positive, got {reward} wei")
        if not data:
            raise ConfigError("job input is empty")
        if input_uri is None and len(data) > MAX_INLINE_INPUT:
            raise ConfigError(
                f"job input is {len(data)} bytes; inline input is limited to {MAX_INLINE_INPUT}: "
                "host it and pass input_uri"
            )
        if input_uri is not None and not input_uri.startswith(("http://", "https://")):
            raise ConfigError(f"input_uri must be an http(s) URL, got {input_uri!r}")
        if not 0 < claim_timeout < result_timeout:
            raise ConfigError(f"need 0 < claim_timeout < result_timeout, got {claim_timeout} and {result_timeout}")
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        deadlines = (now + claim_timeout, now + result_timeout)
        if input_uri is None:
            call = self.market.functions.postJob(model_id, data, *deadlines)
        else:
            call = self.market.functions.postJobByURI(model_id, content_hash(data), input_uri, *deadlines)
        receipt = self.transact(call, value=reward)
        (posted,) = self.market.events.JobPosted().process_receipt(receipt, errors=DISCARD)
        return Job(self, int(posted["args"]["jobId"]), receipt)

    def job(self, job_id: int) -> Job:
        """A handle on an existing job."""
        return Job(self, job_id)

    def jobs(self, requester: str | None = None) -> list[Job]:
        """Every job posted on this market, oldest first; only `requester`'s when given."""
        filters = {"requester": requester} if requester else None
        head = self.w3.eth.block_number
        events = iter_logs(self.market.events.JobPosted, self.deployment.start_block, head, argument_filters=filters)
        return [Job(self, int(event["args"]["jobId"])) for event in events]

    def balance(self, account: str | None = None) -> int:
        """Wei withdrawable from the market by `account` (default: this client's)."""
        return int(self.market.functions.balanceOf(account or self.address).call())

    def withdraw(self) -> TxReceipt:
        """Withdraw this account's whole market balance (payouts, refunds, fees)."""
        return self.transact(self.market.functions.withdraw())

    # worker

    def stake(self, amount: int) -> TxReceipt:
        """Add `amount` wei to this account's stake."""
        return self.transact(self.staking.functions.stake(), value=amount)

    def stake_of(self, account: str | None = None) -> StakeInfo:
        """The stake of `account` (default: this client's)."""
        free, locked, unstaking, unlock_at = self.staking.functions.stakeOf(account or self.address).call()
        return StakeInfo(free, locked, unstaking, unlock_at)

    def request_unstake(self, amount: int) -> TxReceipt:
        """Start the cooldown on `amount` wei of free stake."""
        return self.transact(self.staking.functions.requestUnstake(amount))

    def withdraw_stake(self) -> TxReceipt:
        """Withdraw stake whose cooldown has passed."""
        return self.transact(self.staking.functions.withdraw())

    def claim(self, job_id: int) -> TxReceipt:
        """Claim an open job, locking collateral from this account's free stake."""
        return self.transact(self.market.functions.claim(job_id))

    def submit_result(self, job_id: int, result_hash: bytes, uri: str) -> TxReceipt:
        """Submit the hash and URI of a claimed job's result."""
        return self.transact(self.market.functions.submitResult(job_id, result_hash, uri))

    def finalize(self, job_id: int) -> TxReceipt:
        """Pay out a job whose challenge window has passed (anyone may call)."""
        return self.transact(self.market.functions.finalize(job_id))
