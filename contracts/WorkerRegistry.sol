// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {SortitionTree} from "./libraries/SortitionTree.sol";

/// @title WorkerRegistry
/// @notice Worker stake in native ETH, the models each worker serves, and stake-weighted draws
/// among a model's workers through one sortition sum tree per model (O(log n) per draw and per
/// weight change). Immutable: the market, arbiter, model registry and cooldown are fixed at
/// deployment, and nobody (no owner exists) can move a worker's stake except the market and
/// arbiter through lock/unlock/slash/penalize.
contract WorkerRegistry is IWorkerRegistry, ReentrancyGuardTransient {
    using SortitionTree for SortitionTree.Tree;

    /// @notice How many models one worker may serve; bounds the cost of every weight change.
    uint256 public constant MAX_MODELS = 8;
    /// @notice The longest cooldown a deployment may choose.
    uint64 public constant MAX_COOLDOWN = 30 days;

    address public immutable market;
    address public immutable arbiter;
    IModelRegistry public immutable models;
    uint64 public immutable cooldown;

    mapping(address worker => Stake) private _stakes;
    mapping(address worker => bytes32[]) private _modelsOf;
    mapping(bytes32 modelId => SortitionTree.Tree) private _trees;

    constructor(address market_, address arbiter_, IModelRegistry models_, uint64 cooldown_) {
        if (market_ == address(0) || arbiter_ == address(0) || address(models_) == address(0)) {
            revert RegistryBadConfig();
        }
        if (cooldown_ > MAX_COOLDOWN) revert RegistryBadConfig();
        market = market_;
        arbiter = arbiter_;
        models = models_;
        cooldown = cooldown_;
        emit RegistryConfigured(market_, arbiter_, address(models_), cooldown_);
    }

    modifier onlyAuthorized() {
        if (msg.sender != market && msg.sender != arbiter) revert RegistryNotAuthorized(msg.sender);
        _;
    }

    modifier nonZero(uint256 amount) {
        if (amount == 0) revert RegistryZeroAmount();
        _;
    }

    // ---------------------------------------------------------------- workers

    /// @inheritdoc IWorkerRegistry
    function stake() external payable nonZero(msg.value) {
        Stake storage s = _stakes[msg.sender];
        s.free += uint128(msg.value);
        _reweigh(msg.sender, s);
        emit Staked(msg.sender, msg.value, s.free);
    }

    /// @inheritdoc IWorkerRegistry
    function requestUnstake(uint256 amount) external nonZero(amount) {
        Stake storage s = _stakes[msg.sender];
        if (s.free < amount) revert RegistryInsufficientFree(msg.sender, s.free, amount);
        s.free -= uint128(amount);
        s.unstaking += uint128(amount);
        s.unlockAt = uint64(block.timestamp) + cooldown;
        _reweigh(msg.sender, s);
        emit UnstakeRequested(msg.sender, amount, s.unstaking, s.unlockAt);
    }

    /// @inheritdoc IWorkerRegistry
    function withdraw() external nonReentrant {
        Stake storage s = _stakes[msg.sender];
        uint256 amount = s.unstaking;
        if (amount == 0) revert RegistryNothingToWithdraw(msg.sender);
        if (block.timestamp < s.unlockAt) revert RegistryCooldownActive(msg.sender, s.unlockAt);
        s.unstaking = 0;
        emit StakeWithdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc IWorkerRegistry
    function joinModel(bytes32 modelId) external {
        if (!models.isRegistered(modelId)) revert RegistryUnknownModel(modelId);
        SortitionTree.Tree storage tree = _trees[modelId];
        if (tree.leafOf[msg.sender] != 0) revert RegistryAlreadyServing(msg.sender, modelId);
        bytes32[] storage served = _modelsOf[msg.sender];
        if (served.length >= MAX_MODELS) revert RegistryTooManyModels(msg.sender, MAX_MODELS);
        served.push(modelId);
        Stake storage s = _stakes[msg.sender];
        tree.insert(msg.sender, uint256(s.free) + s.locked);
        emit ModelJoined(msg.sender, modelId);
    }

    /// @inheritdoc IWorkerRegistry
    function leaveModel(bytes32 modelId) external {
        SortitionTree.Tree storage tree = _trees[modelId];
        if (tree.leafOf[msg.sender] == 0) revert RegistryNotServing(msg.sender, modelId);
        tree.remove(msg.sender);
        bytes32[] storage served = _modelsOf[msg.sender];
        for (uint256 i; i < served.length; ++i) {
            if (served[i] == modelId) {
                served[i] = served[served.length - 1];
                served.pop();
                break;
            }
        }
        emit ModelLeft(msg.sender, modelId);
    }

    /// @inheritdoc IWorkerRegistry
    function setProfile(string calldata endpoint, uint32 capacity) external {
        emit ProfileUpdated(msg.sender, endpoint, capacity);
    }

    // ---------------------------------------------------------------- market and arbiter

    /// @inheritdoc IWorkerRegistry
    function lock(address worker, uint256 amount) external onlyAuthorized nonZero(amount) {
        Stake storage s = _stakes[worker];
        if (s.free < amount) revert RegistryInsufficientFree(worker, s.free, amount);
        s.free -= uint128(amount);
        s.locked += uint128(amount);
        emit CollateralLocked(worker, msg.sender, amount);
    }

    /// @inheritdoc IWorkerRegistry
    function unlock(address worker, uint256 amount) external onlyAuthorized nonZero(amount) {
        Stake storage s = _stakes[worker];
        if (s.locked < amount) revert RegistryInsufficientLocked(worker, s.locked, amount);
        s.locked -= uint128(amount);
        s.free += uint128(amount);
        emit CollateralUnlocked(worker, msg.sender, amount);
    }

    /// @inheritdoc IWorkerRegistry
    function slash(address worker, uint256 amount) external onlyAuthorized nonZero(amount) nonReentrant {
        Stake storage s = _stakes[worker];
        if (s.locked < amount) revert RegistryInsufficientLocked(worker, s.locked, amount);
        s.locked -= uint128(amount);
        _reweigh(worker, s);
        emit StakeSlashed(worker, msg.sender, amount, true);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc IWorkerRegistry
    function penalize(address worker, uint256 amount) external onlyAuthorized nonReentrant returns (uint256 taken) {
        Stake storage s = _stakes[worker];
        taken = amount < s.free ? amount : s.free;
        if (taken == 0) return 0;
        s.free -= uint128(taken);
        _reweigh(worker, s);
        emit StakeSlashed(worker, msg.sender, taken, false);
        Address.sendValue(payable(msg.sender), taken);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IWorkerRegistry
    function draw(bytes32 modelId, uint256 seed) external view returns (address) {
        return _trees[modelId].draw(seed);
    }

    /// @inheritdoc IWorkerRegistry
    function weightOf(bytes32 modelId, address worker) external view returns (uint256) {
        return _trees[modelId].weightOf(worker);
    }

    /// @inheritdoc IWorkerRegistry
    function totalWeight(bytes32 modelId) external view returns (uint256) {
        return _trees[modelId].total();
    }

    /// @inheritdoc IWorkerRegistry
    function modelsOf(address worker) external view returns (bytes32[] memory) {
        return _modelsOf[worker];
    }

    /// @inheritdoc IWorkerRegistry
    function stakeOf(address worker) external view returns (Stake memory) {
        return _stakes[worker];
    }

    /// @dev a worker's draw weight is its bonded stake (free + locked) in every model it serves
    function _reweigh(address worker, Stake storage s) private {
        bytes32[] storage served = _modelsOf[worker];
        uint256 weight = uint256(s.free) + s.locked;
        for (uint256 i; i < served.length; ++i) {
            _trees[served[i]].update(worker, weight);
        }
    }
}
