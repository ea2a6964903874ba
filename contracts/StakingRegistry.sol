// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IStakingRegistry} from "./interfaces/IStakingRegistry.sol";

/// @title StakingRegistry
/// @notice Holds worker stake in native ETH. It has no owner: the market and the cooldown are
/// fixed at deployment, so nobody but the worker (and the market, for job collateral) can move it.
contract StakingRegistry is IStakingRegistry, ReentrancyGuard {
    using SafeCast for uint256;

    /// @notice Longest cooldown a deployment may choose.
    uint64 public constant MAX_COOLDOWN = 30 days;

    /// @inheritdoc IStakingRegistry
    address public immutable market;
    /// @inheritdoc IStakingRegistry
    uint64 public immutable cooldown;

    mapping(address worker => Stake) private _stakes;

    modifier onlyMarket() {
        if (msg.sender != market) revert StakingNotMarket(msg.sender);
        _;
    }

    /// @param market_ the job market; deploy scripts pass its precomputed address because the
    /// market itself takes this registry in its constructor
    /// @param cooldown_ seconds an unstake waits before it can be withdrawn
    constructor(address market_, uint64 cooldown_) {
        if (market_ == address(0)) revert StakingZeroMarket();
        if (cooldown_ > MAX_COOLDOWN) revert StakingCooldownTooLong(cooldown_, MAX_COOLDOWN);
        market = market_;
        cooldown = cooldown_;
        emit RegistryConfigured(market_, cooldown_);
    }

    /// @inheritdoc IStakingRegistry
    function stake() external payable {
        if (msg.value == 0) revert StakingZeroAmount();
        Stake storage s = _stakes[msg.sender];
        s.free += msg.value.toUint128();
        emit Staked(msg.sender, msg.value, s.free);
    }

    /// @inheritdoc IStakingRegistry
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert StakingZeroAmount();
        Stake storage s = _stakes[msg.sender];
        if (s.free < amount) revert StakingInsufficientFree(msg.sender, s.free, amount);
        uint64 unlockAt = uint64(block.timestamp) + cooldown;
        s.free -= uint128(amount);
        s.unstaking += uint128(amount);
        s.unlockAt = unlockAt;
        emit UnstakeRequested(msg.sender, amount, s.unstaking, unlockAt);
    }

    /// @inheritdoc IStakingRegistry
    function withdraw() external nonReentrant {
        Stake storage s = _stakes[msg.sender];
        uint256 amount = s.unstaking;
        if (amount == 0) revert StakingNothingToWithdraw(msg.sender);
        if (block.timestamp < s.unlockAt) revert StakingCooldownActive(msg.sender, s.unlockAt);
        s.unstaking = 0;
        s.unlockAt = 0;
        emit StakeWithdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc IStakingRegistry
    function lock(address worker, uint256 amount) external onlyMarket {
        if (amount == 0) revert StakingZeroAmount();
        Stake storage s = _stakes[worker];
        if (s.free < amount) revert StakingInsufficientFree(worker, s.free, amount);
        s.free -= uint128(amount);
        s.locked += uint128(amount);
        emit CollateralLocked(worker, amount);
    }

    /// @inheritdoc IStakingRegistry
    function unlock(address worker, uint256 amount) external onlyMarket {
        Stake storage s = _takeLocked(worker, amount);
        s.free += uint128(amount);
        emit CollateralUnlocked(worker, amount);
    }

    /// @inheritdoc IStakingRegistry
    function slash(address worker, uint256 amount) external onlyMarket nonReentrant {
        _takeLocked(worker, amount);
        emit CollateralSlashed(worker, amount);
        Address.sendValue(payable(market), amount);
    }

    /// @inheritdoc IStakingRegistry
    function stakeOf(address worker) external view returns (Stake memory) {
        return _stakes[worker];
    }

    function _takeLocked(address worker, uint256 amount) private returns (Stake storage s) {
        if (amount == 0) revert StakingZeroAmount();
        s = _stakes[worker];
        if (s.locked < amount) revert StakingInsufficientLocked(worker, s.locked, amount);
        s.locked -= uint128(amount);
    }
}
