// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IStakingRegistry
/// @notice Worker collateral for Assay. Workers stake native ETH, request an unstake and
/// withdraw it after a cooldown. Only the job market can lock free stake as per-job
/// collateral, unlock it, or slash locked collateral.
interface IStakingRegistry {
    /// @notice A worker's stake, split by what it may be used for.
    /// @param free stake that can be locked by a job or unstaked
    /// @param locked stake held as collateral by jobs in flight
    /// @param unstaking stake waiting for its cooldown to pass
    /// @param unlockAt timestamp after which `unstaking` can be withdrawn
    struct Stake {
        uint128 free;
        uint128 locked;
        uint128 unstaking;
        uint64 unlockAt;
    }

    /// @notice Raised when a stake, unstake, lock or slash names zero wei.
    error StakingZeroAmount();
    /// @notice Raised when `worker` has less free stake than `needed`.
    error StakingInsufficientFree(address worker, uint256 free, uint256 needed);
    /// @notice Raised when `worker` has less locked stake than `needed`.
    error StakingInsufficientLocked(address worker, uint256 locked, uint256 needed);
    /// @notice Raised when `worker` withdraws before `unlockAt`.
    error StakingCooldownActive(address worker, uint256 unlockAt);
    /// @notice Raised when `worker` withdraws with nothing unstaking.
    error StakingNothingToWithdraw(address worker);
    /// @notice Raised when `caller` is not the job market.
    error StakingNotMarket(address caller);
    /// @notice Raised by the constructor on a zero market address.
    error StakingZeroMarket();
    /// @notice Raised by the constructor when `cooldown` exceeds `max`.
    error StakingCooldownTooLong(uint256 cooldown, uint256 max);

    /// @notice Emitted once by the constructor with the registry's fixed configuration.
    event RegistryConfigured(address indexed market, uint64 cooldown);
    /// @notice Emitted when `worker` adds `amount` to its stake; `free` is its free stake after.
    event Staked(address indexed worker, uint256 amount, uint256 free);
    /// @notice Emitted when `worker` moves `amount` from free stake into the cooldown.
    event UnstakeRequested(address indexed worker, uint256 amount, uint256 unstaking, uint64 unlockAt);
    /// @notice Emitted when `worker` withdraws `amount` of cooled-down stake.
    event StakeWithdrawn(address indexed worker, uint256 amount);
    /// @notice Emitted when the market locks `amount` of `worker`'s free stake.
    event CollateralLocked(address indexed worker, uint256 amount);
    /// @notice Emitted when the market returns `amount` of `worker`'s locked stake to free.
    event CollateralUnlocked(address indexed worker, uint256 amount);
    /// @notice Emitted when the market slashes `amount` of `worker`'s locked stake (sent to the market).
    event CollateralSlashed(address indexed worker, uint256 amount);

    /// @notice Adds `msg.value` to the caller's free stake.
    function stake() external payable;

    /// @notice Moves `amount` of free stake into the cooldown; restarts the cooldown of any stake
    /// already unstaking.
    /// @param amount wei to unstake
    function requestUnstake(uint256 amount) external;

    /// @notice Sends the caller all of its unstaking stake once the cooldown has passed.
    function withdraw() external;

    /// @notice Locks `amount` of `worker`'s free stake as job collateral. Market only.
    /// @param worker the worker whose stake is locked
    /// @param amount wei to lock
    function lock(address worker, uint256 amount) external;

    /// @notice Returns `amount` of `worker`'s locked stake to free stake. Market only.
    /// @param worker the worker whose collateral is released
    /// @param amount wei to unlock
    function unlock(address worker, uint256 amount) external;

    /// @notice Removes `amount` of `worker`'s locked stake and sends it to the market. Market only.
    /// @param worker the worker being slashed
    /// @param amount wei to slash
    function slash(address worker, uint256 amount) external;

    /// @notice The job market allowed to lock, unlock and slash.
    /// @return the market's address
    function market() external view returns (address);

    /// @notice Seconds between an unstake request and its withdrawal.
    /// @return the cooldown in seconds
    function cooldown() external view returns (uint64);

    /// @notice The stake of `worker`.
    /// @param worker the worker to look up
    /// @return the worker's stake record
    function stakeOf(address worker) external view returns (Stake memory);
}
