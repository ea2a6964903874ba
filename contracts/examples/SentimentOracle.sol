// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAssayMarket} from "../interfaces/IAssayMarket.sol";
import {IJobConsumer} from "../interfaces/IJobConsumer.sol";

/// @title SentimentOracle
/// @notice Example dApp: anyone asks for the sentiment of a text, paying the reward; a worker
/// runs the classifier model and the verified label arrives on chain through the market's
/// callback. Results are expected inline as the label bytes (e.g. "positive"). Anyone may
/// settle a job and pass no result bytes; the verified hash still arrives, and anyone holding
/// the label (the asker, the worker, its result URI) can then `deliver` it.
/// Refunded questions can be reclaimed by whoever asked them (`reclaim`).
contract SentimentOracle is IJobConsumer, ReentrancyGuardTransient {
    /// @notice What is known about a question.
    struct Answer {
        address asker;
        uint128 reward;
        bool settled;
        bool success;
        bytes32 resultHash;
        bytes label;
    }

    /// @notice Raised when a callback comes from anyone but the market.
    error OracleNotMarket(address caller);
    /// @notice Raised when `caller` reclaims nothing.
    error OracleNothingToReclaim(address caller);
    /// @notice Raised when question `jobId` has no verified answer whose label is missing.
    error OracleNothingToDeliver(uint256 jobId);
    /// @notice Raised when a delivered label does not hash to question `jobId`'s verified result.
    error OracleWrongLabel(uint256 jobId, bytes32 resultHash);

    /// @notice Emitted when `asker` asks question `jobId`.
    event Asked(uint256 indexed jobId, address indexed asker, string text);
    /// @notice Emitted when question `jobId` is answered (or refunded when `success` is false),
    /// and again when its label is delivered after a settlement that brought only its hash.
    event Answered(uint256 indexed jobId, bool success, bytes label);
    /// @notice Emitted when `asker` reclaims `amount` of refunded rewards.
    event Reclaimed(address indexed asker, uint256 amount);

    /// @notice The market jobs are posted to.
    IAssayMarket public immutable market;
    /// @notice The classifier model asked.
    bytes32 public immutable modelId;
    /// @notice Gas the market gives the callback.
    uint32 public constant CALLBACK_GAS = 200_000;

    mapping(uint256 jobId => Answer) private _answers;
    mapping(address asker => uint256) private _refunds;

    /// @param market_ the Assay market
    /// @param modelId_ the classifier model's id
    constructor(IAssayMarket market_, bytes32 modelId_) {
        market = market_;
        modelId = modelId_;
    }

    /// @notice Accepts refunds withdrawn from the market.
    receive() external payable {
        if (msg.sender != address(market)) revert OracleNotMarket(msg.sender);
    }

    /// @notice Asks for the sentiment of `text`, paying `msg.value` as the reward.
    /// @param text the text to classify
    /// @param claimDeadline timestamp by which a worker must take the job
    /// @param resultDeadline timestamp by which the result is due
    /// @return jobId the market's job id
    function ask(string calldata text, uint40 claimDeadline, uint40 resultDeadline)
        external
        payable
        returns (uint256 jobId)
    {
        IAssayMarket.JobRequest memory request = IAssayMarket.JobRequest({
            modelId: modelId,
            token: address(0),
            reward: uint128(msg.value),
            redundancy: 1,
            claimDeadline: claimDeadline,
            resultDeadline: resultDeadline,
            consumer: address(this),
            callbackGas: CALLBACK_GAS,
            inputHash: bytes32(0),
            allowlist: new address[](0)
        });
        jobId = market.postJob{value: msg.value}(request, bytes(text), "");
        _answers[jobId].asker = msg.sender;
        _answers[jobId].reward = uint128(msg.value);
        emit Asked(jobId, msg.sender, text);
    }

    /// @inheritdoc IJobConsumer
    function onJobSettled(uint256 jobId, bool success, bytes32 resultHash, bytes calldata result) external {
        if (msg.sender != address(market)) revert OracleNotMarket(msg.sender);
        Answer storage answer = _answers[jobId];
        answer.settled = true;
        answer.success = success;
        answer.resultHash = resultHash;
        answer.label = result;
        // a refunded reward is credited to this contract in the market: owe it to the asker
        if (!success) _refunds[answer.asker] += answer.reward;
        emit Answered(jobId, success, result);
    }

    /// @notice Records the label of a paid question whose settlement brought only its hash.
    /// Anyone may call: the label must hash to the result the market verified.
    /// @param jobId the question's job id
    /// @param label the result bytes (the label)
    function deliver(uint256 jobId, bytes calldata label) external {
        Answer storage answer = _answers[jobId];
        // an empty label is no label: a verified empty result has nothing to deliver
        if (!answer.success || answer.label.length != 0 || answer.resultHash == keccak256("")) {
            revert OracleNothingToDeliver(jobId);
        }
        if (keccak256(label) != answer.resultHash) revert OracleWrongLabel(jobId, answer.resultHash);
        answer.label = label;
        emit Answered(jobId, true, label);
    }

    /// @notice Sends the caller its recorded refunds, withdrawing them from the market first if needed.
    function reclaim() external nonReentrant {
        uint256 amount = _refunds[msg.sender];
        if (amount == 0) revert OracleNothingToReclaim(msg.sender);
        _refunds[msg.sender] = 0;
        if (address(this).balance < amount) market.withdraw(address(0));
        emit Reclaimed(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @notice Refunds `asker` can reclaim.
    /// @param asker the asker
    /// @return wei owed
    function refundOf(address asker) external view returns (uint256) {
        return _refunds[asker];
    }

    /// @notice The answer to question `jobId`.
    /// @param jobId the question's job id
    /// @return the answer so far
    function answerOf(uint256 jobId) external view returns (Answer memory) {
        return _answers[jobId];
    }
}
