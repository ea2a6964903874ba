// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IWorkerRegistry
/// @notice Worker stake, the models each worker serves, and stake-weighted random draws among
/// the workers of a model. Workers stake native ETH, join up to `MAX_MODELS` models, and
/// unstake through a cooldown. Only the market and the arbiter fixed at deployment may lock
/// free stake as collateral, unlock it, slash it, or take a no-show penalty.
/// A worker's draw weight for each model it serves is its bonded stake (`free + locked`):
/// locking collateral does not change the odds, unstaking and slashing lower them.
interface IWorkerRegistry {
    /// @notice A worker's stake, split by what it may be used for.
    /// @param free stake that can be locked as collateral or unstaked
    /// @param locked stake held as collateral by jobs or disputes in flight
    /// @param unstaking stake waiting for its cooldown to pass (no longer drawn, not slashable)
    /// @param unlockAt timestamp after which `unstaking` can be withdrawn
    struct Stake {
        uint128 free;
        uint128 locked;
        uint128 unstaking;
        uint64 unlockAt;
    }

    /// @notice Raised when a stake, unstake, lock, unlock or slash names zero wei.
    error RegistryZeroAmount();
    /// @notice Raised when `worker` has less free stake than `needed`.
    error RegistryInsufficientFree(address worker, uint256 free, uint256 needed);
    /// @notice Raised when `worker` has less locked stake than `needed`.
    error RegistryInsufficientLocked(address worker, uint256 locked, uint256 needed);
    /// @notice Raised when `worker` withdraws before `unlockAt`.
    error RegistryCooldownActive(address worker, uint256 unlockAt);
    /// @notice Raised when `worker` withdraws with nothing unstaking.
    error RegistryNothingToWithdraw(address worker);
    /// @notice Raised when `caller` is neither the market nor the arbiter.
    error RegistryNotAuthorized(address caller);
    /// @notice Raised when `worker` joins a model it already serves.
    error RegistryAlreadyServing(address worker, bytes32 modelId);
    /// @notice Raised when `worker` leaves a model it does not serve.
    error RegistryNotServing(address worker, bytes32 modelId);
    /// @notice Raised when `worker` already serves `max` models.
    error RegistryTooManyModels(address worker, uint256 max);
    /// @notice Raised when a worker joins a model that the model registry does not know.
    error RegistryUnknownModel(bytes32 modelId);
    /// @notice Raised by the constructor on a zero address or a cooldown above its bound.
    error RegistryBadConfig();

    /// @notice Emitted once by the constructor with the registry's fixed configuration.
    event RegistryConfigured(address indexed market, address indexed arbiter, address models, uint64 cooldown);
    /// @notice Emitted when `worker` adds `amount` to its stake; `free` is its free stake after.
    event Staked(address indexed worker, uint256 amount, uint256 free);
    /// @notice Emitted when `worker` moves `amount` from free stake into the cooldown.
    event UnstakeRequested(address indexed worker, uint256 amount, uint256 unstaking, uint64 unlockAt);
    /// @notice Emitted when `worker` withdraws `amount` of cooled-down stake.
    event StakeWithdrawn(address indexed worker, uint256 amount);
    /// @notice Emitted when `worker` starts serving `modelId` (and enters its draws).
    event ModelJoined(address indexed worker, bytes32 indexed modelId);
    /// @notice Emitted when `worker` stops serving `modelId`.
    event ModelLeft(address indexed worker, bytes32 indexed modelId);
    /// @notice Emitted when `worker` sets where it publishes results and how many jobs it takes at once.
    event ProfileUpdated(address indexed worker, string endpoint, uint32 capacity);
    /// @notice Emitted when `by` (market or arbiter) locks `amount` of `worker`'s free stake.
    event CollateralLocked(address indexed worker, address indexed by, uint256 amount);
    /// @notice Emitted when `by` returns `amount` of `worker`'s locked stake to free.
    event CollateralUnlocked(address indexed worker, address indexed by, uint256 amount);
    /// @notice Emitted when `by` slashes `amount` of `worker`'s stake; the ETH is sent to `by`.
    event StakeSlashed(address indexed worker, address indexed by, uint256 amount, bool fromLocked);

