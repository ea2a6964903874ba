// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IWorkerRegistry} from "../../../contracts/interfaces/IWorkerRegistry.sol";

/// @notice Test stand-in for the worker registry: same ETH accounting and authorisation, draws by
/// a linear cumulative-weight scan over every worker of a model (fine for tests, O(n)).
contract RegistryDouble is IWorkerRegistry {
    address public immutable market;
    address public immutable arbiter;
    uint64 public constant cooldown = 1 days;

    mapping(address => Stake) private _stakes;
    mapping(bytes32 => address[]) private _pool;
    mapping(bytes32 => mapping(address => bool)) private _serving;

    constructor(address market_, address arbiter_) {
        market = market_;
        arbiter = arbiter_;
    }

    modifier onlyAuthorized() {
        if (msg.sender != market && msg.sender != arbiter) revert RegistryNotAuthorized(msg.sender);
        _;
    }

    function stake() external payable {
        _stakes[msg.sender].free += uint128(msg.value);
        emit Staked(msg.sender, msg.value, _stakes[msg.sender].free);
    }

    function requestUnstake(uint256 amount) external {
        Stake storage s = _stakes[msg.sender];
        if (s.free < amount) revert RegistryInsufficientFree(msg.sender, s.free, amount);
        s.free -= uint128(amount);
        s.unstaking += uint128(amount);
        s.unlockAt = uint64(block.timestamp) + cooldown;
    }

    function withdraw() external {
        Stake storage s = _stakes[msg.sender];
        uint256 amount = s.unstaking;
        s.unstaking = 0;
        payable(msg.sender).transfer(amount);
    }

    function joinModel(bytes32 modelId) external {
        if (_serving[modelId][msg.sender]) revert RegistryAlreadyServing(msg.sender, modelId);
        _serving[modelId][msg.sender] = true;
        _pool[modelId].push(msg.sender);
        emit ModelJoined(msg.sender, modelId);
    }

    function leaveModel(bytes32 modelId) external {
        if (!_serving[modelId][msg.sender]) revert RegistryNotServing(msg.sender, modelId);
        _serving[modelId][msg.sender] = false;
        address[] storage pool = _pool[modelId];
        for (uint256 i; i < pool.length; ++i) {
            if (pool[i] == msg.sender) {
                pool[i] = pool[pool.length - 1];
                pool.pop();
                break;
            }
        }
    }

    function setProfile(string calldata endpoint, uint32 capacity) external {
        emit ProfileUpdated(msg.sender, endpoint, capacity);
    }

    function lock(address worker, uint256 amount) external onlyAuthorized {
        Stake storage s = _stakes[worker];
        if (s.free < amount) revert RegistryInsufficientFree(worker, s.free, amount);
        s.free -= uint128(amount);
        s.locked += uint128(amount);
    }

    function unlock(address worker, uint256 amount) external onlyAuthorized {
        Stake storage s = _stakes[worker];
        if (s.locked < amount) revert RegistryInsufficientLocked(worker, s.locked, amount);
        s.locked -= uint128(amount);
        s.free += uint128(amount);
    }

    function slash(address worker, uint256 amount) external onlyAuthorized {
        Stake storage s = _stakes[worker];
        if (s.locked < amount) revert RegistryInsufficientLocked(worker, s.locked, amount);
        s.locked -= uint128(amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        require(ok);
    }

    function penalize(address worker, uint256 amount) external onlyAuthorized returns (uint256 taken) {
        Stake storage s = _stakes[worker];
        taken = amount < s.free ? amount : s.free;
        s.free -= uint128(taken);
        if (taken != 0) {
            (bool ok,) = msg.sender.call{value: taken}("");
            require(ok);
        }
    }

    function draw(bytes32 modelId, uint256 seed) external view returns (address) {
        uint256 total = totalWeight(modelId);
        if (total == 0) return address(0);
        uint256 value = seed % total;
        address[] storage pool = _pool[modelId];
        for (uint256 i; i < pool.length; ++i) {
            uint256 w = weightOf(modelId, pool[i]);
            if (value < w) return pool[i];
            value -= w;
        }
        return address(0);
    }

    function weightOf(bytes32 modelId, address worker) public view returns (uint256) {
        if (!_serving[modelId][worker]) return 0;
        Stake storage s = _stakes[worker];
        return uint256(s.free) + s.locked;
    }

    function totalWeight(bytes32 modelId) public view returns (uint256 total) {
        address[] storage pool = _pool[modelId];
        for (uint256 i; i < pool.length; ++i) {
            total += weightOf(modelId, pool[i]);
        }
    }

    function modelsOf(address) external pure returns (bytes32[] memory) {
        return new bytes32[](0);
    }

    function stakeOf(address worker) external view returns (Stake memory) {
        return _stakes[worker];
    }
}
