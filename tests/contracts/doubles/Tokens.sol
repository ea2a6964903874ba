// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A plain mintable token for tests.
contract TestToken is ERC20 {
    constructor() ERC20("Test", "TST") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice A token that burns 1% of every transfer, which the market must refuse.
contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Fee", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 burned = value / 100;
            super._update(from, address(0), burned);
            value -= burned;
        }
        super._update(from, to, value);
    }
}

/// @notice Consumers that misbehave in the callback.
contract RevertingConsumer {
    function onJobSettled(uint256, bool, bytes32, bytes calldata) external pure {
        revert("no");
    }
}

contract GasBurningConsumer {
    function onJobSettled(uint256, bool, bytes32, bytes calldata) external pure {
        while (true) {}
    }
}