    /// @notice Adds `msg.value` to the caller's free stake.
    function stake() external payable;

    /// @notice Moves `amount` of free stake into the cooldown; restarts the cooldown of any stake
    /// already unstaking.
    /// @param amount wei to unstake
    function requestUnstake(uint256 amount) external;

    /// @notice Sends the caller all of its unstaking stake once the cooldown has passed.
    function withdraw() external;

    /// @notice Enters the caller into the draws of `modelId` (a model known to the model registry).
    /// @param modelId the model to serve
    function joinModel(bytes32 modelId) external;

    /// @notice Removes the caller from the draws of `modelId`. Jobs already accepted are unaffected.
    /// @param modelId the model to stop serving
    function leaveModel(bytes32 modelId) external;

    /// @notice Sets the caller's public profile: where it serves results, and a capacity hint.
    /// @param endpoint base URL of the worker's result API (may be empty)
    /// @param capacity how many jobs the worker takes at once (a hint for requesters and tools)
    function setProfile(string calldata endpoint, uint32 capacity) external;

    /// @notice Locks `amount` of `worker`'s free stake as collateral. Market or arbiter only.
    /// @param worker the worker whose stake is locked
    /// @param amount wei to lock
    function lock(address worker, uint256 amount) external;

    /// @notice Returns `amount` of `worker`'s locked stake to free stake. Market or arbiter only.
    /// @param worker the worker whose collateral is released
    /// @param amount wei to unlock
    function unlock(address worker, uint256 amount) external;

    /// @notice Removes `amount` of `worker`'s locked stake and sends it to the caller. Market or arbiter only.
    /// @param worker the worker being slashed
    /// @param amount wei to slash
    function slash(address worker, uint256 amount) external;

    /// @notice Takes up to `amount` of `worker`'s free stake (a no-show or non-voter penalty) and
    /// sends it to the caller. Market or arbiter only. Never reverts for lack of free stake.
    /// @param worker the worker being penalised
    /// @param amount the most wei to take
    /// @return taken the wei actually taken (`min(amount, free)`)
    function penalize(address worker, uint256 amount) external returns (uint256 taken);

    /// @notice Draws one worker of `modelId`, with probability proportional to its weight.
    /// @param modelId the model whose workers are drawn
    /// @param seed a random number; equal seeds draw the same worker while weights are unchanged
    /// @return worker the worker drawn, or address(0) when nobody serves the model
    function draw(bytes32 modelId, uint256 seed) external view returns (address worker);

    /// @notice The draw weight of `worker` for `modelId` (zero when it does not serve it).
    /// @param modelId the model
    /// @param worker the worker
    /// @return the worker's weight
    function weightOf(bytes32 modelId, address worker) external view returns (uint256);

    /// @notice The sum of the weights of every worker serving `modelId`.
    /// @param modelId the model
    /// @return the total weight
    function totalWeight(bytes32 modelId) external view returns (uint256);

    /// @notice The models `worker` serves.
    /// @param worker the worker
    /// @return the model ids, in no particular order
    function modelsOf(address worker) external view returns (bytes32[] memory);

    /// @notice The stake of `worker`.
    /// @param worker the worker to look up
    /// @return the worker's stake record
    function stakeOf(address worker) external view returns (Stake memory);

    /// @notice The job market allowed to lock, unlock, slash and penalise.
    /// @return the market's address
    function market() external view returns (address);

    /// @notice The arbiter allowed to lock, unlock, slash and penalise (verifier deposits).
    /// @return the arbiter's address
    function arbiter() external view returns (address);

    /// @notice Seconds between an unstake request and its withdrawal.
    /// @return the cooldown in seconds
    function cooldown() external view returns (uint64);
}
